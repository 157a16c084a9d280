/**
 * Maintainers' changes to index-data: every change of a label, publisher,
 * pin or state is appended to the audit log first, then written to the
 * entry (by temp file and rename). A crash between the two leaves a log that
 * says more than the entry: `index validate` reports it, nothing is lost.
 */
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { canonical } from '../contract/index.js';
import { McsError } from '../errors.js';
import { makeDirs, readFileCapped, writeAtomic } from '../files.js';
import { assertFitsIndex, readEntry } from '../index/build.js';
import { listSources } from '../index/sources.js';
import type { IndexEntry, Label, Permission } from '../manifest/types.js';
import { assertIndexEntry } from '../manifest/validate.js';
import { assertWritableIndexDir } from './target.js';
import { labelShortfalls, describeShortfalls } from './labels.js';
import { GENESIS, LOG_FILE, TRACKED_FIELDS, adoptionRecord, trackingRecords, untrackedFields, appendLines, changes, changesFromLog, unexplained, type LogRecord, type LogScan, type RecordSigner, type TrackedField } from './log.js';
import { indexRootOf, logKeysOf, maintainerSigner, previousRootKeys, scanIndexLog } from './log-file.js';

export interface ChangeAuthor {
  /** Who, for an index whose log is not signed yet; with a key, `by` is the name the index root gives it (another name is refused). */
  by?: string;
  why: string;
  /** The maintainer's private key: it signs every record of the change; the index root kept in the folder (root.json) must list it. */
  key?: KeyObject;
  now?: Date;
}

/** The author of a change as it is recorded: `by` from the key when there is one. */
interface Author {
  by: string;
  why: string;
  now?: Date;
  signer?: RecordSigner;
}

/**
 * Who makes a change: with a key, the maintainer the index root (root.json in
 * the folder) names for it, and the records are signed; without one, the
 * `by` typed, only while the index keeps no root and its log is not signed
 * (E_LOG_UNSIGNED otherwise: an unsigned record would be refused by validate).
 */
function resolveAuthor(indexDir: string, author: ChangeAuthor, log: LogScan, adopting = false): Author {
  if (!author.why?.trim()) throw new McsError('E_USAGE', 'every change needs a reason (--reason), which goes into the audit log', {});
  // one clock reading per change: the records and the entry's notes (label.at, yanked.at) say the same time
  const base = { why: author.why, now: author.now ?? new Date() };
  const root = indexRootOf(indexDir);
  if (author.key) {
    if (!root) throw new McsError('E_USAGE', `${indexDir} keeps no index root (root.json) listing the maintainers' keys, so a signed change could not be checked; write it there (mcs-pkg index root --out ${indexDir}/root.json ...), then sign with --key`, { details: { indexDir } });
    const signer = maintainerSigner(author.key, root.root, root.source);
    if (author.by && author.by !== signer.by) throw new McsError('E_USAGE', `--by ${author.by}, but the index root names this key ${signer.by}: who made a change comes from the key; leave --by out`, { details: { by: author.by, key: signer.by } });
    if (log.records > 0 && log.adoptedAt === null && !adopting) {
      throw new McsError('E_LOG_UNSIGNED', `${indexDir}: its audit log is not signed yet; adopt it once, after reviewing it: mcs-pkg index log --upgrade --key FILE --reason TEXT`, { details: { indexDir } });
    }
    return { ...base, by: signer.by, signer };
  }
  if (root || log.adoptedAt !== null) {
    throw new McsError('E_LOG_UNSIGNED', `${indexDir} signs its audit log: give your maintainer key (--key FILE, or MCS_PKG_MAINTAINER_KEY=FILE); nothing was changed`, { details: { indexDir } });
  }
  if (!author.by?.trim()) throw new McsError('E_USAGE', 'every change needs who made it and why (--by, --reason), or a maintainer key (--key)', {});
  return { ...base, by: author.by };
}

/** The name a change by `author` will be recorded under (for a draft shown before the change is made): the root's name for the key, else `by`. */
export function authorName(indexDir: string, author: ChangeAuthor): string {
  const root = author.key ? indexRootOf(indexDir) : undefined;
  return root && author.key ? maintainerSigner(author.key, root.root, root.source).by : author.by ?? '';
}

/** A state note (yank, deprecation, hold, label) signed by the author of the change. */
function stamp(author: Author): { by: string; at: string } {
  return { by: author.by, at: (author.now ?? new Date()).toISOString() };
}

