/** The maintainers' snapshot workflow through the real binary: keys, a 2-of-3 root, publish, update, refusal. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/index-data.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
let dir: string;

function run(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, MCS_PKG_CACHE: join(dir, 'cache') }, encoding: 'utf8' });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  dir = tempDir('mcs-snapshot-cli-');
});
afterAll(() => removeDir(dir));

it('creates keys and a root, publishes, updates, serves the updated index, and refuses an under-signed snapshot', () => {
  for (const key of ['a', 'b', 'c']) expect(run(['index', 'keygen', '--out', `${key}.pem`]).status).toBe(0);
  expect(run(['index', 'root', '--out', 'root.json', '--member', 'a.pem', '--member', 'b.pem', '--member', 'c.pem', '--threshold', '2', '--sign', 'a.pem', '--sign', 'b.pem']).status).toBe(0);
  expect(run(['index', 'publish', '--out', 'snap', '--root', 'root.json', '--key', 'a.pem', '--key', 'c.pem']).status).toBe(0);
  const first = run(['update', '--from', 'snap', '--root', 'root.json', '--json']);
  expect(first.status).toBe(0);
  expect(JSON.parse(first.stdout)).toMatchObject({ status: 'updated', version: 1, rootVersion: 1 });
  expect(JSON.parse(run(['search', 'csv', '--json']).stdout).results[0].name).toBe('mcs-driver-csv');
  expect(run(['index', 'publish', '--out', 'snap', '--root', 'root.json', '--key', 'a.pem']).status).toBe(0);
  const refused = run(['update', '--from', 'snap']);
  expect(refused.status).toBe(1);
  expect(refused.stderr).toMatch(/^error E_INDEX_SIGNATURE: /);
});
