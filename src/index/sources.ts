/**
 * The source files of an index folder and how they differ from what a
 * database was built from. Kept apart from build.ts so that the freshness
 * check on every search loads no validator.
 *
 * A file counts as unchanged when its size, modification time, change time
 * and inode all match. ctime cannot be set back by `touch -r`, tar or rsync,
 * and an atomic save changes the inode. A file changed within one filesystem
 * clock tick of the listing is "racy" (as git calls it): a later edit in the
 * same tick would leave every stamp equal, so it is recorded as unknown and
 * read again next time.
 */
import { lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { McsError } from '../errors.js';
import type { SourceStamp } from './db.js';

/** The ecosystem folders of index-data/; other folders are not index content. */
const ECOSYSTEM_DIRS = ['npm', 'pypi'] as const;

/** Timestamp granularity assumed for filesystems with sub-second times (Linux: one coarse clock tick). */
const FINE_TICK_NS = 20_000_000n;
/** ... and for filesystems that keep whole seconds (FAT keeps two). */
const COARSE_TICK_NS = 2_000_000_000n;

/** The stamp value recorded for a racy file: it never equals a real one. */
export const RACY = 'racy';

export interface SourceListing {
  sources: SourceStamp[];
  /** Files inside the ecosystem folders (or JSON at the top) that are not at <ecosystem>/[@scope/]<name>.json. */
  misplaced: string[];
}

function isRacy(stats: BigIntStats, listedAtNs: bigint): boolean {
  const whole = stats.ctimeNs % 1_000_000_000n === 0n && stats.mtimeNs % 1_000_000_000n === 0n;
  return stats.ctimeNs >= listedAtNs - (whole ? COARSE_TICK_NS : FINE_TICK_NS);
}

function stamp(path: string, stats: BigIntStats, listedAtNs: bigint): SourceStamp {
  const racy = isRacy(stats, listedAtNs);
  return {
    path,
    size: Number(stats.size),
    mtimeNs: racy ? RACY : stats.mtimeNs.toString(),
    ctimeNs: stats.ctimeNs.toString(),
    ino: stats.ino.toString(),
  };
}

/**
 * Lists the entry files of an index folder with the stamps that decide
 * whether the database is still current. Links are refused rather than
 * followed: reviewed data must live inside the reviewed folder. A file that
 * disappears while the folder is walked is simply not listed.
 */
export function listSources(indexDir: string): SourceListing {
  let top: BigIntStats;
  try {
    top = lstatSync(indexDir, { bigint: true });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new McsError('E_INDEX_NOT_FOUND', `index folder ${indexDir} does not exist`, { cause, details: { indexDir } });
    throw new McsError('E_INDEX_IO', `cannot read index folder ${indexDir}: ${(cause as Error).message}`, { cause, details: { indexDir } });
  }
  if (!top.isDirectory()) throw new McsError('E_INDEX_NOT_FOUND', `index folder ${indexDir} is not a directory`, { details: { indexDir } });
  const listedAtNs = BigInt(Date.now()) * 1_000_000n;
  const sources: SourceStamp[] = [];
  const misplaced: string[] = [];
  const entries = (relDir: string) => {
    try {
      return readdirSync(join(indexDir, relDir), { withFileTypes: true });
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new McsError('E_INDEX_IO', `cannot read ${join(indexDir, relDir)}: ${(cause as Error).message}`, { cause });
    }
  };
  const walk = (relDir: string, scoped: boolean): void => {
    for (const entry of entries(relDir)) {
      if (entry.name.startsWith('.')) continue;
      const rel = `${relDir}/${entry.name}`;
      if (entry.isSymbolicLink()) {
        throw new McsError('E_INDEX_PATH', `${join(indexDir, rel)}: symbolic links are not followed in an index folder`, { details: { source: rel } });
      }
      if (entry.isDirectory() && relDir === 'npm' && !scoped && entry.name.startsWith('@')) {
        walk(rel, true);
      } else if (entry.isFile() && entry.name.endsWith('.json')) {
        let stats: BigIntStats;
        try {
          stats = lstatSync(join(indexDir, rel), { bigint: true });
        } catch (cause) {
          if ((cause as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw new McsError('E_INDEX_IO', `cannot read ${join(indexDir, rel)}: ${(cause as Error).message}`, { cause });
        }
        sources.push(stamp(rel, stats, listedAtNs));
      } else {
        misplaced.push(rel);
      }
    }
  };
  for (const dir of ECOSYSTEM_DIRS) walk(dir, false);
  for (const entry of entries('')) {
    // root.json is the index root whose maintainer keys sign the audit log, not an entry
    if (entry.isFile() && entry.name.endsWith('.json') && !entry.name.startsWith('.') && entry.name !== 'root.json') misplaced.push(entry.name);
  }
  sources.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { sources, misplaced };
}

/** The error for the first misplaced file of a listing (a build refuses them; validate lists them all). */
export function misplacedError(indexDir: string, rel: string): McsError {
  return new McsError('E_INDEX_PATH', `${join(indexDir, rel)}: not an index entry location; entries live at <ecosystem>/<name>.json (npm/@scope/<name>.json for scoped npm names)`, {
    details: { source: join(indexDir, rel) },
  });
}

export interface SourceDiff {
  changed: SourceStamp[];
  removed: string[];
}

/** Compares the files on disk with the stamps recorded in the database. */
export function diffSources(current: SourceStamp[], recorded: Map<string, SourceStamp>): SourceDiff {
  const changed: SourceStamp[] = [];
  const seen = new Set<string>();
  for (const source of current) {
    seen.add(source.path);
    const old = recorded.get(source.path);
    if (!old || old.mtimeNs === RACY || source.mtimeNs === RACY || old.size !== source.size || old.mtimeNs !== source.mtimeNs || old.ctimeNs !== source.ctimeNs || old.ino !== source.ino) {
      changed.push(source);
    }
  }
  const removed = [...recorded.keys()].filter((path) => !seen.has(path));
  return { changed, removed };
}
