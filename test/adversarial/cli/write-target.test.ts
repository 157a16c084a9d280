/**
 * Commands that change an index write only where the maintainer said, never
 * into the index mcs-pkg is installed with (which reads skip once `update`
 * installed a snapshot): without --index, or with --index inside the install
 * folder by any path, they refuse with E_USAGE and the shipped files stay as
 * they were, byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedIndexDir, packageRoot } from '../../../src/config.js';
import { initLog, yankVersion } from '../../../src/maintain/edit.js';
import { removeDir, tempDir } from '../../helpers/index-data.js';

const BIN = join(packageRoot(), 'dist', 'cli', 'bin.js');
const EMBEDDED = embeddedIndexDir();
const AUTHOR = ['--by', 'alice', '--reason', 'review 1'];
const WRITES: string[][] = [
  ['index', 'add', 'mcs-driver-csv', '--yes'],
  ['index', 'sync'],
  ['index', 'sync', '--dry-run'],
  ['index', 'label', 'mcs-driver-csv', 'community'],
  ['index', 'yank', 'mcs-driver-csv@0.1.3'],
  ['index', 'deprecate', 'mcs-driver-csv@0.1.3'],
  ['index', 'quarantine', 'mcs-driver-csv'],
  ['index', 'log', '--init'],
  ['index', 'log', '--upgrade'],
];

let dir: string;

/** Every file of a folder with the sha256 of its bytes, and every name in it: what "nothing was written" means. */
function fingerprint(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (folder: string): void => {
    for (const name of readdirSync(folder).sort()) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[path.slice(root.length)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(root);
  return out;
}

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir, MCS_PKG_CACHE: join(dir, 'cache') } });
}

beforeAll(() => {
  dir = tempDir('mcs-write-target-');
  symlinkSync(EMBEDDED, join(dir, 'linked-index'));
});
afterAll(() => removeDir(dir));

describe('write commands and the install folder', () => {
  it.each(WRITES.map((argv) => [argv.join(' '), argv]))('%s without --index: E_USAGE saying to give --index, exit 2, nothing written', (_, argv) => {
    const before = fingerprint(EMBEDDED);
    const result = run([...argv, ...AUTHOR]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^error E_USAGE: index \w+.* changes an index-data folder: say which with --index DIR/);
    expect(fingerprint(EMBEDDED)).toEqual(before);
  });

  it.each(WRITES.map((argv) => [argv.join(' '), argv]))('%s with --index inside the install folder (directly, below it, through a symlink): E_USAGE, exit 2, nothing written', (_, argv) => {
    const before = fingerprint(EMBEDDED);
    for (const target of [EMBEDDED, join(EMBEDDED, 'not-yet', 'there'), join(dir, 'linked-index')]) {
      const result = run([...argv, ...AUTHOR, '--index', target]);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/^error E_USAGE: .* is inside mcs-pkg's install folder .*--index DIR/);
    }
    expect(fingerprint(EMBEDDED)).toEqual(before);
  });

  it('reads need no target: index log and index validate read the embedded index', () => {
    expect(run(['index', 'log', 'mcs-driver-csv', '--json']).status).toBe(0);
    expect(run(['index', 'validate']).status).toBe(0);
  });

  it('the library refuses too, whichever path names the install folder', () => {
    const before = fingerprint(EMBEDDED);
    expect(() => yankVersion(EMBEDDED, 'mcs-driver-csv', '0.1.3', { by: 'alice', why: 'x' })).toThrowWithCode('E_USAGE');
    expect(() => initLog(join(dir, 'linked-index'), { by: 'alice', why: 'x' })).toThrowWithCode('E_USAGE');
    expect(fingerprint(EMBEDDED)).toEqual(before);
  });
});