/** The log records of `diff` for one package, by the author. */
function authored(author: Author, id: string, diff: ReturnType<typeof changes>): Array<Omit<LogRecord, 'seq' | 'prev'>> {
  const { at } = stamp(author);
  return diff.map((change) => ({ at, by: author.by, why: author.why, package: id, ...change }));
}

const LOCK_FILE = 'audit.log.lock';
/** How long a change waits for another one to the same index to finish. */
export const LOG_LOCK_WAIT_MS = 5000;

/** A lock left by a process that is gone (or by an earlier run with this same pid, as in a container) does not hold anyone up. */
function staleLock(content: string, mtimeMs: number): boolean {
  const pid = Number.parseInt(content, 10);
  if (!Number.isSafeInteger(pid) || pid <= 0) return Date.now() - mtimeMs > 60_000;
  if (pid === process.pid) return true; // not re-entrant: this process holds no lock while it asks for one
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** What the lock file holds now, or null when there is none. */
function lockState(file: string): { content: string; mtimeMs: number } | null {
  try {
    return { content: readFileCapped(file, 4096, 'lock file').toString('utf8'), mtimeMs: statSync(file).mtimeMs };
  } catch {
    return null;
  }
}

/** Removes a stale lock only if it is still the one judged stale: it is moved aside first, and put back if another process took the lock meanwhile. */
function breakStaleLock(file: string, judged: string): void {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // gone already
  }
  if (lockState(aside)?.content !== judged) {
    try {
      linkSync(aside, file);
    } catch {
      // someone holds a newer lock; theirs stands
    }
  }
  rmSync(aside, { force: true });
}

/**
 * One change to an index at a time: the read of the entry and the log, the
 * append and the entry write happen under an exclusive lock file, so two
 * maintainers' commands on one folder cannot both append record n+1. The
 * folder is created only when `create` (a first entry, a new log).
 */
