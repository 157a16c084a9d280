/**
 * Reads index-data/ and writes it into an index database: a full build into
 * a private file, or an incremental update of a live one, each in a single
 * transaction so that no reader ever sees half of a change.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MAX_ENTRY_BYTES, DEFAULT_MAX_ENTRY_DEPTH } from '../config.js';
import { McsError } from '../errors.js';
import { parseJsonStrict } from '../manifest/json.js';
import type { IndexEntry } from '../manifest/types.js';
import { assertIndexEntry } from '../manifest/validate.js';
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
import { LOG_FILE, readLog, unexplained } from '../maintain/log.js';
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

/** Reads at most maxBytes + 1 bytes, so an oversized file is refused without being read whole. */
function readCapped(file: string, maxBytes: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) {
      throw new McsError('E_JSON_TOO_LARGE', `${file}: ${size} bytes exceeds the limit of ${maxBytes} bytes`, {
        details: { source: file, limit: maxBytes, found: size },
      });
    }
    const buffer = Buffer.allocUnsafe(size + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) {
        throw new McsError('E_JSON_TOO_LARGE', `${file}: grew past the limit of ${maxBytes} bytes while being read`, {
          details: { source: file, limit: maxBytes },
        });
      }
      if (length === buffer.length) break;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads, parses and validates one entry file, and checks that it sits where
 * its name says (<ecosystem>/<name>.json), so that one package has one file.
 */
export function readEntry(indexDir: string, relPath: string): IndexEntry {
  const file = join(indexDir, relPath);
  let bytes: Buffer;
  try {
    bytes = readCapped(file, DEFAULT_MAX_ENTRY_BYTES);
  } catch (cause) {
    if (cause instanceof McsError) throw cause;
    throw new McsError('E_INDEX_IO', `cannot read ${file}: ${(cause as Error).message}`, { cause, details: { source: file } });
  }
  const value = parseJsonStrict(bytes, { source: file, maxBytes: DEFAULT_MAX_ENTRY_BYTES, maxDepth: DEFAULT_MAX_ENTRY_DEPTH });
  assertIndexEntry(value, file);
  const expected = `${value.ecosystem}/${value.name}.json`;
  if (relPath !== expected) {
    throw new McsError('E_INDEX_PATH', `${file}: the entry for ${value.ecosystem}:${value.name} must be stored at ${expected}`, {
      details: { source: file, expected, found: relPath },
    });
  }
  return value;
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

/** A stored row with the stamp of the file it came from. */
export interface SourcedRow {
  row: PackageRow;
  stamp: SourceStamp;
}

/** Reads, validates and translates each source file, lazily, in order. */
export function* readRows(indexDir: string, sources: Iterable<SourceStamp>): Generator<SourcedRow> {
  for (const stamp of sources) {
    let entry: IndexEntry;
    try {
      entry = readEntry(indexDir, stamp.path);
    } catch (error) {
      // removed since it was listed: it is simply not part of this build
      if (error instanceof McsError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') continue;
      throw error;
    }
    yield { row: toPackageRow(entry, stamp.path), stamp };
  }
}

function insertRows(writer: IndexWriter, rows: Iterable<SourcedRow>, total: number, options: BuildOptions): void {
  const every = options.progressEvery ?? 1000;
  let done = 0;
  for (const { row, stamp } of rows) {
    writer.insert(row, stamp);
    done++;
    if (options.onProgress && (done % every === 0 || done === total)) options.onProgress({ phase: 'index', done, total });
  }
}

/**
 * Builds a complete database at `file`, which must not exist yet and is not
 * visible to anyone until the caller renames it into place. Any failure
 * leaves only that private file, which the caller deletes. `displayRoot`
 * names the index folder in messages.
 */
export function buildDatabase(file: string, rows: Iterable<SourcedRow>, total: number, displayRoot: string, options: BuildOptions): void {
  const db = openDb(file, { create: true, busyTimeoutMs: options.busyTimeoutMs });
  try {
    guarded(file, () => {
      configureForBulkBuild(db);
      dropSecondaryIndexes(db);
      const writer = new IndexWriter(db);
      db.transaction(() => {
        insertRows(writer, rows, total, options);
        createSecondaryIndexes(db);
        assertNoConflicts(db, 0, displayRoot);
        writer.setMeta({ indexDir: displayRoot, builtAt: new Date().toISOString(), schemaVersion: String(SCHEMA_VERSION), rowsVersion: String(ROWS_VERSION) });
      })();
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
      insertRows(writer, readRows(indexDir, diff.changed), diff.changed.length, options);
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
}

/**
 * Checks every file of an index folder and reports every problem, not just
 * the first: each file on its own, then the cross-file rules, by loading the
 * entries into a throw-away in-memory database with the same writer a build
 * uses (names and driver ids only). Nothing is written to disk.
 */
export function validateIndexDir(indexDir: string): ValidationReport {
  return readIndexDir(indexDir).report;
}

/** validateIndexDir, also handing back every entry that passed on its own, in file order, so a caller need not read them again. */
export function readIndexDir(indexDir: string): { report: ValidationReport; entries: Array<{ path: string; entry: IndexEntry }> } {
  const { sources, misplaced } = listSources(indexDir);
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
        } catch (error) {
          if (!(error instanceof McsError)) throw error;
          problems.push(problem(error));
        }
      }
    })();
    for (const conflict of findConflicts(db, 0)) problems.push(problem(conflictError(conflict, indexDir)));
    // the audit log, when the folder keeps one: an intact chain, and every current value explained by it
    const logFile = join(indexDir, LOG_FILE);
    if (existsSync(logFile)) {
      try {
        const records = readLog(readFileSync(logFile, 'utf8'), logFile);
        for (const gap of unexplained(read.map((item) => item.entry), records)) {
          problems.push({
            code: 'E_LOG_UNEXPLAINED',
            message:
              gap.key === '*'
                ? `${gap.package}: not in the audit log (added without it; record it with mcs-pkg index log --init)`
                : `${gap.package}: ${gap.key} is ${JSON.stringify(gap.current)}, but the audit log says ${JSON.stringify(gap.logged)} (an edit that bypassed the log)`,
            source: logFile,
          });
        }
      } catch (error) {
        if (!(error instanceof McsError)) throw error;
        problems.push(problem(error));
      }
    }
    return { report: { indexDir, files: sources.length, packages: read.length, problems }, entries: read };
  } finally {
    db.close();
  }
}
