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
import type { IndexEntry } from '../manifest/types.js';

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

/** The fields a log tracks: those it has always tracked, and those it records or marks. */
function trackedBy(records: LogRecord[]): Set<TrackedField> {
  return new Set([...ALWAYS_TRACKED, ...records.map((r) => r.field)]);
}

export interface LogRecord {
  seq: number;
  prev: string;
  at: string;
  by: string;
  why: string;
  /** ecosystem:name */
  package: string;
  field: TrackedField;
  version?: string;
  before: unknown;
  after: unknown;
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
    const { integrity, files, yanked, deprecated, ...rest } = record;
    values.set(`pin@${version}`, integrity ?? (files ?? []).map((f) => `${f.filename} ${f.integrity}`).join(', '));
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
  const old = before ? trackedValues(before) : new Map<string, unknown>();
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

/** The text of the next records, chained to the last line of the log. */
export function appendLines(lastLine: string | undefined, lastSeq: number, records: Array<Omit<LogRecord, 'seq' | 'prev'>>): string[] {
  const lines: string[] = [];
  let prev = lastLine === undefined ? GENESIS : lineHash(lastLine);
  let seq = lastSeq;
  for (const record of records) {
    const line = canonical({ ...record, seq: ++seq, prev });
    lines.push(line);
    prev = lineHash(line);
  }
  return lines;
}

/** Reads and checks the chain: every record parses, numbers follow, and each names the hash of the line before it. */
export function readLog(text: string, source: string): LogRecord[] {
  const lines = text.split('\n').filter((line) => line !== '');
  const records: LogRecord[] = [];
  let prev = GENESIS;
  lines.forEach((line, i) => {
    // a record must be an object written in canonical form: parsing it and writing it again gives the line back, which also
    // rules out repeated keys (canonical form has none); the line length is capped, and nesting too deep to write fails
    const at = `${source}:${i + 1}`;
    const broken = (why: string, cause?: unknown): McsError => new McsError('E_LOG_CHAIN', `${at}: ${why}`, { cause, details: { source, line: i + 1 } });
    if (line.length > MAX_RECORD_CHARS) throw broken(`not a log record: ${line.length} characters, over the limit of ${MAX_RECORD_CHARS}`);
    let record: LogRecord;
    let again: string;
    try {
      record = JSON.parse(line) as LogRecord;
      again = canonical(record);
    } catch (cause) {
      throw broken(`not a log record: ${(cause as Error).message}`, cause);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw broken('not a log record: not an object');
    if (record.seq !== i + 1) throw broken(`record number ${String(record.seq)} where ${i + 1} was expected (a record was removed or inserted)`);
    if (record.prev !== prev) throw broken('does not follow the record before it (a record was changed, removed or inserted)');
    if (again !== line) throw broken('not in canonical form (edited by hand)');
    records.push(record);
    prev = lineHash(line);
  });
  return records;
}

/** What the log says each tracked field of each package is now. */
export function replay(records: LogRecord[]): Map<string, Map<string, unknown>> {
  const state = new Map<string, Map<string, unknown>>();
  for (const record of records) {
    if (record.package === TRACKING) continue;
    const values = state.get(record.package) ?? new Map<string, unknown>();
    values.set(keyOf(record), record.after);
    state.set(record.package, values);
  }
  return state;
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
export function unexplained(entries: IndexEntry[], records: LogRecord[], files: Iterable<string> = entries.map((entry) => `${entry.ecosystem}:${entry.name}`)): Unexplained[] {
  const logged = replay(records);
  const seenFields = trackedBy(records);
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

/** The fields an entry tracks that a log has never recorded for any package: what `index log --upgrade` may record as they are now. */
export function untrackedFields(records: LogRecord[]): TrackedField[] {
  const seen = trackedBy(records);
  return TRACKED_FIELDS.filter((field) => !seen.has(field));
}

/** The records that say these fields are tracked from now on, so a later hand edit of one is an edit, even where every value was empty. */
export function trackingRecords(fields: readonly TrackedField[]): Array<Pick<LogRecord, 'package' | 'field' | 'before' | 'after'>> {
  return fields.map((field) => ({ package: TRACKING, field, before: null, after: 'tracked' }));
}
