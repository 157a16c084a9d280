/**
 * Safe extraction into the driver cache: every hostile tarball (built at test
 * time) is refused with its code and leaves nothing on disk; an accepted one
 * lands read-only, with its manifest, in the folder named by its digest; a
 * race between two extractions ends with one entry; a failure mid-write
 * removes the staging folder.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import '../helpers/matchers.js';
import { makePackage, makeTarball, type TarFile } from '../helpers/tarball.js';
import { removeDir, tempDir, removeReadOnlyDir } from '../helpers/index-data.js';
import { readTarball, type TarEntry } from '../../src/tar/read.js';
import {
  DEFAULT_MAX_COMPRESSION_RATIO,
  DEFAULT_MAX_EXTRACTED_BYTES,
  DEFAULT_MAX_FILES,
  extractToCache,
  planExtraction,
  type ExtractOptions,
} from '../../src/loader/extract.js';
import { MANIFEST_FILE, verifyCacheEntry } from '../../src/loader/cache.js';
import type { McsError } from '../../src/errors.js';

// fault injection for the "failure mid-write" cases; inactive unless a test arms it
const faults = vi.hoisted(() => ({ rename: undefined as string | undefined, renameCalls: 0, openCalls: 0, failOpenAt: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    rename: async (...args: Parameters<typeof actual.rename>) => {
      faults.renameCalls++;
      if (faults.rename) throw Object.assign(new Error(`${faults.rename}: simulated failure, rename`), { code: faults.rename });
      return actual.rename(...args);
    },
    open: async (...args: Parameters<typeof actual.open>) => {
      faults.openCalls++;
      if (faults.failOpenAt > 0 && faults.openCalls === faults.failOpenAt) throw Object.assign(new Error('ENOSPC: simulated failure, open'), { code: 'ENOSPC' });
      return actual.open(...args);
    },
  };
});

const MANIFEST = { name: 'mcs-driver-csv', version: '1.0.0', type: 'module', main: 'index.js' };
const PACKAGE_JSON: TarFile = { path: 'package/package.json', content: JSON.stringify(MANIFEST) };

function integrityOf(bytes: Uint8Array): string {
  return 'sha512-' + createHash('sha512').update(bytes).digest('base64');
}

function hexOf(bytes: Uint8Array): string {
  return createHash('sha512').update(bytes).digest('hex');
}

/** Every path below dir (relative), links not followed. */
function leftovers(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  const walk = (relative: string) => {
    for (const name of readdirSync(join(dir, relative))) {
      const child = relative ? `${relative}/${name}` : name;
      found.push(child);
      if (lstatSync(join(dir, child)).isDirectory()) walk(child);
    }
  };
  walk('');
  return found.sort();
}


function entriesOf(tgz: Buffer): TarEntry[] {
  return readTarball(tgz, { maxEntries: 100_000 });
}

let root: string;
beforeEach(() => {
  root = tempDir('mcs-extract-');
  faults.rename = undefined;
  faults.renameCalls = 0;
  faults.openCalls = 0;
  faults.failOpenAt = 0;
});
afterEach(() => removeReadOnlyDir(root));

/** The archive is refused with `code`, by the pure planner and by extractToCache, and the cache root stays empty. */
async function expectRefused(tgz: Buffer, code: string, options: ExtractOptions = {}, limit?: string): Promise<void> {
  const error = await extractToCache(tgz, integrityOf(tgz), root, options).catch((e: unknown) => e);
  expect(error).toThrowWithCode(code);
  if (limit) expect((error as McsError).details.limit).toBe(limit);
  expect(leftovers(root)).toEqual([]);
}

