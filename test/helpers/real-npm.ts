/** The real npm data in ../shared/real-npm (or $MCS_REAL_NPM_DIR); tests that need it skip, saying why, when it is absent. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REAL_NPM_DIR = resolve(process.env.MCS_REAL_NPM_DIR ?? join(fileURLToPath(new URL('../../', import.meta.url)), '..', 'shared', 'real-npm'));
export const HAVE_REAL_NPM = existsSync(join(REAL_NPM_DIR, 'README.md'));

if (!HAVE_REAL_NPM) {
  process.stderr.write(`real npm data not found at ${REAL_NPM_DIR} (set MCS_REAL_NPM_DIR): tests that need it are skipped\n`);
}

export function realNpm(file: string): Buffer {
  return readFileSync(join(REAL_NPM_DIR, file));
}

export function realNpmJson(file: string): unknown {
  return JSON.parse(realNpm(file).toString('utf8'));
}
