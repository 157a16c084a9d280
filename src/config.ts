import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileCapped } from './files.js';

/** Milliseconds a writer waits for another process's lock on the index database. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** Largest index-data document accepted. */
export const DEFAULT_MAX_ENTRY_BYTES = 1024 * 1024;
/** Deepest nesting accepted in an index-data document. */
export const DEFAULT_MAX_ENTRY_DEPTH = 32;
/** Results returned by a search when no limit is given. */
export const DEFAULT_SEARCH_LIMIT = 20;
/** Upper bound on any search limit. */
export const MAX_SEARCH_LIMIT = 1000;

let cachedRoot: string | undefined;

/**
 * The installed package's root (holding package.json, schemas/ and the
 * embedded index-data/), found by walking up from this module so that it is
 * the same whether the code runs from src/ or from the compiled dist/src/.
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileCapped(manifest, 1024 * 1024, 'package manifest', { code: 'E_INTERNAL' }).toString('utf8')) as { name?: string }).name === 'mcs-pkg') {
      cachedRoot = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('mcs-pkg: cannot locate the package root from ' + import.meta.url);
    dir = parent;
  }
}

/** The reviewed index shipped with mcs-pkg. */
export function embeddedIndexDir(): string {
  return join(packageRoot(), 'index-data');
}

/** The index commands use: the one `mcs-pkg update` last installed (under the cache folder) from a signed snapshot, else the embedded one. */
export function defaultIndexDir(cacheDir: string = defaultCacheDir()): string {
  const updated = join(defaultIndexStateDir(cacheDir), 'current');
  return existsSync(updated) ? updated : embeddedIndexDir();
}

export function schemasDir(): string {
  return join(packageRoot(), 'schemas');
}

/** Where `update` keeps the installed index, its trusted index root and its state: `<cache>/index-state`. */
export function defaultIndexStateDir(cacheDir: string = defaultCacheDir()): string {
  return join(cacheDir, 'index-state');
}

/** The loader's driver cache (verified tarballs and unpacked drivers) inside a cache folder: `<cache>/loader`. */
export function defaultDriverCacheDir(cacheDir: string = defaultCacheDir()): string {
  return join(cacheDir, 'loader');
}

/** Per-user cache folder: $MCS_PKG_CACHE, else $XDG_CACHE_HOME/mcs-pkg, else ~/.cache/mcs-pkg. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MCS_PKG_CACHE) return resolve(env.MCS_PKG_CACHE);
  const xdg = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith('/') ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(xdg, 'mcs-pkg');
}
