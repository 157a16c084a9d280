/**
 * The write guard protects what mcs-pkg ships (its embedded index-data,
 * schemas/, dist/, node_modules/ and package files), compares paths by
 * segment (a folder named `..x` is inside), and guards every command that
 * writes files: `--index`, and the `--out` of index keygen, root and publish.
 * Any other folder is the maintainer's, also one inside a clone, so the
 * README's `--index my-index` works from a checkout.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedIndexDir, packageRoot } from '../../../src/config.js';
import { isWithin } from '../../../src/maintain/target.js';
import { generateMaintainerKey } from '../../../src/snapshot/maintainer.js';
import { removeDir, tempDir } from '../../helpers/index-data.js';

const ROOT = packageRoot();
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
let home: string;
let inClone: string;

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: home, MCS_PKG_CACHE: join(home, 'cache') } });
}

beforeAll(() => {
  home = tempDir('mcs-install-guard-');
  inClone = join(ROOT, `.test-my-index-${process.pid}`);
});
afterAll(() => {
  removeDir(home);
  removeDir(inClone);
  removeDir(join(ROOT, 'dist', '..x'));
});

describe('path comparison', () => {
  it('a name starting with two dots is inside; `..`, `../…` and another root are outside', () => {
    expect(isWithin('/opt/mcs', '/opt/mcs/..x')).toBe(true);
    expect(isWithin('/opt/mcs', '/opt/mcs/..x/y')).toBe(true);
    expect(isWithin('/opt/mcs', '/opt/mcs')).toBe(true);
    expect(isWithin('/opt/mcs', '/opt')).toBe(false);
    expect(isWithin('/opt/mcs', '/opt/mcs-other')).toBe(false);
    expect(isWithin('/opt/mcs', '/opt/other/x')).toBe(false);
  });
});

describe('every command that writes files refuses the program\'s own files', () => {
  const TARGETS = [
    join(embeddedIndexDir(), 'mine'),
    join(ROOT, 'dist', '..x', 'mine'),
    join(ROOT, 'schemas', 'mine'),
    join(ROOT, 'node_modules', 'mine'),
    join(ROOT, 'package.json'),
  ];

  it.each(TARGETS)('%s: keygen, root, publish and --index exit 2 with E_USAGE and create nothing', (target) => {
    const key = join(home, `k-${TARGETS.indexOf(target)}.pem`);
    if (!existsSync(key)) generateMaintainerKey({ out: key });
    for (const argv of [
      ['index', 'keygen', '--out', join(target, 'alice.pem')],
      ['index', 'root', '--out', join(target, 'root.json'), '--member', `${key}.pub`, '--sign', key, '--threshold', '1'],
      ['index', 'publish', '--out', join(target, 'site'), '--root', join(home, 'root.json'), '--key', key, '--snapshot-version', '1'],
      ['index', 'yank', 'mcs-driver-csv@0.1.3', '--index', target, '--by', 'alice', '--reason', 'x'],
    ]) {
      const result = run(argv);
      expect(result.status, argv.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^error E_USAGE: .* is inside mcs-pkg's install folder/);
      if (target !== join(ROOT, 'package.json')) expect(existsSync(target), argv.join(' ')).toBe(false);
    }
  });

  it('the library refuses too (keygen into the embedded index)', () => {
    expect(() => generateMaintainerKey({ out: join(embeddedIndexDir(), 'alice.pem') })).toThrowWithCode('E_USAGE');
    expect(existsSync(join(embeddedIndexDir(), 'alice.pem'))).toBe(false);
  });
});

describe('a maintainer folder inside a clone of mcs-pkg', () => {
  it('is writable: keygen --out and --index my-index work there, exit 0', () => {
    mkdirSync(inClone);
    cpSync(embeddedIndexDir(), inClone, { recursive: true });
    const keygen = run(['index', 'keygen', '--out', join(inClone, 'alice.pem')]);
    expect(keygen.status, keygen.stderr).toBe(0);
    expect(existsSync(join(inClone, 'alice.pem.pub'))).toBe(true);
    const yank = run(['index', 'yank', 'mcs-driver-csv@0.1.3', '--index', inClone, '--by', 'alice', '--reason', 'reads outside baseDir']);
    expect(yank.status, yank.stderr).toBe(0);
  });
});
