/**
 * The source files of an index folder and how they differ from what a
 * database was built from. Kept apart from build.ts so that the freshness
 * check on every search loads no validator.
 */
import { lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { McsError } from '../errors.js';
import type { SourceStamp } from './db.js';

/** The ecosystem folders of index-data/; anything else in the folder is not index content. */
const ECOSYSTEM_DIRS = ['npm', 'pypi'] as const;

function stamp(path: string, stats: BigIntStats): SourceStamp {
  return { path, size: Number(stats.size), mtimeNs: stats.mtimeNs.toString() };
}

/**
 * Lists the entry files of an index folder with the size and modification
 * time that decide whether the database is still current. Links are refused
 * rather than followed: reviewed data must live inside the reviewed folder.
 */
export function listSources(indexDir: string): SourceStamp[] {
  let top: BigIntStats;
  try {
    top = lstatSync(indexDir, { bigint: true });
  } catch (cause) {
    throw new McsError('E_INDEX_NOT_FOUND', `index folder ${indexDir} does not exist`, { cause, details: { indexDir } });
  }
  if (!top.isDirectory()) throw new McsError('E_INDEX_NOT_FOUND', `index folder ${indexDir} is not a directory`, { details: { indexDir } });
  const sources: SourceStamp[] = [];
  const walk = (relDir: string, depth: number): void => {
    let entries;
    try {
      entries = readdirSync(join(indexDir, relDir), { withFileTypes: true });
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT' && depth === 0) return;
      throw new McsError('E_INDEX_IO', `cannot read ${join(indexDir, relDir)}: ${(cause as Error).message}`, { cause });
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const rel = `${relDir}/${entry.name}`;
      if (entry.isSymbolicLink()) {
        throw new McsError('E_INDEX_PATH', `${join(indexDir, rel)}: symbolic links are not followed in an index folder`, {
          details: { source: rel },
        });
      }
      if (entry.isDirectory() && depth === 0 && relDir === 'npm' && entry.name.startsWith('@')) {
        walk(rel, 1);
      } else if (entry.isFile() && entry.name.endsWith('.json')) {
        sources.push(stamp(rel, lstatSync(join(indexDir, rel), { bigint: true })));
      }
    }
  };
  for (const dir of ECOSYSTEM_DIRS) walk(dir, 0);
  sources.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return sources;
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
    if (!old || old.size !== source.size || old.mtimeNs !== source.mtimeNs) changed.push(source);
  }
  const removed = [...recorded.keys()].filter((path) => !seen.has(path));
  return { changed, removed };
}
