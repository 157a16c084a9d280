/**
 * The audit log of index changes: index-data/audit.log.jsonl, one record per
 * line in canonical JSON, each carrying the sha256 of the line before it, so
 * that changing, removing or inserting a record breaks the chain. Replaying
 * the log gives the value every tracked field of every logged package must
 * have now; anything else is an edit that bypassed the log. Pure.
 */
import { createHash } from 'node:crypto';
import { canonical } from '../contract/index.js';
import { McsError } from '../errors.js';
import { declarationDigest } from '../manifest/declarations.js';
import type { DistributionFile, IndexEntry } from '../manifest/types.js';

export const LOG_FILE = 'audit.log.jsonl';
export const GENESIS = '0'.repeat(64);
/** Longest record line accepted. */
const MAX_RECORD_CHARS = 1024 * 1024;

/**
 * The fields the log accounts for; a key is the field, or field@version for
 * per-version ones. Everything that bears on trust is tracked: the label,
 * the publisher and the rest of the trust manifest, states, each version's
 * digests and the rest of its record (provenance, size, publish time,
 * contract), the drivers each version declares (by digest), compatibility and security
 * information. Descriptive text (description, keywords, homepage, license)
 * is not.
 */
export const TRACKED_FIELDS = ['label', 'publisher', 'trust', 'quarantine', 'drivers', 'compatibility', 'security', 'pin', 'record', 'yanked', 'deprecated'] as const;
export type TrackedField = (typeof TRACKED_FIELDS)[number];

/** The package of the records that say a field is tracked from then on (written when a log starts, and by index log --upgrade). */
export const TRACKING = '*';

/** The fields every log has tracked from its start, marked or not (logs written before marking began track exactly these). */
const ALWAYS_TRACKED: readonly TrackedField[] = ['label', 'publisher', 'quarantine', 'pin', 'yanked', 'deprecated'];

/** The field of the record that adopts a log into signing (package TRACKING). */
export const ADOPTION = 'signed';

/** What a read of the log keeps: the replayed state and the fields it has recorded (a LogScan). */
export type LogState = Pick<LogScan, 'state' | 'fields'> & { labelNotes?: LogScan['labelNotes'] };

/** The fields a log tracks: those it has always tracked, and those it records or marks. */
function trackedBy(log: LogState): Set<string> {
  return new Set([...ALWAYS_TRACKED, ...log.fields]);
}

export interface LogRecord {
  seq: number;
  prev: string;
  at: string;
  by: string;
  why: string;
  /** ecosystem:name */
  package: string;
  field: TrackedField | typeof ADOPTION;
  version?: string;
  before: unknown;
  after: unknown;
  /** The maintainer key that signed the record (sha256 of its SPKI, as the index root lists it). */
  keyid?: string;
  /** The signature over recordSigningBytes(record), base64. */
  sig?: string;
}

/** The tracked values of an entry, by key (label, publisher, quarantine, pin@v, yanked@v, deprecated@v). */
export function trackedValues(entry: IndexEntry): Map<string, unknown> {
  const { publisher, ...trust } = entry.trust ?? {};
  const values = new Map<string, unknown>([
    ['label', entry.label.value],
    ['publisher', publisher ?? null],
    ['trust', Object.keys(trust).length > 0 ? trust : null],
    ['quarantine', entry.quarantine?.reason ?? null],
    // a declaration read from source for no known release; each version's own is drivers@version below
    ['drivers', unversionedDeclaration(entry)],
    ['compatibility', entry.compatibility ?? null],
    ['security', entry.security ?? null],
  ]);
  for (const [version, record] of Object.entries(entry.versions)) {
    const { integrity, files, lock, yanked, deprecated, ...rest } = record;
    // a PyPI version's dependency lock is what a client installs with it: pinned as its own files are
    const pinnedFiles = (list: readonly DistributionFile[] | undefined) => (list ?? []).map((f) => `${f.filename} ${f.integrity}`).join(', ');
    const locked = lock ? `; lock${lock.python ? ` (python ${lock.python})` : ''}: ${lock.dependencies.map((d) => `${d.name}==${d.version}${d.marker ? ` ; ${d.marker}` : ''} [${pinnedFiles(d.files)}]`).join(', ')}` : '';
    values.set(`pin@${version}`, (integrity ?? pinnedFiles(files)) + locked);
    values.set(`record@${version}`, rest);
    values.set(`yanked@${version}`, yanked?.reason ?? null);
    values.set(`deprecated@${version}`, deprecated?.reason ?? null);
  }
  // the drivers' metadata and tools are large: the log keeps their digest, per version that declares them
  for (const declaration of entry.declarations ?? []) {
    for (const version of declaration.versions ?? []) values.set(`drivers@${version}`, declarationDigest(declaration.drivers));
  }
  return values;
}

