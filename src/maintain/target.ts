/** Where maintainers' changes and outputs may go: anywhere but the files mcs-pkg itself ships and runs from. */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { packageRoot } from '../config.js';
import { McsError } from '../errors.js';

/** What an install of mcs-pkg consists of (package.json "files", its dependencies and manifests): replaced by the next install or build. */
const SHIPPED = ['index-data', 'schemas', 'dist', 'node_modules', 'package.json', 'package-lock.json'] as const;

/** The real path of `path`, or of the nearest folder above it that exists, with the rest appended (a folder a change is about to create). */
function realOrPlanned(path: string): string {
  const absolute = resolve(path);
  if (existsSync(absolute)) return realpathSync(absolute);
  const parent = dirname(absolute);
  return parent === absolute ? absolute : resolve(realOrPlanned(parent), relative(parent, absolute));
}

/** Whether `path` is `folder` or below it: a relative path leads outside only as `..`, `../…`, or another root (`..x` is a name inside). */
export function isWithin(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel));
}

/**
 * Refuses a path (through any symlink, existing or about to be created) that
 * is mcs-pkg's install folder itself or inside what it ships there: its
 * embedded index-data, schemas/, dist/, node_modules/ and package files. A
 * write there goes nowhere its maintainer expects (the embedded index is not
 * read once `update` installed a snapshot, and the next install replaces it)
 * or breaks the program. Any other folder is the maintainer's, including one
 * inside a clone of mcs-pkg (`--index my-index` in the checkout).
 * `wayOut` says what to give instead.
 */
export function assertOutsideInstall(path: string, wayOut: string): void {
  const root = realOrPlanned(packageRoot());
  const target = realOrPlanned(path);
  const shipped = target === root ? root : SHIPPED.map((name) => join(root, name)).find((part) => isWithin(part, target));
  if (shipped === undefined) return;
  throw new McsError(
    'E_USAGE',
    `${path} is inside mcs-pkg's install folder (${shipped === root ? root : `${root}, in ${relative(root, shipped)}`}), which is the program's own and replaced by the next install; ${wayOut}`,
    { details: { path, installFolder: root, shipped } },
  );
}

/** Refuses an index-data folder to change that is mcs-pkg's own (see assertOutsideInstall). */
export function assertWritableIndexDir(indexDir: string): void {
  assertOutsideInstall(indexDir, 'give the index-data folder of your index (a checkout of its repository, or an empty folder for a new one) with --index DIR');
}
