/**
 * Reads index-data/ and writes it into an index database: a full build into
 * a private file, or an incremental update of a live one, each in a single
 * transaction so that no reader ever sees half of a change.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { McsError, type McsErrorCode } from '../errors.js';
import type { IndexEntry } from '../manifest/types.js';
import { invisibleProseWarnings } from '../manifest/text.js';
import {
  IndexWriter,
  ROWS_VERSION,
  SCHEMA_VERSION,
  configureForBulkBuild,
  configureForServing,
  createSecondaryIndexes,
  dropSecondaryIndexes,
  findConflicts,
  guarded,
  openDb,
  optimizeFts,
  type Conflict,
  type Db,
  type PackageRow,
  type SourceStamp,
} from './db.js';
import { toPackageRow } from './rows.js';
import { readEntry, readRows, type SourcedRow } from './entry.js';
import type { ReadWorkerData, ReadWorkerMessage } from './read-worker.js';

export { readEntry, readRows, type SourcedRow };
import { LOG_FILE, assertLogExtends, unexplained, type LogScan, type LogState } from '../maintain/log.js';
import { describeShortfalls, labelShortfalls } from '../maintain/labels.js';
import { indexRootOf, logKeysOf, scanLogFile } from '../maintain/log-file.js';
import { listSources, misplacedError, type SourceDiff } from './sources.js';

export interface BuildProgress {
  phase: 'index' | 'optimize';
  done: number;
  total: number;
}

export interface BuildOptions {
  busyTimeoutMs: number;
  onProgress?: (progress: BuildProgress) => void;
  /** Report progress every this many packages. */
  progressEvery?: number;
}

/** States a broken cross-package rule as a coded error against the file of the later package. */
export function conflictError(conflict: Conflict, displayRoot: string): McsError {
  const file = join(displayRoot, conflict.package.source);
  const other = join(displayRoot, conflict.other.source);
  const details = { source: file, conflictsWith: { ...conflict.other, source: other } };
  switch (conflict.rule) {
    case 'confusable':
      return new McsError('E_NAME_CONFUSABLE', `${file}: /name: ${conflict.package.name} is confusable with ${conflict.other.name} (${other}); one of them must be renamed`, {
        details: { ...details, pointer: '/name' },
      });
    case 'driver-id':
      return new McsError('E_INDEX_DUPLICATE', `${file}: driver id ${conflict.driverId} is already declared by ${conflict.other.ecosystem}:${conflict.other.name} (${other})`, {
        details: { ...details, pointer: '/drivers', driverId: conflict.driverId },
      });
    case 'name':
      return new McsError('E_INDEX_DUPLICATE', `${file}: ${conflict.package.ecosystem}:${conflict.package.name} is already defined by ${other}`, {
        details: { ...details, pointer: '/name' },
      });
  }
}

function assertNoConflicts(db: Db, from: number, displayRoot: string): void {
  const [first] = findConflicts(db, from, 1);
  if (first) throw conflictError(first, displayRoot);
}

/**
 * The cross-package rules for one entry as a change would write it, checked
 * before anything is written: every other entry of the folder and this one go
 * into a throw-away database (the writer validation uses), and the first clash
 * of `after` that `before` (the entry as it is now, for a change) did not
 * already have is thrown as the rule's code. An entry that cannot be read on
 * its own is left to `index validate`.
 */
export function assertFitsIndex(indexDir: string, after: IndexEntry, before?: IndexEntry): void {
  const rel = `${after.ecosystem}/${after.name}.json`;
  const db = openDb(':memory:', { create: true, busyTimeoutMs: 0 });
  try {
    const writer = new IndexWriter(db, true);
    const stamp = (path: string): SourceStamp => ({ path, size: 0, mtimeNs: '0', ctimeNs: '0', ino: '0' });
    const clashes = (entry: IndexEntry): Conflict[] => {
      writer.remove(rel);
      const id = writer.nextId();
      writer.insert(toPackageRow(entry, rel), stamp(rel));
      return findConflicts(db, id);
    };
    db.transaction(() => {
      for (const source of listSources(indexDir).sources) {
        if (source.path === rel) continue;
        try {
          writer.insert(toPackageRow(readEntry(indexDir, source.path), source.path), source);
        } catch (error) {
          if (!(error instanceof McsError)) throw error;
        }
      }
    })();
    const key = (c: Conflict) => `${c.rule} ${c.other.ecosystem}:${c.other.name} ${c.driverId ?? ''}`;
    const had = new Set((before ? clashes(before) : []).map(key));
    const fresh = clashes(after).find((conflict) => !had.has(key(conflict)));
    if (fresh) throw conflictError(fresh, indexDir);
  } finally {
    db.close();
  }
}

