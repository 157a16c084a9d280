/**
 * cleanCache owns the whole driver cache (unpacked entries and kept tarballs)
 * and nothing else; an entry an earlier mcs-pkg wrote (no package record) is
 * shown as such, refused as it is, and rewritten by the next extraction.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, unlinkSync, mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MANIFEST_FILE, TARBALLS_DIR, cleanCache, keptTarballPath, listCache, verifyCacheEntry } from '../../../src/loader/cache.js';
import { extractToCache } from '../../../src/loader/extract.js';
import { removeReadOnlyDir, tempDir } from '../../helpers/index-data.js';
import { makeTarball } from '../../helpers/tarball.js';

const tgz = makeTarball([
  { path: 'package/package.json', content: JSON.stringify({ name: 'mcs-driver-csv', version: '1.2.3', type: 'module' }) },
  { path: 'package/index.js', content: 'export default {};\n' },
]);
const integrity = 'sha512-' + createHash('sha512').update(tgz).digest('base64');
const hex = createHash('sha512').update(tgz).digest('hex');

let root: string;
let cache: string;

beforeEach(() => {
  root = tempDir('mcs-cache-clean-');
  cache = join(root, 'loader');
});
afterEach(() => removeReadOnlyDir(root));

/** A kept tarball as the loader writes it: read-only, in a private folder. */
function keepTarball(name = `${hex}.tgz`, age = 0): string {
  const file = join(cache, TARBALLS_DIR, name);
  mkdirSync(join(cache, TARBALLS_DIR), { recursive: true, mode: 0o700 });
  writeFileSync(file, tgz, { mode: 0o444 });
  const when = new Date(Date.now() - age);
  utimesSync(file, when, when);
  return file;
}

describe('cleanCache and the kept tarballs', () => {
  it('removes kept tarballs and dead partial downloads with the entries; leaves running downloads and strangers', async () => {
    const entry = await extractToCache(tgz, integrity, cache);
    const kept = keepTarball();
    expect(kept).toBe(keptTarballPath(cache, integrity));
    const dead = keepTarball(`${hex}.tgz.4242.0a0b0c0d`, 2 * 60 * 60 * 1000);
    const running = keepTarball(`${hex}.tgz.4243.0e0f0a0b`);
    writeFileSync(join(cache, TARBALLS_DIR, 'notes.txt'), 'not ours');

    const result = cleanCache(cache);
    expect(result.removed.sort()).toEqual([entry.path, kept, dead].sort());
    expect(readdirSync(join(cache, TARBALLS_DIR)).sort()).toEqual([running.split('/').pop()!, 'notes.txt'].sort());
    expect(existsSync(entry.path)).toBe(false);
  });

  it('keeps the tarball of a kept entry', async () => {
    const entry = await extractToCache(tgz, integrity, cache);
    const kept = keepTarball();
    expect(cleanCache(cache, { keep: [integrity] })).toEqual({ removed: [], kept: [entry.path, kept] });
  });

  it('refuses a tarballs folder replaced by a symbolic link and deletes nothing where it points', () => {
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, `${hex}.tgz`), 'precious');
    mkdirSync(cache, { recursive: true });
    symlinkSync(elsewhere, join(cache, TARBALLS_DIR), 'dir');
    expect(() => cleanCache(cache)).toThrowWithCode('E_CACHE_TAMPERED');
    expect(readFileSync(join(elsewhere, `${hex}.tgz`), 'utf8')).toBe('precious');
  });
});

describe('the package an entry records', () => {
  it('is read from the tarball and listed with the entry', async () => {
    const entry = await extractToCache(tgz, integrity, cache);
    expect(entry.package).toEqual({ ecosystem: 'npm', name: 'mcs-driver-csv', version: '1.2.3' });
    keepTarball();
    expect(listCache(cache)).toEqual([expect.objectContaining({ integrity, package: { ecosystem: 'npm', name: 'mcs-driver-csv', version: '1.2.3' }, tarball: true })]);
    expect(verifyCacheEntry(entry.path).package).toEqual(entry.package);
  });

  it('an entry of the earlier manifest format is listed without a package, refused as it is, and rewritten from verified bytes', async () => {
    const entry = await extractToCache(tgz, integrity, cache);
    const manifestPath = join(entry.path, MANIFEST_FILE);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
    delete manifest.package;
    chmodSync(entry.path, 0o755);
    chmodSync(manifestPath, 0o644);
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, format: 'mcs-pkg/cache-entry@1' }) + '\n');
    chmodSync(manifestPath, 0o444);
    chmodSync(entry.path, 0o555);

    expect(listCache(cache)).toEqual([expect.objectContaining({ integrity, package: null })]);
    expect(() => verifyCacheEntry(entry.path)).toThrowWithCode('E_CACHE_TAMPERED');
    expect(() => verifyCacheEntry(entry.path)).toThrow(/earlier mcs-pkg/);
    const rewritten = await extractToCache(tgz, integrity, cache);
    expect(rewritten.package).toEqual({ ecosystem: 'npm', name: 'mcs-driver-csv', version: '1.2.3' });
    expect(verifyCacheEntry(entry.path).package.name).toBe('mcs-driver-csv');
  });

  it('a FIFO in place of the manifest is listed without a package, and neither listing nor verifying waits on it', async () => {
    try {
      execFileSync('mkfifo', ['--help'], { stdio: 'ignore' });
    } catch {
      return; // no mkfifo on this system
    }
    const entry = await extractToCache(tgz, integrity, cache);
    chmodSync(entry.path, 0o755);
    unlinkSync(join(entry.path, MANIFEST_FILE));
    execFileSync('mkfifo', ['-m', '444', join(entry.path, MANIFEST_FILE)]);
    chmodSync(entry.path, 0o555);
    expect(listCache(cache)).toEqual([expect.objectContaining({ integrity, package: null })]);
    expect(() => verifyCacheEntry(entry.path)).toThrowWithCode('E_CACHE_TAMPERED');
    expect(cleanCache(cache).removed).toEqual([entry.path]);
  });

  it('any other change to the manifest is still tampering, and is not rewritten', async () => {
    const entry = await extractToCache(tgz, integrity, cache);
    const manifestPath = join(entry.path, MANIFEST_FILE);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { package: { name: string } };
    chmodSync(entry.path, 0o755);
    renameSync(manifestPath, manifestPath + '.old');
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, package: { ...manifest.package, name: 'mcs-driver-other' } }) + '\n', { mode: 0o444 });
    renameSync(manifestPath + '.old', join(root, 'aside.json'));
    chmodSync(entry.path, 0o555);
    await expect(extractToCache(tgz, integrity, cache)).rejects.toMatchObject({ code: 'E_CACHE_TAMPERED' });
  });
});
