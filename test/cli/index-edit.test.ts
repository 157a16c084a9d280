/** Maintainers' state commands through the real binary, on a copy of the embedded index: every change lands in the audit log. */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/index-data.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
const EMBEDDED = fileURLToPath(new URL('../../index-data', import.meta.url));
let dir: string;
let index: string;

function run(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args, '--index', index], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, MCS_PKG_CACHE: join(dir, 'cache') }, encoding: 'utf8' });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  dir = tempDir('mcs-edit-cli-');
  index = join(dir, 'index-data');
  cpSync(EMBEDDED, index, { recursive: true });
});
afterAll(() => removeDir(dir));

it('yanks and quarantines through the log, refuses an unsigned change, and validate catches an edit behind its back', () => {
  const entryFile = join(index, 'pypi', 'mcs-driver-csv.json');
  const version = Object.keys(JSON.parse(readFileSync(entryFile, 'utf8')).versions)[0] as string;
  const before = readFileSync(entryFile, 'utf8');
  const unsigned = run(['index', 'yank', `mcs-driver-csv@${version}`]);
  expect(unsigned.status).toBe(2);
  expect(unsigned.stderr).toMatch(/^error E_USAGE: .*--by/);
  expect(readFileSync(entryFile, 'utf8')).toBe(before);

  const yank = run(['index', 'yank', `mcs-driver-csv@${version}`, '--by', 'alice', '--reason', 'broken wheel', '--json']);
  expect(yank.status).toBe(0);
  expect(JSON.parse(yank.stdout)).toMatchObject([{ package: 'pypi:mcs-driver-csv', by: 'alice', why: 'broken wheel', after: 'broken wheel' }]);
  expect(JSON.parse(readFileSync(entryFile, 'utf8')).versions[version].yanked).toMatchObject({ reason: 'broken wheel', by: 'alice' });

  expect(run(['index', 'quarantine', 'pypi:mcs-driver-mail', '--by', 'bob', '--reason', 'investigating']).status).toBe(0);
  const log = JSON.parse(run(['index', 'log', 'mcs-driver-mail', '--json']).stdout) as Array<{ field: string; by: string }>;
  expect(log.map((r) => [r.field, r.by])).toContainEqual(['quarantine', 'bob']);
  expect(run(['index', 'validate']).status).toBe(0);

  const mailFile = join(index, 'pypi', 'mcs-driver-mail.json');
  writeFileSync(mailFile, readFileSync(mailFile, 'utf8').replace('"investigating"', '"nothing to see"'));
  const tampered = run(['index', 'validate']);
  expect(tampered.status).toBe(1);
  expect(tampered.stdout + tampered.stderr).toMatch(/E_LOG_UNEXPLAINED pypi:mcs-driver-mail: quarantine/);
});

it('index log: one package by name, E_NOT_FOUND for a package the index lacks, and a hint where no log is kept', () => {
  const csv = run(['index', 'log', 'mcs-driver-csv', '--json']);
  expect(csv.status).toBe(0);
  const records = JSON.parse(csv.stdout) as Array<{ package: string }>;
  expect(records.length).toBeGreaterThan(0);
  expect(new Set(records.map((r) => r.package))).toEqual(new Set(['pypi:mcs-driver-csv']));
  const missing = run(['index', 'log', 'mcs-driver-nope']);
  expect(missing.status).toBe(2);
  expect(missing.stderr).toMatch(/^error E_NOT_FOUND: mcs-driver-nope is not in /);
  const bare = join(dir, 'bare-index');
  cpSync(join(index, 'pypi'), join(bare, 'pypi'), { recursive: true });
  const result = spawnSync(process.execPath, [BIN, 'index', 'log', '--index', bare], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir }, encoding: 'utf8' });
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/keeps no audit log yet; start one with mcs-pkg index log --init/);
});

it('index permissions declares what a package needs through the log; validate accepts it, a hand edit of the same field is unexplained', () => {
  index = join(dir, 'index-permissions'); // a copy of its own: an earlier test leaves its index tampered on purpose
  cpSync(EMBEDDED, index, { recursive: true });
  const entryFile = join(index, 'pypi', 'mcs-driver-rest.json');
  const read = () => JSON.parse(readFileSync(entryFile, 'utf8')) as { security?: { permissions?: string[]; notes?: unknown[] } };
  const notes = read().security?.notes;
  const none = run(['index', 'permissions', 'mcs-driver-rest', '--by', 'alice', '--reason', 'x']);
  expect(none.status).toBe(2);
  expect(none.stderr).toMatch(/^error E_USAGE: name what the package needs with --permission TAG/);
  const bad = run(['index', 'permissions', 'mcs-driver-rest', '--permission', 'root', '--by', 'alice', '--reason', 'x']);
  expect(bad.status).toBe(2);

  const set = run(['index', 'permissions', 'pypi:mcs-driver-rest', '--permission', 'secrets', '--permission', 'network', '--permission', 'network', '--by', 'alice', '--reason', 'calls the API it is configured for', '--json']);
  expect(set.status).toBe(0);
  expect(JSON.parse(set.stdout)).toMatchObject([{ package: 'pypi:mcs-driver-rest', field: 'security', by: 'alice', why: 'calls the API it is configured for' }]);
  expect(read().security?.permissions).toEqual(['network', 'secrets']);
  expect(read().security?.notes).toEqual(notes);
  expect(run(['index', 'validate']).status).toBe(0);

  const cleared = run(['index', 'permissions', 'mcs-driver-rest', '--none', '--by', 'alice', '--reason', 'review: no network after all']);
  expect(cleared.status).toBe(0);
  expect(read().security?.permissions).toBeUndefined();
  expect(run(['index', 'validate']).status).toBe(0);

  writeFileSync(entryFile, JSON.stringify({ ...read(), security: { ...read().security, permissions: ['shell'] } }, null, 2));
  const tampered = run(['index', 'validate']);
  expect(tampered.status).toBe(1);
  expect(tampered.stdout + tampered.stderr).toMatch(/E_LOG_UNEXPLAINED pypi:mcs-driver-rest: security/);
});
