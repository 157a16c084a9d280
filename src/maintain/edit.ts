/**
 * Maintainers' changes to index-data: every change of a label, publisher,
 * pin or state is appended to the audit log first, then written to the
 * entry (by temp file and rename). A crash between the two leaves a log that
 * says more than the entry: `index validate` reports it, nothing is lost.
 */
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { canonical } from '../contract/index.js';
import { McsError } from '../errors.js';
import { makeDirs, readFileCapped, writeAtomic } from '../files.js';
import { readEntry } from '../index/build.js';
import { listSources } from '../index/sources.js';
import type { IndexEntry, Label } from '../manifest/types.js';
import { assertIndexEntry } from '../manifest/validate.js';
import { LOG_FILE, TRACKED_FIELDS, trackingRecords, untrackedFields, appendLines, changes, readLog, unexplained, type LogRecord, type TrackedField } from './log.js';

export interface ChangeAuthor {
  by: string;
  why: string;
  now?: Date;
}

function assertAuthor(author: ChangeAuthor): void {
  if (!author.by.trim() || !author.why.trim()) throw new McsError('E_USAGE', 'every change needs who made it and why (--by, --reason)', {});
}

/** A state note (yank, deprecation, hold, label) signed by the author of the change. */
function stamp(author: ChangeAuthor): { by: string; at: string } {
  return { by: author.by, at: (author.now ?? new Date()).toISOString() };
}