describe('planExtraction and extractToCache refuse hostile tarballs, writing nothing', () => {
  const cases: Array<[string, TarFile[], string]> = [
    ['traversal-dotdot-from-top', [PACKAGE_JSON, { path: 'package/../../evil', content: 'x' }], 'E_TAR_PATH'],
    ['absolute-path', [PACKAGE_JSON, { path: '/etc/x', content: 'x' }], 'E_TAR_PATH'],
    ['dotdot-inside-the-package', [PACKAGE_JSON, { path: 'package/a/../../x', content: 'x' }], 'E_TAR_PATH'],
    ['harmless-looking-dotdot', [PACKAGE_JSON, { path: 'package/a/../b.js', content: 'x' }], 'E_TAR_PATH'],
    ['backslash-traversal', [PACKAGE_JSON, { path: 'package\\..\\..\\evil', content: 'x' }], 'E_TAR_PATH'],
    ['backslash-in-name', [PACKAGE_JSON, { path: 'package/lib\\index.js', content: 'x' }], 'E_TAR_PATH'],
    ['drive-letter', [PACKAGE_JSON, { path: 'C:/Windows/evil.dll', content: 'x' }], 'E_TAR_PATH'],
    ['file-outside-the-package-folder', [PACKAGE_JSON, { path: 'evil.js', content: 'x' }], 'E_TAR_PATH'],
    ['symlink', [PACKAGE_JSON, { path: 'package/link', type: '2', linkname: '/etc/passwd' }], 'E_TAR_LINK'],
    ['relative-symlink', [PACKAGE_JSON, { path: 'package/link', type: '2', linkname: '../../..' }], 'E_TAR_LINK'],
    ['hardlink', [PACKAGE_JSON, { path: 'package/hard', type: '1', linkname: 'package/package.json' }], 'E_TAR_LINK'],
    ['char-device', [PACKAGE_JSON, { path: 'package/tty', type: '3' }], 'E_TAR_SPECIAL'],
    ['block-device', [PACKAGE_JSON, { path: 'package/sda', type: '4' }], 'E_TAR_SPECIAL'],
    ['fifo', [PACKAGE_JSON, { path: 'package/pipe', type: '6' }], 'E_TAR_SPECIAL'],
    // a GNU long-link header names the next entry's link target; with no entry after it the archive is malformed
    ['gnu-long-link-name', [PACKAGE_JSON, { path: 'package/x', type: 'K' }], 'E_TARBALL_INVALID'],
    ['duplicate-entry', [PACKAGE_JSON, { path: 'package/index.js', content: 'good' }, { path: 'package/index.js', content: 'evil' }], 'E_TAR_DUPLICATE'],
    ['duplicate-after-normalization', [PACKAGE_JSON, { path: 'package/index.js', content: 'good' }, { path: 'package/./index.js', content: 'evil' }], 'E_TAR_DUPLICATE'],
    ['duplicate-double-slash', [PACKAGE_JSON, { path: 'package/lib/a.js', content: 'good' }, { path: 'package//lib/a.js', content: 'evil' }], 'E_TAR_DUPLICATE'],
    ['duplicate-across-top-folders', [PACKAGE_JSON, { path: 'package/index.js', content: 'good' }, { path: 'other/index.js', content: 'evil' }], 'E_TAR_DUPLICATE'],
    ['case-folded-duplicate', [PACKAGE_JSON, { path: 'package/A.js', content: 'good' }, { path: 'package/a.js', content: 'evil' }], 'E_TAR_DUPLICATE'],
    ['case-folded-package-json', [PACKAGE_JSON, { path: 'package/Package.json', content: '{}' }], 'E_TAR_DUPLICATE'],
    ['case-folded-folders', [PACKAGE_JSON, { path: 'package/Lib/a.js', content: 'a' }, { path: 'package/lib/b.js', content: 'b' }], 'E_TAR_DUPLICATE'],
    ['unicode-normalization-duplicate', [PACKAGE_JSON, { path: 'package/caf\u00e9.js', content: 'a' }, { path: 'package/cafe\u0301.js', content: 'b' }], 'E_TAR_DUPLICATE'],
    ['file-and-folder-same-path', [PACKAGE_JSON, { path: 'package/lib', content: 'x' }, { path: 'package/lib/a.js', content: 'a' }], 'E_TAR_DUPLICATE'],
    ['folder-then-file-same-path', [PACKAGE_JSON, { path: 'package/lib/', type: '5' }, { path: 'package/lib', content: 'x' }], 'E_TAR_DUPLICATE'],
    ['no-package-json', [{ path: 'package/index.js', content: 'x' }], 'E_TARBALL_INVALID'],
    ['package-json-not-at-root', [{ path: 'package/lib/package.json', content: '{}' }], 'E_TARBALL_INVALID'],
    ['package-json-is-a-folder', [{ path: 'package/package.json/', type: '5' }, { path: 'package/package.json/x', content: '{}' }], 'E_TARBALL_INVALID'],
  ];

  it.each(cases)('%s', async (_name, files, code) => {
    const tgz = makeTarball(files);
    expect(() => planExtraction(entriesOf(tgz), {}, { gzippedSize: tgz.length })).toThrowWithCode(code);
    await expectRefused(tgz, code);
  });

  it('a NUL in a (pax) path', () => {
    const entries = entriesOf(makePackage(MANIFEST));
    entries.push({ path: 'package/a.js\0.png', type: 'file', typeflag: '0', size: 1, mode: 0o644, linkname: '', data: Buffer.from('x') });
    expect(() => planExtraction(entries)).toThrowWithCode('E_TAR_PATH');
  });

  it('paths too long for the file system (pax paths can be any length)', () => {
    const base = entriesOf(makePackage(MANIFEST));
    const file = (path: string): TarEntry => ({ path, type: 'file', typeflag: '0', size: 1, mode: 0o644, linkname: '', data: Buffer.from('x') });
    expect(() => planExtraction([...base, file(`package/${'a'.repeat(256)}.js`)])).toThrowWithCode('E_TAR_PATH');
    expect(() => planExtraction([...base, file(`package/${'abcdefgh/'.repeat(120)}x.js`)])).toThrowWithCode('E_TAR_PATH');
    expect(() => planExtraction([...base, file(`package/${'./'.repeat(5000)}x.js`)])).toThrowWithCode('E_TAR_PATH');
    expect(planExtraction([...base, file(`package/${'abcdefgh/'.repeat(100)}x.js`)]).files).toHaveLength(2);
  });

  it('a file entry whose content does not match its declared size', () => {
    const entries = entriesOf(makePackage(MANIFEST));
    entries.push({ path: 'package/a.js', type: 'file', typeflag: '0', size: 10, mode: 0o644, linkname: '', data: Buffer.from('x') });
    expect(() => planExtraction(entries)).toThrowWithCode('E_TARBALL_INVALID');
  });

  it('a hostile entry after many good ones still stops the whole archive', async () => {
    const good = Array.from({ length: 50 }, (_, i) => ({ path: `package/lib/f${i}.js`, content: `export const n = ${i};` }));
    await expectRefused(makeTarball([PACKAGE_JSON, ...good, { path: 'package/../../../tmp/evil', content: 'x' }]), 'E_TAR_PATH');
  });

  it('more files than the cap (counted by the planner)', async () => {
    const files = Array.from({ length: 11 }, (_, i) => ({ path: `package/f${i}.js`, content: 'x' }));
    const tgz = makeTarball([PACKAGE_JSON, ...files.slice(0, 10)]); // 11 entries with package.json
    expect(() => planExtraction(entriesOf(tgz), { maxFiles: 10 })).toThrowWithCode('E_TAR_LIMIT');
    await expectRefused(tgz, 'E_TAR_LIMIT', { maxFiles: 10 }, 'maxFiles');
  });

  it('far more files than the cap (stopped by the reader)', async () => {
    const files = Array.from({ length: 200 }, (_, i) => ({ path: `package/f${i}.js`, content: 'x' }));
    await expectRefused(makeTarball([PACKAGE_JSON, ...files]), 'E_TAR_LIMIT', { maxFiles: 10 }, 'maxFiles');
  });

  it('more bytes than the cap (counted by the planner)', async () => {
    const tgz = makeTarball([PACKAGE_JSON, { path: 'package/big.bin', content: randomBytes(2000) }]);
    expect(() => planExtraction(entriesOf(tgz), { maxUnpackedBytes: 1000 })).toThrowWithCode('E_TAR_LIMIT');
    await expectRefused(tgz, 'E_TAR_LIMIT', { maxUnpackedBytes: 1000 }, 'maxUnpackedBytes');
  });

  it('more bytes than the cap (gunzip stops early)', async () => {
    const tgz = makeTarball([PACKAGE_JSON, { path: 'package/big.bin', content: randomBytes(1024 * 1024) }]);
    await expectRefused(tgz, 'E_TAR_LIMIT', { maxUnpackedBytes: 100_000, maxFiles: 10 }, 'maxUnpackedBytes');
  });

  it('a decompression bomb: 50 MiB of zeros in a few dozen KiB, under the byte cap', async () => {
    const tgz = makeTarball([PACKAGE_JSON, { path: 'package/zeros.bin', content: Buffer.alloc(50 * 1024 * 1024) }]);
    expect(tgz.length).toBeLessThan(100 * 1024);
    expect(50 * 1024 * 1024).toBeLessThan(DEFAULT_MAX_EXTRACTED_BYTES);
    await expectRefused(tgz, 'E_TAR_LIMIT', {}, 'maxCompressionRatio');
  });

  it('a smaller bomb that the reader lets through is caught by the planner ratio', async () => {
    const tgz = makeTarball([PACKAGE_JSON, { path: 'package/zeros.bin', content: Buffer.alloc(2 * 1024 * 1024) }]);
    expect(() => planExtraction(entriesOf(tgz), {}, { gzippedSize: tgz.length })).toThrowWithCode('E_TAR_LIMIT');
    expect(() => planExtraction(entriesOf(tgz))).not.toThrow(); // without the gzipped size only the byte cap applies
    await expectRefused(tgz, 'E_TAR_LIMIT', {}, 'maxCompressionRatio');
  });

  it('bytes whose digest is not the pinned integrity', async () => {
    const tgz = makePackage(MANIFEST);
    await expect(extractToCache(tgz, integrityOf(Buffer.from('something else')), root)).toThrowWithCode('E_INTEGRITY_MISMATCH');
    expect(leftovers(root)).toEqual([]);
  });

  it('an integrity that is not one sha512 digest', async () => {
    const tgz = makePackage(MANIFEST);
    await expect(extractToCache(tgz, 'sha1-' + createHash('sha1').update(tgz).digest('base64'), root)).toThrowWithCode('E_USAGE');
    await expect(extractToCache(tgz, 'sha512-tooshort', root)).toThrowWithCode('E_USAGE');
    await expect(extractToCache(tgz, `${integrityOf(tgz)} ${integrityOf(Buffer.from('x'))}`, root)).toThrowWithCode('E_USAGE');
    expect(leftovers(root)).toEqual([]);
  });

  it('bytes that are not a gzipped tarball', async () => {
    const bytes = Buffer.from('not a tarball');
    await expectRefused(bytes, 'E_TARBALL_INVALID');
  });

  it('limits that would disable a cap', async () => {
    const tgz = makePackage(MANIFEST);
    for (const limits of [{ maxFiles: 0 }, { maxUnpackedBytes: -1 }, { maxCompressionRatio: Number.POSITIVE_INFINITY }, { maxFiles: 1.5 }]) {
      await expect(extractToCache(tgz, integrityOf(tgz), root, limits)).toThrowWithCode('E_USAGE');
    }
    expect(leftovers(root)).toEqual([]);
  });
});

