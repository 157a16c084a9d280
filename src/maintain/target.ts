/** Where maintainers' changes may go: any index-data folder but the one mcs-pkg is installed with. */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { packageRoot } from '../config.js';
import { McsError } from '../errors.js';

/** The real path of `path`, or of the nearest folder above it that exists, with the rest appended (a folder a change is about to create). */
function realOrPlanned(path: string): string {
  const absolute = resolve(path);
  if (existsSync(absolute)) return realpathSync(absolute);
  const parent = dirname(absolute);
  return parent === absolute ? absolute : resolve(realOrPlanned(parent), relative(parent, absolute));
}

/**
 * Refuses a change to a folder inside mcs-pkg's own install folder (through
 * any symlink): the embedded index is a shipped copy, replaced by the next
 * install and not read at all once `update` installed a snapshot, so a change
 * there would go nowhere its maintainer expects.
 */
export function assertWritableIndexDir(indexDir: string): void {
  const root = realOrPlanned(packageRoot());
  const inside = relative(root, realOrPlanned(indexDir));
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) {
    throw new McsError(
      'E_USAGE',
      `${indexDir} is inside mcs-pkg's install folder (${root}), whose index is a shipped copy that is never changed in place; ` +
        'give the index-data folder of your index (a checkout of its repository, or an empty folder for a new one) with --index DIR',
      { details: { indexDir, installFolder: root } },
    );
  }
}