/** Counts inserted packages and reports progress every so often. */
function progressCounter(total: number, options: BuildOptions): () => void {
  const every = options.progressEvery ?? 1000;
  let done = 0;
  return () => {
    done++;
    if (options.onProgress && (done % every === 0 || done === total)) options.onProgress({ phase: 'index', done, total });
  };
}

function insertRows(writer: IndexWriter, rows: Iterable<SourcedRow>, count: () => void): void {
  for (const { row, stamp } of rows) {
    writer.insert(row, stamp);
    count();
  }
}

/** Rows in batches: read in this thread, or by the read worker while this thread writes. */
export type RowBatches = Iterable<SourcedRow[]> | AsyncIterable<SourcedRow[]>;

export function* inBatches(rows: Iterable<SourcedRow>, size = 256): Generator<SourcedRow[]> {
  let batch: SourcedRow[] = [];
  for (const row of rows) {
    batch.push(row);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Folders at least this large are read by a worker thread during a full build (below it, starting one costs more than it saves). */
export const READ_WORKER_MIN_FILES = 5000;
/** Batches the worker may run ahead of the writer. */
const READ_WORKER_WINDOW = 16;

/**
 * The rows of a full build, in file order. A large folder is read, parsed,
 * validated and translated by a worker thread while this thread writes, so
 * the two halves of the work overlap; the worker exists only in the compiled
 * package (dist/), so running from sources reads in this thread.
 */
export function rowBatches(indexDir: string, sources: SourceStamp[]): RowBatches {
  const worker = new URL('./read-worker.js', import.meta.url);
  if (sources.length < READ_WORKER_MIN_FILES || !existsSync(fileURLToPath(worker))) return inBatches(readRows(indexDir, sources));
  return readInWorker(worker, { indexDir, sources, batchSize: 256, window: READ_WORKER_WINDOW });
}

async function* readInWorker(file: URL, data: ReadWorkerData): AsyncGenerator<SourcedRow[]> {
  // none of the host's Node flags: some (--input-type, --eval) do not apply to a worker and would stop it
  const worker = new Worker(file, { workerData: data, execArgv: [] });
  const inbox: ReadWorkerMessage[] = [];
  let stopped: string | undefined;
  let wake: (() => void) | undefined;
  worker.on('message', (message: ReadWorkerMessage) => {
    inbox.push(message);
    wake?.();
  });
  worker.on('error', (error) => {
    stopped = error.message;
    wake?.();
  });
  worker.on('exit', (code) => {
    stopped ??= `exit code ${code}`;
    wake?.();
  });
  try {
    for (;;) {
      while (inbox.length === 0 && stopped === undefined) await new Promise<void>((resolve) => (wake = resolve));
      const message = inbox.shift();
      if (!message) throw new McsError('E_INTERNAL', `the index read worker stopped: ${stopped}`, {});
      if ('error' in message) throw new McsError(message.error.code as McsErrorCode, message.error.message, { details: message.error.details });
      if ('done' in message) return;
      worker.postMessage('more');
      yield message.rows;
    }
  } finally {
    await worker.terminate();
  }
}

/**
 * Builds a complete database at `file`, which must not exist yet and is not
 * visible to anyone until the caller renames it into place. Any failure
 * leaves only that private file, which the caller deletes. `displayRoot`
 * names the index folder in messages.
 */
export async function buildDatabase(file: string, batches: RowBatches, total: number, displayRoot: string, options: BuildOptions): Promise<void> {
  const db = openDb(file, { create: true, busyTimeoutMs: options.busyTimeoutMs });
  try {
    // one transaction across the awaits: the file is private to this build until it is renamed into place
    const writer = guarded(file, () => {
      configureForBulkBuild(db);
      dropSecondaryIndexes(db);
      db.exec('BEGIN');
      return new IndexWriter(db);
    });
    const count = progressCounter(total, options);
    for await (const batch of batches) guarded(file, () => insertRows(writer, batch, count));
    guarded(file, () => {
      writer.saveVocabulary();
      createSecondaryIndexes(db);
      assertNoConflicts(db, 0, displayRoot);
      writer.setMeta({ indexDir: displayRoot, builtAt: new Date().toISOString(), schemaVersion: String(SCHEMA_VERSION), rowsVersion: String(ROWS_VERSION) });
      db.exec('COMMIT');
      options.onProgress?.({ phase: 'optimize', done: total, total });
      optimizeFts(db);
      configureForServing(db);
    });
  } finally {
    db.close();
  }
}

/**
 * Applies changed and removed files to a live database in one immediate
 * transaction: every affected package is replaced or none is, and readers
 * (WAL) keep their snapshot meanwhile.
 */
export function applyDiff(db: Db, file: string, indexDir: string, diff: SourceDiff, options: BuildOptions): void {
  guarded(file, () => {
    const writer = new IndexWriter(db);
    db.transaction(() => {
      for (const path of diff.removed) writer.remove(path);
      for (const source of diff.changed) writer.remove(source.path);
      const from = writer.nextId();
      insertRows(writer, readRows(indexDir, diff.changed), progressCounter(diff.changed.length, options));
      writer.saveVocabulary();
      assertNoConflicts(db, from, indexDir);
      writer.setMeta({ updatedAt: new Date().toISOString() });
    }).immediate();
  });
}

export interface ValidationProblem {
  code: string;
  message: string;
  source: string;
  pointer?: string;
}

export interface ValidationReport {
  indexDir: string;
  files: number;
  packages: number;
  problems: ValidationProblem[];
  /** What is allowed but worth a look (invisible text in a description): never a reason to fail. */
  warnings: ValidationProblem[];
}

/**
 * Checks every file of an index folder and reports every problem, not just
 * the first: each file on its own, then the cross-file rules, by loading the
 * entries into a throw-away in-memory database with the same writer a build
 * uses (names and driver ids only). Nothing is written to disk.
 */
export function validateIndexDir(indexDir: string, options: ReadIndexOptions = {}): ValidationReport {
  return readIndexDir(indexDir, options).report;
}

/**
 * What the label rules and the audit log say of entries: the one check
 * index validate, publish and the client's update run. `labelled`: every
 * label meets the rules the entry alone can show, whatever the log says (a
 * hand-made Verified with a matching record); `logged`: every tracked value,
 * and the label's notes, is what the log says (E_LOG_UNEXPLAINED).
 */
export function auditProblems(labelled: Array<{ path: string; entry: IndexEntry }> | null, logged: { log: LogState; entries: IndexEntry[]; files?: string[] } | null, source: (path: string) => string): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  for (const { path, entry } of labelled ?? []) {
    const shortfalls = labelShortfalls(entry);
    if (shortfalls.length > 0) problems.push({ code: 'E_LABEL_REQUIREMENTS', message: `${entry.ecosystem}:${entry.name} is labelled ${entry.label.value} without meeting its rules: ${describeShortfalls(shortfalls)}`, source: source(path), pointer: '/label/value' });
  }
  if (logged) for (const gap of unexplained(logged.entries, logged.log, logged.files)) problems.push({ code: 'E_LOG_UNEXPLAINED', message: gap.message, source: source(LOG_FILE) });
  return problems;
}

export interface ReadIndexOptions {
  /** The index root the audit log's signatures are checked against (default: root.json in the index folder; without either, an unsigned log is not a problem, a signed one is). */
  root?: string;
  /** The log a published snapshot signs (its length and head, and the snapshot version): the log must extend it (E_LOG_CHAIN). */
  published?: { records: number; head: string; version: number };
}

/**
 * validateIndexDir, also handing back every entry that passed on its own, in
 * file order, so a caller need not read them again, and what the read of the
 * audit log found (its length, head and state; never the records, so a long
 * log takes no more memory than a short one).
 */
export function readIndexDir(indexDir: string, options: ReadIndexOptions = {}): { report: ValidationReport; entries: Array<{ path: string; entry: IndexEntry }>; log: LogScan | null } {
  const { sources, misplaced } = listSources(indexDir);
  const warnings: ValidationProblem[] = [];
  const problems: ValidationProblem[] = misplaced.map((rel) => {
    const error = misplacedError(indexDir, rel);
    return { code: error.code, message: error.message, source: String(error.details.source) };
  });
  const db = openDb(':memory:', { create: true, busyTimeoutMs: 0 });
  try {
    const writer = new IndexWriter(db, true);
    const problem = (error: McsError): ValidationProblem => {
      const pointer = typeof error.details.pointer === 'string' ? error.details.pointer : undefined;
      const source = typeof error.details.source === 'string' ? error.details.source : indexDir;
      return { code: error.code, message: error.message, source, ...(pointer ? { pointer } : {}) };
    };
    const read: Array<{ path: string; entry: IndexEntry }> = [];
    // one transaction: row by row, each insert would commit on its own and FTS5 would merge a segment each time
    db.transaction(() => {
      for (const source of sources) {
        try {
          const entry = readEntry(indexDir, source.path);
          writer.insert(toPackageRow(entry, source.path), source);
          read.push({ path: source.path, entry });
          warnings.push(...invisibleProseWarnings(entry, join(indexDir, source.path)));
        } catch (error) {
          if (!(error instanceof McsError)) throw error;
          problems.push(problem(error));
        }
      }
    })();
    for (const conflict of findConflicts(db, 0)) problems.push(problem(conflictError(conflict, indexDir)));
    // the audit log, when the folder keeps one: an intact chain, and every current value explained by it
    const logFile = join(indexDir, LOG_FILE);
    if (!existsSync(logFile) && read.length > 0) {
      problems.push({ code: 'E_LOG_UNEXPLAINED', message: `${indexDir}: no audit log (${LOG_FILE}), so no change is accounted for; a new index starts one with mcs-pkg index log --init`, source: logFile });
    }
    problems.push(...auditProblems(read, null, (path) => join(indexDir, path)));
    let log: LogScan | null = null;
    if (existsSync(logFile)) {
      try {
        const root = indexRootOf(indexDir, options.root);
        const scan = scanLogFile(logFile, { ...(root ? { keys: logKeysOf(root.root) } : {}), ...(options.published ? { hashAt: options.published.records } : {}) });
        log = scan;
        if (options.published) assertLogExtends(options.published, scan, `the one snapshot version ${options.published.version} was published from`);
        if (scan.adoptedAt !== null && !root) {
          problems.push({ code: 'E_LOG_SIGNATURE', message: `${logFile}: the log is signed, but there is no index root to check its signatures against; keep root.json in ${indexDir} or give --root root.json`, source: logFile });
        } else if (root && scan.adoptedAt === null && scan.records > 0) {
          problems.push({ code: 'E_LOG_UNSIGNED', message: `${logFile}: no record is signed, but ${root.source} lists the maintainers who must sign them; adopt the log once, after reviewing it: mcs-pkg index log --upgrade --key FILE --reason TEXT`, source: logFile });
        }
        const files = sources.map((source) => source.path.replace(/\.json$/, '').replace('/', ':'));
        problems.push(...auditProblems(null, { log: scan, entries: read.map((item) => item.entry), files }, () => logFile));
      } catch (error) {
        if (!(error instanceof McsError)) throw error;
        problems.push(problem(error));
      }
    }
    return { report: { indexDir, files: sources.length, packages: read.length, problems, warnings }, entries: read, log };
  } finally {
    db.close();
  }
}
