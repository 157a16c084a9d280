/**
 * An entry's manifest names the package it is listed and loaded as; that name
 * must be the one its verified package.json says. A manifest edited to call
 * the entry another package (or version) is E_CACHE_TAMPERED, and
 * `cache verify` exits 1 for it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import '../../helpers/matchers.js';
import { removeReadOnlyDir, tempDir } from '../../helpers/index-data.js';
import { makeTarball } from '../../helpers/tarball.js';
import { extractToCache } from '../../../src/loader/extract.js';
import { MANIFEST_FILE, verifyCacheEntry, type CacheEntry } from '../../../src/loader/cache.js';
import { verifyCache } from '../../../src/loader/cache-verify.js';

const BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url));
let home: string;
let entry: CacheEntry;

beforeEach(async () => {
  home = tempDir('mcs-adv-manifest-');
  const tgz = makeTarball([
    { path: 'package/package.json', content: JSON.stringify({ name: 'mcs-driver-csv', version: '1.0.0', type: 'module' }) },
    { path: 'package/index.js', content: 'export default {};\n' },
  ]);
  entry = await extractToCache(tgz, 'sha512-' + createHash('sha512').update(tgz).digest('base64'), join(home, 'cache', 'loader'));
});
afterEach(() => removeReadOnlyDir(home));

/** Rewrites the manifest's package record, keeping its format and modes (as someone tidying up would). */
function relabel(change: (pkg: Record<string, unknown>) => void): void {
  const file = join(entry.path, MANIFEST_FILE);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { package: Record<string, unknown> };
  change(manifest.package);
  chmodSync(entry.path, 0o755);
  chmodSync(file, 0o644);
  writeFileSync(file, JSON.stringify(manifest));
  chmodSync(file, 0o444);
  chmodSync(entry.path, 0o555);
}

describe('the package a cache entry is recorded as', () => {
  it.each([
    ['another name', (p: Record<string, unknown>) => void (p.name = 'mcs-driver-trusted')],
    ['another version', (p: Record<string, unknown>) => void (p.version = '9.9.9')],
    ['no name', (p: Record<string, unknown>) => void (p.name = null)],
  ])('%s in the manifest: E_CACHE_TAMPERED, and cache verify exits 1', async (_, change) => {
    expect(verifyCacheEntry(entry.path).package).toEqual({ ecosystem: 'npm', name: 'mcs-driver-csv', version: '1.0.0' });
    relabel(change);
    expect(() => verifyCacheEntry(entry.path)).toThrowWithCode('E_CACHE_TAMPERED');
    const [check] = await verifyCache(join(home, 'cache', 'loader'));
    expect(check).toMatchObject({ ok: false, error: { code: 'E_CACHE_TAMPERED', message: expect.stringContaining('npm:mcs-driver-csv@1.0.0') } });
    const cli = spawnSync(process.execPath, [BIN, 'cache', 'verify', '--cache-dir', join(home, 'cache')], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: home } });
    expect(cli.status).toBe(1);
    expect(cli.stdout).toContain('CHANGED');
    expect(cli.stdout).toContain('verified package.json says npm:mcs-driver-csv@1.0.0');
  });
});