function randomBytes(length: number): Buffer {
  // deterministic and incompressible enough: a sha512 chain
  const parts: Buffer[] = [];
  let block = Buffer.from('seed');
  let size = 0;
  while (size < length) {
    block = createHash('sha512').update(block).digest();
    parts.push(block);
    size += block.length;
  }
  return Buffer.concat(parts).subarray(0, length);
}

describe('planExtraction accepts a normal package', () => {
  it('strips the first raw segment whatever it is (as npm does), drops "." and empty segments after it, creates only folders that hold files', () => {
    const tgz = makeTarball([
      { path: 'node-v1/', type: '5' },
      { path: 'node-v1/package.json', content: '{}' },
      { path: 'node-v1/lib//util.js', content: 'u' },
      // npm strips the "." and installs this one under node-v1/
      { path: './node-v1/./x.js', content: 'x' },
      { path: 'node-v1/empty/', type: '5' },
      { path: 'node-v1/bin/cli.js', content: '#!/usr/bin/env node', mode: 0o755 },
    ]);
    const plan = planExtraction(entriesOf(tgz), {}, { gzippedSize: tgz.length });
    expect(plan.files.map((f) => [f.relativePath, f.mode])).toEqual([
      ['bin/cli.js', 0o444],
      ['lib/util.js', 0o444],
      ['node-v1/x.js', 0o444],
      ['package.json', 0o444],
    ]);
    expect(plan.directories).toEqual([
      { relativePath: 'bin', mode: 0o555 },
      { relativePath: 'lib', mode: 0o555 },
      { relativePath: 'node-v1', mode: 0o555 },
    ]);
    expect(plan.unpackedBytes).toBe(2 + 1 + 1 + '#!/usr/bin/env node'.length);
  });

  it('has sensible default caps', () => {
    expect(DEFAULT_MAX_FILES).toBe(5000);
    expect(DEFAULT_MAX_EXTRACTED_BYTES).toBe(64 * 1024 * 1024);
    expect(DEFAULT_MAX_COMPRESSION_RATIO).toBe(100);
  });
});