/** The log records of `diff` for one package, by the author. */
function authored(author: ChangeAuthor, id: string, diff: ReturnType<typeof changes>): Array<Omit<LogRecord, 'seq' | 'prev'>> {
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
function marked(author: ChangeAuthor, fields: readonly TrackedField[]): Array<Omit<LogRecord, 'seq' | 'prev'>> {
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
  const records = loadLog(indexDir).records;
  if (spec === undefined) return records;
  try {
    const { ecosystem, name } = entryPath(indexDir, spec);
    return records.filter((r) => r.package === `${ecosystem}:${name}`);
  } catch (error) {
    // a package whose file is gone still has its history
    const history = records.filter((r) => r.package === spec || r.package.endsWith(`:${spec}`));
    if (error instanceof McsError && error.code === 'E_NOT_FOUND' && history.length > 0) return history;
    throw error;
  }
}

/** The log as records, its chain checked; [] when there is none yet. */
export function loadLog(indexDir: string): { records: LogRecord[]; lastLine?: string } {
  const file = join(indexDir, LOG_FILE);
  if (!existsSync(file)) return { records: [] };
  const text = readFileSync(file, 'utf8');
  const records = readLog(text, file);
  const lines = text.split('\n').filter((l) => l !== '');
  return { records, ...(lines.length > 0 ? { lastLine: lines[lines.length - 1]! } : {}) };
}

function appendToLog(indexDir: string, records: Array<Omit<LogRecord, 'seq' | 'prev'>>, log = loadLog(indexDir)): LogRecord[] {
  const { records: existing, lastLine } = log;
  // a new log opens by marking every field it tracks, so a field that stays empty for a while is still guarded
  const first = records[0];
  const opening = existing.length === 0 && first ? marked({ by: first.by, why: first.why, now: new Date(first.at) }, TRACKED_FIELDS) : [];
  const lines = appendLines(lastLine, existing.length, [...opening, ...records]);
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

/** Applies `mutate` to an entry, logs every tracked change it makes, then writes the entry; returns the records. */
function recordChangeUnlocked(indexDir: string, spec: string, author: ChangeAuthor, mutate: (entry: IndexEntry) => IndexEntry): LogRecord[] {
  assertAuthor(author);
  const { rel, ecosystem, name } = entryPath(indexDir, spec);
  const before = readEntry(indexDir, rel);
  const log = loadLog(indexDir);
  const gaps = unexplained([before], log.records).filter((gap) => gap.package === `${ecosystem}:${name}`);
  if (gaps.length > 0) {
    const gap = gaps[0]!;
    throw new McsError(
      'E_LOG_UNEXPLAINED',
      gap.kind === 'edited' ? `${gap.message}; nothing was changed (review it, then put the value back or log it)` : `${gap.message}; nothing was changed`,
      { details: { package: `${ecosystem}:${name}`, key: gap.key } },
    );
  }
  const after = mutate(structuredClone(before));
  assertIndexEntry(after, join(indexDir, rel));
  const diff = changes(before, after);
  if (diff.length === 0) return [];
  const records = appendToLog(indexDir, authored(author, `${ecosystem}:${name}`, diff), log);
  writeEntryAtomic(join(indexDir, rel), after);
  return records;
}

/** Writes a new entry and logs every tracked value of it; refuses a package the index already has. */
function recordNewEntryUnlocked(indexDir: string, entry: IndexEntry, author: ChangeAuthor): LogRecord[] {
  assertAuthor(author);
  const rel = `${entry.ecosystem}/${entry.name}.json`;
  const file = join(indexDir, rel);
  assertIndexEntry(entry, file);
  if (existsSync(file)) throw new McsError('E_ALREADY_INDEXED', `${entry.ecosystem}:${entry.name} is already in ${indexDir}; change it with index label, yank, deprecate or quarantine`, { details: { name: entry.name } });
  if (!existsSync(join(indexDir, LOG_FILE)) && listSources(indexDir).sources.length > 0) {
    throw new McsError('E_LOG_UNEXPLAINED', `${indexDir} has entries but no audit log yet; start it with mcs-pkg index log --init --by WHO --reason TEXT, then add`, { details: { indexDir } });
  }
  mkdirSync(join(indexDir, entry.ecosystem), { recursive: true });
  const records = appendToLog(indexDir, authored(author, `${entry.ecosystem}:${entry.name}`, changes(undefined, entry)));
  writeEntryAtomic(file, entry);
  return records;
}

/** Logs every entry the log does not know yet, as it is: how an existing index starts its log. */
function initLogUnlocked(indexDir: string, author: ChangeAuthor): LogRecord[] {
  assertAuthor(author);
  const log = loadLog(indexDir);
  const known = new Set(log.records.map((r) => r.package));
  const fresh = listSources(indexDir).sources.map((source) => readEntry(indexDir, source.path)).filter((entry) => !known.has(`${entry.ecosystem}:${entry.name}`));
  // the first run takes the index as it is; later, a hand-written entry joins as Community, and a higher label goes through index label's checks
  const labelled = log.records.length > 0 ? fresh.filter((entry) => entry.label.value !== 'community') : [];
  if (labelled.length > 0) {
    throw new McsError('E_LABEL_REQUIREMENTS', `${labelled.map((e) => `${e.ecosystem}:${e.name} (${e.label.value})`).join(', ')}: a package joins the audit log as community; set its label to community, log it, then run mcs-pkg index label`, { details: { packages: labelled.map((e) => `${e.ecosystem}:${e.name}`) } });
  }
  const additions = fresh.flatMap((entry) => authored(author, `${entry.ecosystem}:${entry.name}`, changes(undefined, entry)));
  return additions.length > 0 ? appendToLog(indexDir, additions, log) : [];
}

/**
 * After an upgrade of mcs-pkg that tracks more fields: records the current
 * values of the fields the log has never recorded, for the packages already
 * in it, and marks those fields tracked from now on. A maintainer runs it
 * after reviewing those values; nothing else is recorded.
 */
function upgradeLogUnlocked(indexDir: string, author: ChangeAuthor): LogRecord[] {
  assertAuthor(author);
  const log = loadLog(indexDir);
  if (log.records.length === 0) throw new McsError('E_USAGE', `${indexDir} keeps no audit log yet; start one with mcs-pkg index log --init`, { details: { indexDir } });
  const fields = untrackedFields(log.records);
  if (fields.length === 0) return [];
  const wanted = new Set<string>(fields);
  const known = new Set(log.records.map((r) => r.package));
  const values = listSources(indexDir).sources.flatMap((source) => {
    const entry = readEntry(indexDir, source.path);
    const id = `${entry.ecosystem}:${entry.name}`;
    return known.has(id) ? authored(author, id, changes(undefined, entry).filter((change) => wanted.has(change.field))) : [];
  });
  return appendToLog(indexDir, [...marked(author, fields), ...values], log);
}

/** Applies `mutate` to an entry, logs every tracked change it makes, then writes the entry; returns the records. */
export function recordChange(indexDir: string, spec: string, author: ChangeAuthor, mutate: (entry: IndexEntry) => IndexEntry): LogRecord[] {
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
export function upgradeLog(indexDir: string, author: ChangeAuthor): LogRecord[] {
  return withLogLock(indexDir, () => upgradeLogUnlocked(indexDir, author));
}

function markVersion(indexDir: string, spec: string, version: string, author: ChangeAuthor, field: 'yanked' | 'deprecated'): LogRecord[] {
  return recordChange(indexDir, spec, author, (entry) => {
    const record = entry.versions[version];
    if (!record || !Object.hasOwn(entry.versions, version)) throw new McsError('E_VERSION_NOT_FOUND', `${entry.name}@${version} is not pinned in the index`, { details: { version } });
    record[field] = { reason: author.why, ...stamp(author) };
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
  return recordChange(indexDir, spec, author, (entry) => {
    if (hold) entry.quarantine = { reason: author.why, ...stamp(author) };
    else delete entry.quarantine;
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
export async function setLabel(indexDir: string, spec: string, value: Label, author: ChangeAuthor, verify: (name: string, versions: string[]) => Promise<Map<string, string[]>>): Promise<LogRecord[]> {
  const { rel } = entryPath(indexDir, spec);
  const entry = readEntry(indexDir, rel);
  const live = Object.entries(entry.versions).filter(([, record]) => !record.yanked);
  const withoutProvenance = live.filter(([, record]) => !record.provenance).map(([v]) => v);
  let reason = author.why;
  if (value === 'verified' || value === 'reference') {
    const toCheck = value === 'verified' ? live.map(([v]) => v) : live.filter(([, record]) => record.provenance).map(([v]) => v);
    const problems: Array<{ version: string; codes: string[] }> = [];
    if (value === 'verified' && !entry.trust?.publisher) problems.push({ version: '*', codes: ['no pinned publisher identity (trust.publisher)'] });
    if (value === 'verified' && live.length === 0) problems.push({ version: '*', codes: ['no pinned version'] });
    const results = toCheck.length > 0 && entry.ecosystem === 'npm' ? await verify(entry.name, toCheck) : new Map<string, string[]>();
    for (const version of toCheck) {
      const codes = entry.ecosystem === 'npm' ? results.get(version) : ['PyPI versions cannot be verified yet'];
      if (!codes || codes.length > 0) problems.push({ version, codes: codes ?? ['not verified'] });
    }
    if (problems.length > 0) {
      const described = problems.map((p) => (p.version === '*' ? p.codes.join(', ') : `${p.version} (${p.codes.join(', ')})`));
      throw new McsError('E_LABEL_REQUIREMENTS', `${entry.ecosystem}:${entry.name} cannot be labelled ${value}: ${described.join('; ')}`, { details: { failures: problems } });
    }
    if (value === 'reference' && withoutProvenance.length > 0) reason += ` (published without provenance: ${withoutProvenance.join(', ')})`;
  }
  return recordChange(indexDir, spec, author, (draft) => {
    // the checks above judged the entry as it was read; a change that landed meanwhile (a sync, a new pin) was not judged
    if (canonical(draft.versions) !== canonical(entry.versions) || canonical(draft.trust ?? null) !== canonical(entry.trust ?? null)) {
      throw new McsError('E_LABEL_REQUIREMENTS', `${entry.ecosystem}:${entry.name} changed while its versions were being verified; run index label again`, { details: { package: `${entry.ecosystem}:${entry.name}` } });
    }
    draft.label = { value, ...stamp(author), reason };
    return draft;
  });
}