function unversionedDeclaration(entry: IndexEntry): string | null {
  const drivers = entry.declarations?.find((d) => !d.versions)?.drivers;
  return drivers ? declarationDigest(drivers) : null;
}

function keyOf(record: Pick<LogRecord, 'field' | 'version'>): string {
  return record.version === undefined ? record.field : `${record.field}@${record.version}`;
}

/** The records that describe going from `before` to `after` (a new entry when `before` is undefined). */
export function changes(before: IndexEntry | undefined, after: IndexEntry): Array<Pick<LogRecord, 'field' | 'version' | 'before' | 'after'>> {
  return changedValues(before ? trackedValues(before) : new Map<string, unknown>(), after);
}

/**
 * The records that take a package from what the log says of it (its replayed
 * values) to `after`. Diffed against the log rather than the entry, so that a
 * package-wide declaration an older log recorded, which the entry no longer
 * holds, is recorded as moved (drivers: digest -> null) when the versions
 * that inherited it get their own records.
 */
export function changesFromLog(logged: ReadonlyMap<string, unknown>, after: IndexEntry): Array<Pick<LogRecord, 'field' | 'version' | 'before' | 'after'>> {
  return changedValues(logged, after);
}

function changedValues(old: ReadonlyMap<string, unknown>, after: IndexEntry): Array<Pick<LogRecord, 'field' | 'version' | 'before' | 'after'>> {
  const now = trackedValues(after);
  const out: Array<Pick<LogRecord, 'field' | 'version' | 'before' | 'after'>> = [];
  for (const key of new Set([...old.keys(), ...now.keys()])) {
    const a = old.get(key) ?? null;
    const b = now.get(key) ?? null;
    if (canonical(a) === canonical(b)) continue;
    const [field, version] = key.split('@') as [TrackedField, string | undefined];
    out.push({ field, ...(version !== undefined ? { version } : {}), before: a, after: b });
  }
  return out;
}

export function lineHash(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('hex');
}

/** Signs one record as a maintainer: the key's id and the name the index root gives it (`by` comes from here, never typed). */
export interface RecordSigner {
  keyid: string;
  by: string;
  sign(bytes: Buffer): string;
}

/** The maintainer keys a log's signatures are checked against: by keyid, the name `by` must carry and a check of a signature. */
export type LogKeys = Map<string, { by: string; verify(bytes: Buffer, sig: string): boolean }>;

/** The bytes a record's signature covers: the canonical JSON of the record without `sig` (so its seq, prev, keyid and by are signed). */
export function recordSigningBytes(record: Omit<LogRecord, 'sig'> & { sig?: string }): Buffer {
  const { sig: _sig, ...signed } = record;
  return Buffer.from(canonical(signed), 'utf8');
}

/** The text of the next records, chained to the last line of the log, each signed when a signer is given. */
export function appendLines(lastLine: string | undefined, lastSeq: number, records: Array<Omit<LogRecord, 'seq' | 'prev'>>, signer?: RecordSigner): string[] {
  const lines: string[] = [];
  let prev = lastLine === undefined ? GENESIS : lineHash(lastLine);
  let seq = lastSeq;
  for (const record of records) {
    const unsigned: LogRecord = { ...record, seq: ++seq, prev, ...(signer ? { by: signer.by, keyid: signer.keyid } : {}) };
    const line = canonical(signer ? { ...unsigned, sig: signer.sign(recordSigningBytes(unsigned)) } : unsigned);
    lines.push(line);
    prev = lineHash(line);
  }
  return lines;
}