describe('extractToCache', () => {
  const files: TarFile[] = [
    PACKAGE_JSON,
    { path: 'package/index.js', content: 'export default {};\n' },
    { path: 'package/lib/util.js', content: 'export const util = 1;\n' },
    { path: 'package/bin/cli.js', content: '#!/usr/bin/env node\n', mode: 0o755 },
    { path: 'package/empty/', type: '5' },
  ];

  it('writes the files read-only, with a manifest, in the folder named by the integrity hex', async () => {
    const tgz = makeTarball(files);
    const entry = await extractToCache(tgz, integrityOf(tgz), root);
    const hex = hexOf(tgz);
    expect(entry.path).toBe(join(root, 'drivers', hex));
    expect(entry.packageDir).toBe(join(root, 'drivers', hex, 'package'));
    expect(entry.integrity).toBe(integrityOf(tgz));
    expect(readdirSync(join(root, 'drivers'))).toEqual([hex]);
    expect(readdirSync(entry.path).sort()).toEqual([MANIFEST_FILE, 'package']);

    expect(readFileSync(join(entry.packageDir, 'lib', 'util.js'), 'utf8')).toBe('export const util = 1;\n');
    expect(JSON.parse(readFileSync(join(entry.packageDir, 'package.json'), 'utf8'))).toEqual(MANIFEST);
    for (const file of ['index.js', 'package.json', 'lib/util.js', 'bin/cli.js']) {
      expect((statSync(join(entry.packageDir, file)).mode & 0o777).toString(8), file).toBe('444');
    }
    expect(existsSync(join(entry.packageDir, 'empty'))).toBe(false); // npm installs no empty folder
    for (const dir of ['', 'lib', 'bin']) expect((statSync(join(entry.packageDir, dir)).mode & 0o777).toString(8), dir).toBe('555');
    expect((statSync(entry.path).mode & 0o777).toString(8)).toBe('555');
    expect((statSync(join(entry.path, MANIFEST_FILE)).mode & 0o777).toString(8)).toBe('444');

    const manifestBytes = readFileSync(join(entry.path, MANIFEST_FILE));
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as { integrity: string; files: Array<{ path: string; sha512: string; size: number; mode: number }>; directories: string[] };
    expect(manifest.integrity).toBe(integrityOf(tgz));
    expect(manifest.files.map((f) => f.path)).toEqual(['bin/cli.js', 'index.js', 'lib/util.js', 'package.json']);
    for (const file of manifest.files) {
      const content = readFileSync(join(entry.packageDir, file.path));
      expect(file.sha512).toBe(createHash('sha512').update(content).digest('hex'));
      expect(file.size).toBe(content.length);
      expect(file.mode).toBe(0o444);
    }
    expect(manifest.directories).toEqual(['bin', 'lib']);
    expect(entry.manifestDigest).toBe(createHash('sha512').update(manifestBytes).digest('hex'));
    expect(entry.files).toEqual(manifest.files);

    const verified = verifyCacheEntry(entry.path, { integrity: integrityOf(tgz), manifestDigest: entry.manifestDigest });
    expect(verified).toEqual(entry);
  });

  it('a second extraction of the same tarball is a verified cache hit', async () => {
    const tgz = makeTarball(files);
    const first = await extractToCache(tgz, integrityOf(tgz), root);
    const second = await extractToCache(tgz, integrityOf(tgz), root);
    expect(second).toEqual(first);
    expect(readdirSync(join(root, 'drivers'))).toEqual([hexOf(tgz)]);
  });

  it('concurrent extractions of the same tarball end with one entry and no staging leftovers', async () => {
    const tgz = makeTarball(files);
    const entries = await Promise.all(Array.from({ length: 4 }, () => extractToCache(tgz, integrityOf(tgz), root)));
    for (const entry of entries) expect(entry).toEqual(entries[0]);
    // all four wrote a staging folder and tried to rename it: three lost the race and verified the winner's entry
    expect(faults.renameCalls).toBe(4);
    expect(readdirSync(join(root, 'drivers'))).toEqual([hexOf(tgz)]);
    expect(verifyCacheEntry(entries[0]!.path).files).toHaveLength(4);
  });

  it('an existing entry that does not match what this tarball produces is refused, not reused', async () => {
    const tgz = makeTarball(files);
    const entry = await extractToCache(tgz, integrityOf(tgz), root);
    const util = join(entry.packageDir, 'lib', 'util.js');
    chmodSync(util, 0o644);
    writeFileSync(util, 'export const util = 666;\n');
    chmodSync(util, 0o444);
    await expect(extractToCache(tgz, integrityOf(tgz), root)).toThrowWithCode('E_CACHE_TAMPERED');
    expect(readdirSync(join(root, 'drivers'))).toEqual([hexOf(tgz)]);
  });

  it('a forged entry with a consistent manifest is caught by the manifest digest', async () => {
    const tgz = makeTarball(files);
    const entry = await extractToCache(tgz, integrityOf(tgz), root);
    // rewrite a file and its manifest record together, as an attacker with write access would
    const util = join(entry.packageDir, 'lib', 'util.js');
    const manifestPath = join(entry.path, MANIFEST_FILE);
    chmodSync(util, 0o644);
    writeFileSync(util, 'evil();\n');
    chmodSync(util, 0o444);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: Array<{ path: string; sha512: string; size: number }> };
    const record = manifest.files.find((f) => f.path === 'lib/util.js')!;
    record.sha512 = createHash('sha512').update('evil();\n').digest('hex');
    record.size = 8;
    chmodSync(entry.path, 0o755);
    chmodSync(manifestPath, 0o644);
    writeFileSync(manifestPath, JSON.stringify(manifest) + '\n');
    chmodSync(manifestPath, 0o444);
    chmodSync(entry.path, 0o555);
    // the manifest is self-consistent, so only a pinned digest can tell
    expect(() => verifyCacheEntry(entry.path, { manifestDigest: entry.manifestDigest })).toThrowWithCode('E_CACHE_TAMPERED');
    await expect(extractToCache(tgz, integrityOf(tgz), root)).toThrowWithCode('E_CACHE_TAMPERED');
  });

  it('something other than an entry at the target is refused, and the staging folder removed', async () => {
    const tgz = makeTarball(files);
    mkdirSync(join(root, 'drivers'));
    writeFileSync(join(root, 'drivers', hexOf(tgz)), 'squatter');
    await expect(extractToCache(tgz, integrityOf(tgz), root)).toThrowWithCode('E_CACHE_TAMPERED');
    expect(leftovers(join(root, 'drivers'))).toEqual([hexOf(tgz)]);
  });

  it('a failed rename removes the complete, read-only staging folder', async () => {
    const tgz = makeTarball(files);
    faults.rename = 'EIO';
    const error = await extractToCache(tgz, integrityOf(tgz), root).catch((e: unknown) => e);
    expect(error).toThrowWithCode('E_CACHE_IO');
    expect((error as Error).message).toMatch(/EIO: simulated failure, rename/);
    expect(leftovers(join(root, 'drivers'))).toEqual([]);
  });

  it('a failure in the middle of writing removes the staging folder', async () => {
    const tgz = makeTarball(files);
    faults.failOpenAt = 3;
    const error = await extractToCache(tgz, integrityOf(tgz), root).catch((e: unknown) => e);
    expect(error).toThrowWithCode('E_CACHE_IO');
    expect((error as Error).message).toMatch(/ENOSPC: simulated failure, open/);
    expect(leftovers(join(root, 'drivers'))).toEqual([]);
  });

  it('after a failure the same tarball extracts cleanly', async () => {
    const tgz = makeTarball(files);
    faults.rename = 'EIO';
    await expect(extractToCache(tgz, integrityOf(tgz), root)).toThrowWithCode('E_CACHE_IO');
    faults.rename = undefined;
    const entry = await extractToCache(tgz, integrityOf(tgz), root);
    expect(readdirSync(join(root, 'drivers'))).toEqual([hexOf(tgz)]);
    expect(verifyCacheEntry(entry.path).integrity).toBe(integrityOf(tgz));
  });
});
