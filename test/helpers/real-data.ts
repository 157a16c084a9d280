/** A folder of real registry data beside the repository (../shared/<folder>, or $<envVar>); tests that need it skip, saying why, when it is absent. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface RealData {
  dir: string;
  present: boolean;
  bytes(file: string): Buffer;
  json(file: string): unknown;
}

export function realData(folder: string, envVar: string, what: string): RealData {
  const dir = resolve(process.env[envVar] ?? join(fileURLToPath(new URL('../../', import.meta.url)), '..', 'shared', folder));
  const present = existsSync(join(dir, 'README.md'));
  if (!present) process.stderr.write(`real ${what} data not found at ${dir} (set ${envVar}): tests that need it are skipped\n`);
  const bytes = (file: string): Buffer => readFileSync(join(dir, file));
  return { dir, present, bytes, json: (file) => JSON.parse(bytes(file).toString('utf8')) };
}