function withLogLock<T>(indexDir: string, fn: () => T, create = false): T {
  assertWritableIndexDir(indexDir);
  if (!existsSync(indexDir)) {
    if (!create) return fn(); // nothing to change there: fn says so (E_NOT_FOUND)
    makeDirs(indexDir, 'index folder');
  }
  const file = join(indexDir, LOCK_FILE);
  const token = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  const deadline = Date.now() + LOG_LOCK_WAIT_MS;
  for (;;) {
    try {
      writeFileSync(file, token, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new McsError('E_INDEX_IO', `cannot lock ${file}: ${(error as Error).message}`, { cause: error, details: { file } });
      const state = lockState(file);
      if (!state) continue;
      if (staleLock(state.content, state.mtimeMs)) {
        breakStaleLock(file, state.content);
        continue;
      }
      if (Date.now() > deadline) {
        throw new McsError('E_LOG_LOCKED', `${file}: another change to this index is in progress (pid ${Number.parseInt(state.content, 10) || 'unknown'}); try again when it is done, or remove the file if no mcs-pkg is running`, { details: { file } });
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    return fn();
  } finally {
    if (lockState(file)?.content === token) rmSync(file, { force: true });
  }
}

/** The records that mark fields tracked from now on, by this author. */
function marked(author: Author, fields: readonly TrackedField[]): Array<Omit<LogRecord, 'seq' | 'prev'>> {
  const { at } = stamp(author);
  return trackingRecords(fields).map((record) => ({ ...record, at, by: author.by, why: author.why }));
}

function entryPath(indexDir: string, spec: string): { rel: string; ecosystem: 'npm' | 'pypi'; name: string } {
  const match = /^(npm|pypi):(.+)$/.exec(spec);
  const name = match?.[2] ?? spec;
  const candidates = (match ? [match[1] as 'npm' | 'pypi'] : (['npm', 'pypi'] as const)).filter((eco) => existsSync(join(indexDir, eco, `${name}.json`)));
  if (candidates.length === 0) throw new McsError('E_NOT_FOUND', `${match ? spec : name} is not in ${indexDir}`, { details: { name } });
  if (candidates.length > 1) throw new McsError('E_AMBIGUOUS', `${name} is both an npm and a PyPI entry; say npm:${name} or pypi:${name}`, { details: { name } });
  const ecosystem = candidates[0]!;
  return { rel: `${ecosystem}/${name}.json`, ecosystem, name };
}

/** The log records of one package (named as `index label` takes it), or of all; E_NOT_FOUND for a package the index does not have. */
export function packageLog(indexDir: string, spec?: string): LogRecord[] {
  if (spec === undefined) return loadLog(indexDir).records;
  let id: string | undefined;
  try {
    const { ecosystem, name } = entryPath(indexDir, spec);
    id = `${ecosystem}:${name}`;
  } catch (error) {
    // a package whose file is gone still has its history
    const history = scanLog(indexDir, (r) => r.package === spec || r.package.endsWith(`:${spec}`)).kept;
    if (error instanceof McsError && error.code === 'E_NOT_FOUND' && history.length > 0) return history;
    throw error;
  }
  return scanLog(indexDir, (r) => r.package === id).kept;
}

/** The log of an index folder read a line at a time, its chain checked, and its signatures against the folder's root when it keeps one. */
function scanLog(indexDir: string, keep?: (record: LogRecord) => boolean, previousRoots?: readonly string[]): LogScan {
  const root = indexRootOf(indexDir);
  if (previousRoots && previousRoots.length > 0 && !root) throw new McsError('E_USAGE', `${indexDir} keeps no index root (root.json) for the previous roots to have rotated to`, { details: { indexDir } });
  const previousKeys = previousRoots && root ? previousRootKeys(previousRoots, root) : undefined;
  return scanIndexLog(indexDir, { ...(root ? { keys: logKeysOf(root.root) } : {}), ...(keep ? { keep } : {}), ...(previousKeys ? { previousKeys } : {}) });
}

/** The whole log as records, checked; [] when there is none yet. For small logs: large ones are read with scanLogFile. */
export function loadLog(indexDir: string): { records: LogRecord[]; lastLine?: string } {
  const scan = scanLog(indexDir, () => true);
  return { records: scan.kept, ...(scan.lastLine !== undefined ? { lastLine: scan.lastLine } : {}) };
}

function appendToLog(indexDir: string, author: Author, records: Array<Omit<LogRecord, 'seq' | 'prev'>>, log: LogScan): LogRecord[] {
  // a new log opens by marking every field it tracks, so a field that stays empty for a while is still guarded; signed from
  // its first record when the author signs
  const opening = log.records === 0 && (records.length > 0 || author.signer) ? [...(author.signer ? [{ ...adoptionRecord(0, GENESIS), at: stamp(author).at, by: author.by, why: author.why }] : []), ...marked(author, TRACKED_FIELDS)] : [];
  const lines = appendLines(log.lastLine, log.records, [...opening, ...records], author.signer);
  const fd = openSync(join(indexDir, LOG_FILE), 'a');
  try {
    writeSync(fd, lines.map((l) => l + '\n').join(''));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return lines.map((l) => JSON.parse(l) as LogRecord);
}

function writeEntryAtomic(file: string, entry: IndexEntry): void {
  writeAtomic(file, JSON.stringify(entry, null, 2) + '\n');
}

/** Refuses a change to an entry the log does not explain (a hand edit, or an entry never logged): E_LOG_UNEXPLAINED. */
function assertExplained(entry: IndexEntry, log: LogScan): void {
  const id = `${entry.ecosystem}:${entry.name}`;
  const gap = unexplained([entry], log).find((g) => g.package === id);
  if (!gap) return;
  throw new McsError('E_LOG_UNEXPLAINED', gap.kind === 'edited' ? `${gap.message}; nothing was changed (review it, then put the value back or log it)` : `${gap.message}; nothing was changed`, { details: { package: id, key: gap.key } });
}

/** Checks, before any work on them, that the log explains these entries of an index folder (E_LOG_UNEXPLAINED otherwise). */
export function assertEntriesExplained(indexDir: string, entries: IndexEntry[]): void {
  const log = scanLog(indexDir);
  for (const entry of entries) assertExplained(entry, log);
}

/** Applies `mutate` to an entry, logs every tracked change it makes, then writes the entry; returns the records. */
function recordChangeUnlocked(indexDir: string, spec: string, author: ChangeAuthor, mutate: (entry: IndexEntry, author: Author) => IndexEntry): LogRecord[] {
  const log = scanLog(indexDir);
  const who = resolveAuthor(indexDir, author, log);
  const { rel, ecosystem, name } = entryPath(indexDir, spec);
  const before = readEntry(indexDir, rel);
  assertExplained(before, log);
  const after = mutate(structuredClone(before), who);
  assertIndexEntry(after, join(indexDir, rel));
  // no change leaves a label whose rules the entry no longer meets (a version without provenance pinned under Verified)
  const shortfalls = labelShortfalls(after);
  if (shortfalls.length > 0) {
    throw new McsError('E_LABEL_REQUIREMENTS', `${ecosystem}:${name} would stay labelled ${after.label.value} without meeting its rules: ${describeShortfalls(shortfalls)}; nothing was changed (set another label first)`, { details: { failures: shortfalls } });
  }
  // the entry agrees with the log (checked above), bar what an older log's package-wide declaration explains: diff from the log
  const diff = changesFromLog(log.state.get(`${ecosystem}:${name}`)!, after);
  if (diff.length === 0) return [];
  assertFitsIndex(indexDir, after, before);
  const records = appendToLog(indexDir, who, authored(who, `${ecosystem}:${name}`, diff), log);
  writeEntryAtomic(join(indexDir, rel), after);
  return records;
}

/** Writes a new entry and logs every tracked value of it; refuses a package the index already has. */
function recordNewEntryUnlocked(indexDir: string, draft: IndexEntry, author: ChangeAuthor): LogRecord[] {
  const log = scanLog(indexDir);
  const who = resolveAuthor(indexDir, author, log);
  // the label's notes are what its first record says: who, when, why
  const entry: IndexEntry = { ...draft, label: { value: draft.label.value, ...stamp(who), reason: who.why } };
  const rel = `${entry.ecosystem}/${entry.name}.json`;
  const file = join(indexDir, rel);
  assertIndexEntry(entry, file);
  if (existsSync(file)) throw new McsError('E_ALREADY_INDEXED', `${entry.ecosystem}:${entry.name} is already in ${indexDir}; change it with index label, yank, deprecate or quarantine`, { details: { name: entry.name } });
  if (!existsSync(join(indexDir, LOG_FILE)) && listSources(indexDir).sources.length > 0) {
    throw new McsError('E_LOG_UNEXPLAINED', `${indexDir} has entries but no audit log yet; start it with mcs-pkg index log --init --by WHO --reason TEXT, then add`, { details: { indexDir } });
  }
  const shortfalls = labelShortfalls(entry);
  if (shortfalls.length > 0) throw new McsError('E_LABEL_REQUIREMENTS', `${entry.ecosystem}:${entry.name} cannot join as ${entry.label.value}: ${describeShortfalls(shortfalls)}`, { details: { failures: shortfalls } });
  assertFitsIndex(indexDir, entry);
  mkdirSync(join(indexDir, entry.ecosystem), { recursive: true });
  const records = appendToLog(indexDir, who, authored(who, `${entry.ecosystem}:${entry.name}`, changes(undefined, entry)), log);
  writeEntryAtomic(file, entry);
  return records;
}

/** Logs every entry the log does not know yet, as it is: how an existing index starts its log. */
function initLogUnlocked(indexDir: string, author: ChangeAuthor): LogRecord[] {
  const log = scanLog(indexDir);
  const who = resolveAuthor(indexDir, author, log);
  const known = log.packages;
  const fresh = listSources(indexDir).sources.map((source) => readEntry(indexDir, source.path)).filter((entry) => !known.has(`${entry.ecosystem}:${entry.name}`));
  // Verified is set only by index label verified, which checks every live version against the registry: a hand-written
  // Verified joins the log as community (or reference) first; later, a hand-written entry joins as Community
  const labelled = fresh.filter((entry) => entry.label.value === 'verified' || (log.records > 0 && entry.label.value !== 'community'));
  if (labelled.length > 0) {
    throw new McsError('E_LABEL_REQUIREMENTS', `${labelled.map((e) => `${e.ecosystem}:${e.name} (${e.label.value})`).join(', ')}: ${log.records > 0 ? 'a package joins the audit log as community' : 'the audit log does not start with a Verified label, which only index label verified sets, after checking every live version against the registry'}; set its label to ${log.records > 0 ? 'community' : 'community or reference'}, log it, then run mcs-pkg index label; nothing was changed`, { details: { packages: labelled.map((e) => `${e.ecosystem}:${e.name}`) } });
  }
  // signed, the label's notes become what its record says (who logged it, when, why), as a client shows them
  const logged = who.signer ? fresh.map((entry) => ({ ...entry, label: { value: entry.label.value, ...stamp(who), reason: who.why } })) : fresh;
  const additions = logged.flatMap((entry) => authored(who, `${entry.ecosystem}:${entry.name}`, changes(undefined, entry)));
  // a new, empty index started with a key still gets its log: the signed adoption record a publish needs
  if (additions.length === 0 && (log.records > 0 || !who.signer)) return [];
  const records = appendToLog(indexDir, who, additions, log);
  if (who.signer) for (const entry of logged) writeEntryAtomic(join(indexDir, `${entry.ecosystem}/${entry.name}.json`), entry);
  return records;
}

/**
 * After an upgrade of mcs-pkg: records the current values of the fields the
 * log has never recorded, for the packages already in it, and marks those
 * fields tracked from now on; signed with a maintainer key, it first adopts
 * an unsigned log into signing (one signed record naming the head of the
 * records before it, which from then on must all be signed). A maintainer
 * runs it after reviewing those values and records; nothing else is recorded.
 */
function upgradeLogUnlocked(indexDir: string, author: ChangeAuthor, options: UpgradeOptions): LogRecord[] {
  const log = scanLog(indexDir, undefined, options.previousRoots ?? []);
  const who = resolveAuthor(indexDir, author, log, true);
  if (log.records === 0) throw new McsError('E_USAGE', `${indexDir} keeps no audit log yet; start one with mcs-pkg index log --init`, { details: { indexDir } });
  // adopted once into signing; adopted again after a rotation, so the records of keys rotated out (checked against the
  // previous roots given) stay vouched for; the adoption names what it vouches for
  const pending = log.pending;
  const vouched = pending ? { count: pending.count, first: pending.first, last: pending.last, signers: [...pending.signers].sort() } : null;
  const adoption = who.signer && vouched ? [{ ...adoptionRecord(log.records, log.head, vouched), at: stamp(who).at, by: who.by, why: who.why }] : [];
  const fields = untrackedFields(log);
  if (fields.length === 0 && adoption.length === 0) return [];
  const wanted = new Set<string>(fields);
  const values = fields.length === 0 ? [] : listSources(indexDir).sources.flatMap((source) => {
    const entry = readEntry(indexDir, source.path);
    const id = `${entry.ecosystem}:${entry.name}`;
    return log.packages.has(id) ? authored(who, id, changes(undefined, entry).filter((change) => wanted.has(change.field))) : [];
  });
  return appendToLog(indexDir, who, [...adoption, ...marked(who, fields), ...values], log);
}

export interface UpgradeOptions {
  /** Index roots the folder's root.json rotated from: records by their maintainer keys are checked against them and vouched for. */
  previousRoots?: readonly string[];
}

/** Applies `mutate` to an entry, logs every tracked change it makes, then writes the entry; returns the records. */
export function recordChange(indexDir: string, spec: string, author: ChangeAuthor, mutate: (entry: IndexEntry, author: Author) => IndexEntry): LogRecord[] {
  return withLogLock(indexDir, () => recordChangeUnlocked(indexDir, spec, author, mutate));
}

/** Writes a new entry and logs every tracked value of it; refuses a package the index already has. */
export function recordNewEntry(indexDir: string, entry: IndexEntry, author: ChangeAuthor): LogRecord[] {
  return withLogLock(indexDir, () => recordNewEntryUnlocked(indexDir, entry, author), true);
}

/** Starts the log from the entries as they are; on an existing log, takes hand-written Community entries it does not know yet. */
export function initLog(indexDir: string, author: ChangeAuthor): LogRecord[] {
  return withLogLock(indexDir, () => initLogUnlocked(indexDir, author), true);
}

/** Records the fields a newer mcs-pkg tracks that the log never has (see upgradeLogUnlocked). */
export function upgradeLog(indexDir: string, author: ChangeAuthor, options: UpgradeOptions = {}): LogRecord[] {
  return withLogLock(indexDir, () => upgradeLogUnlocked(indexDir, author, options));
}

function markVersion(indexDir: string, spec: string, version: string, author: ChangeAuthor, field: 'yanked' | 'deprecated'): LogRecord[] {
  return recordChange(indexDir, spec, author, (entry, who) => {
    const record = entry.versions[version];
    if (!record || !Object.hasOwn(entry.versions, version)) throw new McsError('E_VERSION_NOT_FOUND', `${entry.name}@${version} is not pinned in the index`, { details: { version } });
    record[field] = { reason: who.why, ...stamp(who) };
    return entry;
  });
}

/** Yanks a version: loaders and resolution refuse it; the reason is shown. */
export function yankVersion(indexDir: string, spec: string, version: string, author: ChangeAuthor): LogRecord[] {
  return markVersion(indexDir, spec, version, author, 'yanked');
}

/** Marks a version deprecated (shown, still loadable). */
export function deprecateVersion(indexDir: string, spec: string, version: string, author: ChangeAuthor): LogRecord[] {
  return markVersion(indexDir, spec, version, author, 'deprecated');
}

/** Puts the whole package on a security hold (or lifts it): loaders refuse it, search shows it. */
export function setQuarantine(indexDir: string, spec: string, hold: boolean, author: ChangeAuthor): LogRecord[] {
  return recordChange(indexDir, spec, author, (entry, who) => {
    if (hold) entry.quarantine = { reason: who.why, ...stamp(who) };
    else delete entry.quarantine;
    return entry;
  });
}

/**
 * Declares what the package's drivers need (the permission tags the host
 * confines them to): exactly `permissions`, replacing what was declared; an
 * empty list declares nothing. A signed change like any other, so a client's
 * grants follow the reviewed index, never a hand edit.
 */
export function setPermissions(indexDir: string, spec: string, permissions: readonly Permission[], author: ChangeAuthor): LogRecord[] {
  const wanted = [...new Set(permissions)].sort();
  return recordChange(indexDir, spec, author, (entry) => {
    const { permissions: _old, ...rest } = entry.security ?? {};
    const security = { ...rest, ...(wanted.length > 0 ? { permissions: wanted } : {}) };
    if (Object.keys(security).length > 0) entry.security = security;
    else delete entry.security;
    return entry;
  });
}

export interface LabelCheck {
  /** Versions that must verify, with the reason each failed (empty when all passed). */
  failures: Array<{ version: string; codes: string[] }>;
  /** Versions published without provenance (recorded with a Reference label). */
  withoutProvenance: string[];
}

/**
 * Sets the label. Verified needs a pinned publisher and every non-yanked
 * version verifying against it now; Reference needs the same of every
 * version that has provenance, and records which have none. `verify` checks
 * versions (the registry verification, injected so the rule stays testable).
 */
export async function setLabel(indexDir: string, spec: string, value: Label, author: ChangeAuthor, verify: (name: string, versions: string[], ecosystem: 'npm' | 'pypi') => Promise<Map<string, string[]>>): Promise<LogRecord[]> {
  const { rel } = entryPath(indexDir, spec);
  const entry = readEntry(indexDir, rel);
  const live = Object.entries(entry.versions).filter(([, record]) => !record.yanked);
  const withoutProvenance = live.filter(([, record]) => !record.provenance).map(([v]) => v);
  let reason = author.why;
  if (value === 'verified' || value === 'reference') {
    // what the entry alone shows (validate re-checks the same), then whether each version verifies now
    const problems = labelShortfalls(entry, value);
    const toCheck = (value === 'verified' ? live : live.filter(([, record]) => record.provenance)).map(([v]) => v).filter((v) => !problems.some((p) => p.version === v));
    const results = toCheck.length > 0 ? await verify(entry.name, toCheck, entry.ecosystem) : new Map<string, string[]>();
    for (const version of toCheck) {
      const codes = results.get(version);
      if (!codes || codes.length > 0) problems.push({ version, codes: codes ?? ['not verified'] });
    }
    if (problems.length > 0) {
      throw new McsError('E_LABEL_REQUIREMENTS', `${entry.ecosystem}:${entry.name} cannot be labelled ${value}: ${describeShortfalls(problems)}`, { details: { failures: problems } });
    }
    if (value === 'reference' && withoutProvenance.length > 0) reason += ` (published without provenance: ${withoutProvenance.join(', ')})`;
  }
  return recordChange(indexDir, spec, { ...author, why: reason }, (draft, who) => {
    // the checks above judged the entry as it was read; a change that landed meanwhile (a sync, a new pin) was not judged
    if (canonical(draft.versions) !== canonical(entry.versions) || canonical(draft.trust ?? null) !== canonical(entry.trust ?? null)) {
      throw new McsError('E_LABEL_REQUIREMENTS', `${entry.ecosystem}:${entry.name} changed while its versions were being verified; run index label again`, { details: { package: `${entry.ecosystem}:${entry.name}` } });
    }
    draft.label = { value, ...stamp(who), reason: who.why };
    return draft;
  });
}