/** The record that adopts a log into signing: signed, it vouches for the unsigned records before it (its prev is their chain head); every record after it must be signed. */
export function adoptionRecord(records: number, head: string, vouched?: { count: number; first: number; last: number; signers: string[] }): Pick<LogRecord, 'package' | 'field' | 'before' | 'after'> {
  return { package: TRACKING, field: ADOPTION, before: null, after: { records, head, ...(vouched ? { vouched } : {}) } };
}

export interface LogScanOptions {
  /** Where the log is read from, for messages. */
  source: string;
  /** The maintainer keys of the index root: every signed record is checked against them. Without them signatures are not checked (the caller says whether that is a problem). */
  keys?: LogKeys;
  /** Keeps the records for which this is true (a package's history). */
  keep?: (record: LogRecord) => boolean;
  /** Also note the hash of line n (to check that a log extends a published head). */
  hashAt?: number;
  /**
   * The maintainer keys of earlier roots in the rotation chain to the current
   * one (index log --upgrade --previous-root): a record by one of them that no
   * adoption covers yet is checked against it, and accepted so the upgrade can
   * vouch for it. A record by a key no root of the chain lists, that no
   * adoption covers yet, is refused (E_LOG_SIGNATURE): it can never be adopted.
   */
  previousKeys?: LogKeys;
}

/** The records an adoption would vouch for: unsigned ones, and ones by keys the current root no longer lists, since the last adoption. */
export interface Unvouched {
  count: number;
  first: number;
  last: number;
  /** Who signed them (the name their key had), or "unsigned: NAME" for legacy records. */
  signers: Set<string>;
}

/** Who set a package's label, by its last label record: what the entry's label.by, label.at and label.reason must say. */
export interface LabelNote {
  seq: number;
  by: string;
  at: string;
  why: string;
  keyid?: string;
  /** Whether the record's signature was checked against a key of the root (false: unsigned, or read without keys). */
  verified: boolean;
}

/**
 * Reads a log one line at a time, so its size never decides the memory used:
 * checks the chain and the signatures as it goes, and keeps only what the
 * checks need (the replayed state, the fields and packages seen, the head).
 * Throws on the first broken record: E_LOG_CHAIN for a broken chain or a
 * record that is not canonical, E_LOG_UNSIGNED for an unsigned record after
 * the log was adopted, E_LOG_SIGNATURE for a signature that does not verify,
 * or a `by` that is not the key's name. A record by a key the root does not
 * list (rotated out) counts only when a later adoption record, signed by a
 * key it lists, vouches for the chain up to it; finish() refuses the rest.
 */
export class LogScan {
  records = 0;
  lastLine: string | undefined;
  head = GENESIS;
  /** What each tracked field of each package is now, by the log. */
  readonly state = new Map<string, Map<string, unknown>>();
  /** The fields the log has recorded or marked (TRACKED_FIELDS and the adoption marker). */
  readonly fields = new Set<string>();
  readonly packages = new Set<string>();
  /** The seq of the first adoption record: from it on every record is signed. */
  adoptedAt: number | null = null;
  readonly kept: LogRecord[] = [];
  hashAt: string | undefined;
  /** The first record by a key the root does not list that no later adoption has vouched for yet. */
  unvouched: McsError | undefined;
  /** What an adoption appended now would vouch for (null when nothing). */
  pending: Unvouched | null = null;
  /** The last label record of each package. */
  readonly labelNotes = new Map<string, LabelNote>();
  /** The bytes read (set by scanLogFile). */
  bytes = 0;

  constructor(readonly options: LogScanOptions) {}

