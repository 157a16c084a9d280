/**
 * One index-data file read as an entry, and as the row a database stores:
 * no database code here, so a worker thread can do this part of a build.
 */
import { join } from 'node:path';
import { DEFAULT_MAX_ENTRY_BYTES, DEFAULT_MAX_ENTRY_DEPTH } from '../config.js';
import { McsError } from '../errors.js';
import { readFileCapped } from '../files.js';
import { parseJsonStrict } from '../manifest/json.js';
import type { IndexEntry } from '../manifest/types.js';
import { assertIndexEntry } from '../manifest/validate.js';
import type { PackageRow, SourceStamp } from './db.js';
import { toPackageRow } from './rows.js';

/**
 * Reads, parses and validates one entry file, and checks that it sits where
 * its name says (<ecosystem>/<name>.json), so that one package has one file.
 */
export function readEntry(indexDir: string, relPath: string): IndexEntry {
  const file = join(indexDir, relPath);
  const bytes = readFileCapped(file, DEFAULT_MAX_ENTRY_BYTES, 'index entry', { code: 'E_INDEX_IO', tooLargeCode: 'E_JSON_TOO_LARGE', noFollow: true });
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

