/**
 * Wheels unpacked into the content-addressed cache: read-only, one folder per
 * wheel named by its sha256, written in one rename after the whole wheel is
 * checked, re-hashed before use, listed, verified and cleaned by `mcs-pkg
 * cache` beside npm drivers, and importable by Python with exactly these
 * folders on sys.path (namespace packages spread over several wheels).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WHEELS_DIR } from '../../src/loader/cache.js';
import { unpackWheel, verifyWheelEntry } from '../../src/pypi/wheel.js';
import { runCli } from '../helpers/cli.js';
import { removeReadOnlyDir, tempDir } from '../helpers/index-data.js';
import { buildWheel, wheelFilename } from '../helpers/wheels.js';

const CORE = buildWheel({
  name: 'mcs-driver-core',
  version: '0.4.1',
  files: { 'mcs/driver/core/__init__.py': 'def greet(name):\n    return "hello " + name\n' },
});
const CSV = buildWheel({
  name: 'mcs-driver-csv',
  version: '0.1.4',
  requiresDist: ['mcs-driver-core>=0.4'],
  files: {
    'mcs/driver/csv/__init__.py': 'from mcs.driver.core import greet\n\nclass CsvDriver:\n    def hello(self):\n        return greet("csv")\n',
    'mcs_driver_csv-0.1.4.data/scripts/csv-tool': '#!/bin/sh\necho never\n',
  },
});
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

let cacheDir: string;
let root: string;
beforeEach(() => {
  cacheDir = tempDir('mcs-wheel-cache-');
  root = join(cacheDir, 'loader');
});
afterEach(() => removeReadOnlyDir(cacheDir));

function modes(dir: string): Map<string, number> {
  const found = new Map<string, number>();
  const walk = (path: string, relative: string): void => {
    const stats = lstatSync(path);
    found.set(relative, stats.mode & 0o777);
    if (stats.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name), relative ? `${relative}/${name}` : name);
  };
  walk(dir, '');
  return found;
}

describe('unpackWheel', () => {
  it('unpacks read-only into wheels/<sha256>/package, as site-packages holds it, without .data/scripts', async () => {
    const unpacked = await unpackWheel(CSV, wheelFilename('mcs-driver-csv', '0.1.4'), root, { sha256: sha256(CSV) });
    expect(unpacked.entry.path).toBe(join(root, WHEELS_DIR, sha256(CSV)));
    expect(unpacked.entry.package).toEqual({ ecosystem: 'pypi', name: 'mcs-driver-csv', version: '0.1.4' });
    expect(unpacked.skipped).toEqual(['mcs_driver_csv-0.1.4.data/scripts/csv-tool']);
    const found = modes(unpacked.entry.packageDir);
    expect([...found.keys()].sort()).toEqual([
      '',
      'mcs',
      'mcs/driver',
      'mcs/driver/csv',
      'mcs/driver/csv/__init__.py',
      'mcs_driver_csv-0.1.4.dist-info',
      'mcs_driver_csv-0.1.4.dist-info/METADATA',
      'mcs_driver_csv-0.1.4.dist-info/RECORD',
      'mcs_driver_csv-0.1.4.dist-info/WHEEL',
    ]);
    for (const [path, mode] of found) expect(mode, path).toBe(path.endsWith('.py') || path.includes('dist-info/') ? 0o444 : 0o555);
    // a second unpack of the same bytes finds the entry and re-hashes it
    const again = await unpackWheel(CSV, wheelFilename('mcs-driver-csv', '0.1.4'), root);
    expect(again.entry.manifestDigest).toBe(unpacked.entry.manifestDigest);
    expect((await verifyWheelEntry(root, sha256(CSV), unpacked.entry.manifestDigest)).files).toHaveLength(4);
  });

  it('gives Python a namespace package spread over two wheels with exactly their folders on sys.path', async () => {
    const core = await unpackWheel(CORE, wheelFilename('mcs-driver-core', '0.4.1'), root);
    const csv = await unpackWheel(CSV, wheelFilename('mcs-driver-csv', '0.1.4'), root);
    expect(existsSync(join(core.entry.packageDir, 'mcs', '__init__.py'))).toBe(false);
    const program = 'import sys, json\nsys.path[:0] = json.loads(sys.argv[1])\nfrom mcs.driver.csv import CsvDriver\nimport mcs\nprint(CsvDriver().hello(), len(list(mcs.__path__)))';
    const out = execFileSync('python3', ['-I', '-S', '-B', '-c', program, JSON.stringify([core.entry.packageDir, csv.entry.packageDir])], { encoding: 'utf8' });
    expect(out.trim()).toBe('hello csv 2');
  });

  it('writes nothing for a wheel that fails its pin or its checks', async () => {
    await expect(unpackWheel(CSV, wheelFilename('mcs-driver-csv', '0.1.4'), root, { sha256: sha256(CORE) })).toThrowWithCode('E_INTEGRITY_MISMATCH');
    expect(existsSync(join(root, WHEELS_DIR))).toBe(false);
    const hostile = buildWheel({ name: 'mcs-driver-csv', version: '0.1.4', files: { 'mcs/driver/csv/__init__.py': 'x = 1\n' }, hostile: { recordMismatch: 'mcs/driver/csv/__init__.py' } });
    await expect(unpackWheel(hostile, wheelFilename('mcs-driver-csv', '0.1.4'), root)).toThrowWithCode('E_WHEEL_RECORD');
    expect(existsSync(join(root, WHEELS_DIR)) ? readdirSync(join(root, WHEELS_DIR)) : []).toEqual([]);
  });

  it('refuses an entry changed after unpacking, on use and on a second unpack', async () => {
    const unpacked = await unpackWheel(CSV, wheelFilename('mcs-driver-csv', '0.1.4'), root);
    const file = join(unpacked.entry.packageDir, 'mcs', 'driver', 'csv', '__init__.py');
    const dir = join(unpacked.entry.packageDir, 'mcs', 'driver', 'csv');
    chmodSync(dir, 0o755);
    chmodSync(file, 0o644);
    writeFileSync(file, 'import os\n');
    chmodSync(file, 0o444);
    chmodSync(dir, 0o555);
    await expect(verifyWheelEntry(root, sha256(CSV))).toThrowWithCode('E_CACHE_TAMPERED');
    await expect(unpackWheel(CSV, wheelFilename('mcs-driver-csv', '0.1.4'), root)).toThrowWithCode('E_CACHE_TAMPERED');
    await expect(verifyWheelEntry(root, sha256(CORE))).toThrowWithCode('E_CACHE_IO');
  });

  it('is listed, verified and cleaned by mcs-pkg cache', async () => {
    await unpackWheel(CSV, wheelFilename('mcs-driver-csv', '0.1.4'), root);
    const env = { MCS_PKG_CACHE: cacheDir };
    const listed = await runCli(['cache', 'ls'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^pypi:mcs-driver-csv@0\.1\.4 {2}sha256-/m);
    expect(listed.stdout).not.toContain('tarball not kept');
    expect((await runCli(['cache', 'verify'], env)).code).toBe(0);
    const file = join(root, WHEELS_DIR, sha256(CSV), 'package', 'mcs_driver_csv-0.1.4.dist-info', 'WHEEL');
    const dir = join(root, WHEELS_DIR, sha256(CSV), 'package', 'mcs_driver_csv-0.1.4.dist-info');
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'extra.pth'), 'import os\n');
    chmodSync(dir, 0o555);
    const verified = await runCli(['cache', 'verify', '--json'], env);
    expect(verified.code).toBe(1);
    expect(JSON.parse(verified.stdout)).toEqual([expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'E_CACHE_TAMPERED' }) })]);
    expect(existsSync(file)).toBe(true);
    const cleaned = await runCli(['cache', 'clean', '--json'], env);
    expect(cleaned.code).toBe(0);
    expect(JSON.parse(cleaned.stdout).removed).toEqual([join(root, WHEELS_DIR, sha256(CSV))]);
    expect(readdirSync(join(root, WHEELS_DIR))).toEqual([]);
  });
});