  /** Takes the next line (without its line break); empty lines are skipped. */
  line(line: string): void {
    if (line === '') return;
    const n = this.records + 1;
    const at = `${this.options.source}:${n}`;
    const broken = (code: 'E_LOG_CHAIN' | 'E_LOG_UNSIGNED' | 'E_LOG_SIGNATURE' | 'E_LOG_TOO_LARGE', why: string, cause?: unknown): McsError => new McsError(code, `${at}: ${why}`, { cause, details: { source: this.options.source, line: n } });
    if (line.length > MAX_RECORD_CHARS) throw broken('E_LOG_TOO_LARGE', `${line.length} characters, over the limit of ${MAX_RECORD_CHARS} for one record`);
    // a record must be an object written in canonical form: parsing it and writing it again gives the line back, which also
    // rules out repeated keys (canonical form has none); nesting too deep to write fails
    let record: LogRecord;
    let again: string;
    try {
      record = JSON.parse(line) as LogRecord;
      again = canonical(record);
    } catch (cause) {
      throw broken('E_LOG_CHAIN', `not a log record: ${(cause as Error).message}`, cause);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw broken('E_LOG_CHAIN', 'not a log record: not an object');
    if (record.seq !== n) throw broken('E_LOG_CHAIN', `record number ${String(record.seq)} where ${n} was expected (a record was removed or inserted)`);
    if (record.prev !== this.head) throw broken('E_LOG_CHAIN', 'does not follow the record before it (a record was changed, removed or inserted)');
    if (again !== line) throw broken('E_LOG_CHAIN', 'not in canonical form (edited by hand)');
    const signed = record.sig !== undefined || record.keyid !== undefined;
    const adoption = record.package === TRACKING && record.field === ADOPTION;
    if (!signed && (adoption || this.adoptedAt !== null)) {
      throw broken('E_LOG_UNSIGNED', `unsigned record (by ${JSON.stringify(record.by)}) in a log signed since record ${this.adoptedAt ?? n}: every change is signed by a maintainer key the index root lists (--key)`);
    }
    if (signed && this.adoptedAt === null && !adoption) throw broken('E_LOG_SIGNATURE', 'a signed record before the log was adopted into signing (index log --upgrade --key adopts it)');
    let verified = false;
    if (signed && this.options.keys) {
      verified = this.checkSignature(record, this.options.keys, (why) => broken('E_LOG_SIGNATURE', why));
      if (verified && adoption) {
        this.unvouched = undefined; // a listed maintainer signed the chain up to here
        this.pending = null;
      } else if (!verified) {
        // a record by a key of a previous root given is checked against it, and can be vouched for; any other waits for an
        // adoption that already covers it, and is refused at the end when none does
        const previous = this.options.previousKeys;
        const checked = previous !== undefined && this.checkSignature(record, previous, (why) => broken('E_LOG_SIGNATURE', `${why} (checked against the previous root given)`));
        if (!checked) {
          this.unvouched ??= previous
            ? broken('E_LOG_SIGNATURE', `signed by key ${JSON.stringify(record.keyid)}, which neither the current index root nor a previous root given (--previous-root) lists: a forged record, which no adoption can vouch for; restore the log from the published copy (the audit.*.jsonl beside snapshot.json) and redo the changes after it`)
            : broken('E_LOG_SIGNATURE', `signed by key ${JSON.stringify(record.keyid)}, which the index root does not list as a maintainer's: a forged record (restore the log from the published copy, the audit.*.jsonl beside snapshot.json), unless a root this one rotated from lists that key, which index log --upgrade --previous-root OLD_ROOT checks`);
        }
        this.vouch(n, checked ? `${record.by} (key ${String(record.keyid).slice(0, 16)}, previous root)` : `key ${String(record.keyid).slice(0, 16)}`);
      }
    } else if (!signed) {
      this.vouch(n, `unsigned: ${String(record.by)}`);
    }
    if (adoption && this.adoptedAt === null) this.adoptedAt = n;
    this.records = n;
    this.lastLine = line;
    this.head = lineHash(line);
    if (this.options.hashAt === n) this.hashAt = this.head;
    this.fields.add(record.field);
    if (this.options.keep?.(record)) this.kept.push(record);
    if (record.package === TRACKING) return;
    if (record.field === 'label') this.labelNotes.set(record.package, { seq: n, by: record.by, at: record.at, why: record.why, ...(record.keyid ? { keyid: record.keyid } : {}), verified });
    this.packages.add(record.package);
    const values = this.state.get(record.package) ?? new Map<string, unknown>();
    values.set(keyOf(record), record.after);
    this.state.set(record.package, values);
  }

  private vouch(n: number, signer: string): void {
    this.pending ??= { count: 0, first: n, last: n, signers: new Set() };
    this.pending.count++;
    this.pending.last = n;
    this.pending.signers.add(signer);
  }

  /** Checks a signed record against a root's keys; false when its key is not one of them (then nothing can be checked). */
  private checkSignature(record: LogRecord, keys: LogKeys, broken: (why: string) => McsError): boolean {
    const key = typeof record.keyid === 'string' && keys.has(record.keyid) ? keys.get(record.keyid)! : undefined;
    if (!key) return false;
    if (typeof record.sig !== 'string' || !key.verify(recordSigningBytes(record), record.sig)) throw broken(`the signature by ${key.by} (key ${record.keyid!.slice(0, 16)}) does not verify: the record was changed after it was signed, or forged`);
    if (record.by !== key.by) throw broken(`says it is by ${JSON.stringify(record.by)}, but it is signed by ${JSON.stringify(key.by)}'s key`);
    return true;
  }

  /** At the end of the log: refuses a record by an unlisted key that no adoption vouched for. */
  finish(): this {
    if (this.unvouched) throw this.unvouched;
    return this;
  }
}

/**
 * The log must extend the one a snapshot was published from: a log cut short
 * (a yank dropped with its entry reverted), or rebuilt with a fresh chain,
 * which the log alone cannot tell from the real one, is refused.
 */
export function assertLogExtends(published: { records: number; head: string }, log: Pick<LogScan, 'records' | 'head' | 'hashAt'>, earlier: string): void {
  const continues = log.records === published.records ? log.records > 0 && log.head === published.head : log.records > published.records && log.hashAt === published.head;
  if (!continues) {
    throw new McsError('E_LOG_CHAIN', `the audit log does not extend ${earlier} (${published.records} records ending in ${published.head.slice(0, 12)}; now ${log.records} records): records were removed or the log was rewritten`, { details: { published, records: log.records } });
  }
}

/** Reads and checks a whole log held in memory (tests, small logs); large logs are read with LogScan a line at a time. */
export function readLog(text: string, source: string, keys?: LogKeys): LogRecord[] {
  const scan = new LogScan({ source, keep: () => true, ...(keys ? { keys } : {}) });
  for (const line of text.split('\n')) scan.line(line);
  return scan.finish().kept;
}

/**
 * Logs written before declarations were kept per version recorded one
 * package-wide declaration (drivers, no version), which then stood for every
 * version. It still does for the versions the log has not recorded on their
 * own: each of them that declares exactly it is explained, and so is its move
 * from the package to those versions.
 */
function withPackageWideDeclaration(expected: Map<string, unknown> | undefined, current: Map<string, unknown>): Map<string, unknown> | undefined {
  const wide = expected?.get('drivers');
  if (!expected || wide === null || wide === undefined || current.get('drivers') === wide) return expected;
  const inherited = [...current].filter(([key, value]) => key.startsWith('drivers@') && !expected.has(key) && value === wide);
  if (inherited.length === 0) return expected;
  const explained = new Map(expected);
  for (const [key] of inherited) explained.set(key, wide);
  if ((current.get('drivers') ?? null) === null) explained.set('drivers', null);
  return explained;
}

export interface Unexplained {
  package: string;
  key: string;
  logged: unknown;
  current: unknown;
  /** edited: a value the log does not explain; unlogged: a package the log never mentions; removed: a logged package whose file is gone; untracked: a field this log has never recorded (it predates the field being tracked). */
  kind: 'edited' | 'unlogged' | 'removed' | 'untracked';
  message: string;
}

/**
 * Every tracked value of a logged package that is not what the log says (a
 * hand edit), every package the log never mentions, and every logged package
 * whose file is gone (`files`: ecosystem:name of every entry file).
 */
export function unexplained(entries: IndexEntry[], log: LogState, files: Iterable<string> = entries.map((entry) => `${entry.ecosystem}:${entry.name}`)): Unexplained[] {
  const logged = log.state;
  const seenFields = trackedBy(log);
  const out: Unexplained[] = [];
  const present = new Set(files);
  for (const id of logged.keys()) {
    if (!present.has(id)) out.push({ package: id, key: '*', logged: 'in the log', current: null, kind: 'removed', message: `${id}: in the audit log, but its file is gone (a removal that bypassed the log)` });
  }
  for (const entry of entries) {
    const id = `${entry.ecosystem}:${entry.name}`;
    const current = trackedValues(entry);
    const expected = withPackageWideDeclaration(logged.get(id), current);
    if (!expected) {
      out.push({ package: id, key: '*', logged: null, current: 'not in the log', kind: 'unlogged', message: `${id}: not in the audit log (added without it: npm packages join with mcs-pkg index add; a hand-written entry is logged, as Community, with mcs-pkg index log --init)` });
      continue;
    }
    out.push(...labelNoteGaps(entry, log.labelNotes?.get(id)));
    for (const key of new Set([...expected.keys(), ...current.keys()])) {
      const a = expected.get(key) ?? null;
      const b = current.get(key) ?? null;
      if (canonical(a) === canonical(b)) continue;
      const field = key.split('@')[0] as TrackedField;
      out.push(
        seenFields.has(field)
          ? { package: id, key, logged: a, current: b, kind: 'edited', message: `${id}: ${key} is ${JSON.stringify(b)}, but the audit log says ${JSON.stringify(a)} (an edit that bypassed the log)` }
          : { package: id, key, logged: a, current: b, kind: 'untracked', message: `${id}: the audit log has never recorded ${field} (this mcs-pkg tracks more than the one that wrote the log); review the current values, then record them with mcs-pkg index log --upgrade` },
      );
    }
  }
  return out;
}

/**
 * Who set the label, when and why, as the entry says it (label.by, label.at,
 * label.reason), must be what its last label record says, when that record
 * is signed: a client shows them as the label's author.
 */
function labelNoteGaps(entry: IndexEntry, note: LabelNote | undefined): Unexplained[] {
  if (!note?.keyid) return [];
  const id = `${entry.ecosystem}:${entry.name}`;
  const pairs: Array<[keyof IndexEntry['label'], string]> = [['by', note.by], ['at', note.at], ['reason', note.why]];
  return pairs
    .filter(([field, logged]) => entry.label[field] !== logged)
    .map(([field, logged]) => ({ package: id, key: `label/${field}`, logged, current: entry.label[field], kind: 'edited' as const, message: `${id}: /label/${field} is ${JSON.stringify(entry.label[field])}, but audit log record #${note.seq}, which set the label, says ${JSON.stringify(logged)} (an edit that bypassed the log)` }));
}

/** The fields an entry tracks that a log has never recorded for any package: what `index log --upgrade` may record as they are now. */
export function untrackedFields(log: LogState): TrackedField[] {
  const seen = trackedBy(log);
  return TRACKED_FIELDS.filter((field) => !seen.has(field));
}

/** The records that say these fields are tracked from now on, so a later hand edit of one is an edit, even where every value was empty. */
export function trackingRecords(fields: readonly TrackedField[]): Array<Pick<LogRecord, 'package' | 'field' | 'before' | 'after'>> {
  return fields.map((field) => ({ package: TRACKING, field, before: null, after: 'tracked' }));
}
