/**
 * The attack of pypi-warm-tamper.test.ts seen by `mcs-pkg cache verify` and
 * verifyWheelEntry without a Python world: a cached wheel's module and its
 * manifest line changed together, the kept wheel swapped or removed. Each is
 * reported (E_CACHE_TAMPERED, exit 1) because the expected files are derived
 * again from the kept wheel, whose sha256 is the folder name.
 */
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import '../../helpers/matchers.js';
import { MANIFEST_FILE, WHEELS_DIR } from '../../../src/loader/cache.js';
import { unpackWheel, verifyWheelEntry } from '../../../src/pypi/wheel.js';
import { runCli } from '../../helpers/cli.js';
import { removeReadOnlyDir, tempDir } from '../../helpers/index-data.js';
import { buildWheel, wheelFilename } from '../../helpers/wheels.js';

const FILENAME = wheelFilename('mcs-driver-csv', '0.1.4');
const CSV = buildWheel({ name: 'mcs-driver-csv', version: '0.1.4', files: { 'mcs/driver/csv/__init__.py': 'x = 1\n' } });
const OTHER = buildWheel({ name: 'mcs-driver-csv', version: '0.1.4', files: { 'mcs/driver/csv/__init__.py': 'x = 2\n' } });
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

let cacheDir: string;
let root: string;
let entry: string;
beforeEach(async () => {
  cacheDir = tempDir('mcs-wheel-verify-tamper-');
  root = join(cacheDir, 'loader');
  entry = (await unpackWheel(CSV, FILENAME, root, { sha256: sha256(CSV) })).entry.path;
});
afterEach(() => removeReadOnlyDir(cacheDir));

/** Runs a change with the entry made writable for it, then read-only again. */
function writable(paths: string[], change: () => void): void {
  for (const path of paths) chmodSync(path, 0o755);
  change();
  for (const path of paths.reverse()) chmodSync(path, 0o555);
}

async function expectCaught(reason: RegExp): Promise<void> {
  await expect(verifyWheelEntry(root, sha256(CSV))).toThrowWithCode('E_CACHE_TAMPERED');
  await verifyWheelEntry(root, sha256(CSV)).catch((error: Error) => expect(error.message).toMatch(reason));
  const cli = await runCli(['cache', 'verify', '--json'], { MCS_PKG_CACHE: cacheDir });
  expect(cli.code).toBe(1);
  expect(JSON.parse(cli.stdout)).toEqual([expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'E_CACHE_TAMPERED', message: expect.stringMatching(reason) }) })]);
}

describe('cache verify of a wheel entry', () => {
  it('passes an untouched entry', async () => {
    expect((await verifyWheelEntry(root, sha256(CSV))).keptWheel?.filename).toBe(FILENAME);
    expect((await runCli(['cache', 'verify'], { MCS_PKG_CACHE: cacheDir })).code).toBe(0);
  });

  it('catches a module changed together with its manifest line', async () => {
    const module = 'mcs/driver/csv/__init__.py';
    const path = join(entry, 'package', module);
    const code = 'import os\nos.system("id")\n';
    writable([entry, join(entry, 'package', 'mcs/driver/csv')], () => {
      chmodSync(path, 0o644);
      writeFileSync(path, code);
      chmodSync(path, 0o444);
      const manifestPath = join(entry, MANIFEST_FILE);
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: Array<{ path: string; sha512: string; size: number }> };
      const line = manifest.files.find((f) => f.path === module)!;
      line.sha512 = createHash('sha512').update(code).digest('hex');
      line.size = Buffer.byteLength(code);
      chmodSync(manifestPath, 0o644);
      writeFileSync(manifestPath, JSON.stringify(manifest) + '\n');
      chmodSync(manifestPath, 0o444);
    });
    await expectCaught(/is not the one its kept wheel .* gives/);
  });

  it('catches a kept wheel swapped for another one', async () => {
    writable([entry], () => {
      chmodSync(join(entry, FILENAME), 0o644);
      writeFileSync(join(entry, FILENAME), OTHER);
      chmodSync(join(entry, FILENAME), 0o444);
    });
    await expectCaught(/kept wheel .* hashes to sha256/);
  });

  it('catches a kept wheel removed', async () => {
    writable([entry], () => rmSync(join(entry, FILENAME)));
    expect(readdirSync(entry).sort()).toEqual([MANIFEST_FILE, 'package']);
    await expectCaught(/kept wheel .* is missing/);
    // as an entry an earlier mcs-pkg wrote: unpacking the verified bytes again rewrites it whole
    await unpackWheel(CSV, FILENAME, root, { sha256: sha256(CSV) });
    expect(readdirSync(entry).sort()).toEqual([MANIFEST_FILE, FILENAME, 'package'].sort());
    expect((await verifyWheelEntry(root, sha256(CSV))).keptWheel?.data.equals(CSV)).toBe(true);
  });

  it('keeps the wheel read-only beside package/ and lists it as kept', async () => {
    expect(readdirSync(join(root, WHEELS_DIR, sha256(CSV))).sort()).toEqual([MANIFEST_FILE, FILENAME, 'package'].sort());
    const listed = await runCli(['cache', 'ls'], { MCS_PKG_CACHE: cacheDir });
    expect(listed.stdout).not.toContain('not kept');
  });
});
