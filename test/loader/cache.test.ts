/**
 * The content-addressed cache read back: verifyCacheEntry catches every kind
 * of change made between extraction and import (content, mode, added and
 * removed files, links in place of files or of the entry, a broken manifest),
 * a cache root inside node_modules is refused, and listing and cleaning keep
 * to the folders the cache owns.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import '../helpers/matchers.js';
import { makeTarball, type TarFile } from '../helpers/tarball.js';
import { removeDir, tempDir, removeReadOnlyDir } from '../helpers/index-data.js';
import { extractToCache } from '../../src/loader/extract.js';
import {
  MANIFEST_FILE,
  cacheEntryPath,
  cleanCache,
  listCache,
  verifyCacheEntry,
  type CacheEntry,
} from '../../src/loader/cache.js';

const FILES: TarFile[] = [
  { path: 'package/package.json', content: JSON.stringify({ name: 'mcs-driver-csv', version: '1.0.0', type: 'module' }) },
  { path: 'package/index.js', content: 'export default { ok: true };\n' },
  { path: 'package/lib/util.js', content: 'export const util = 1;\n' },
];

function integrityOf(bytes: Uint8Array): string {
  return 'sha512-' + createHash('sha512').update(bytes).digest('base64');
}


/** Runs `change` with write permission on the folders given, then makes them read-only again (as an attacker would tidy up). */
function withWritable(dirs: string[], change: () => void): void {
  for (const dir of dirs) chmodSync(dir, 0o755);
  try {
    change();
  } finally {
    for (const dir of dirs) if (existsSync(dir)) chmodSync(dir, 0o555);
  }
}

/** verifyCacheEntry refuses the entry with E_CACHE_TAMPERED, for the reason given (so a test cannot pass by accident). */
function expectTampered(path: string, reason: RegExp): void {
  let error: unknown;
  try {
    verifyCacheEntry(path);
  } catch (caught) {
    error = caught;
  }
  expect(error).toThrowWithCode('E_CACHE_TAMPERED');
  expect((error as Error).message).toMatch(reason);
}

let root: string;
let tgz: Buffer;
let entry: CacheEntry;

beforeEach(async () => {
  root = tempDir('mcs-cache-');
  tgz = makeTarball(FILES);
  entry = await extractToCache(tgz, integrityOf(tgz), join(root, 'cache'));
});
afterEach(() => removeReadOnlyDir(root));

describe('verifyCacheEntry', () => {
  it('accepts an untouched entry and returns what it holds', () => {
    const verified = verifyCacheEntry(entry.path, { integrity: integrityOf(tgz), manifestDigest: entry.manifestDigest });
    expect(verified).toEqual(entry);
    expect(verified.files.map((f) => f.path)).toEqual(['index.js', 'lib/util.js', 'package.json']);
  });

  it('a modified file (made writable, then written)', () => {
    const file = join(entry.packageDir, 'index.js');
    chmodSync(file, 0o644);
    writeFileSync(file, 'export default { ok: false };\n');
    chmodSync(file, 0o444);
    expectTampered(entry.path, /index\.js changed: it is \d+ bytes, more than the \d+ expected/);
  });

  it('a modified file of the same size', () => {
    const file = join(entry.packageDir, 'lib', 'util.js');
    chmodSync(file, 0o644);
    writeFileSync(file, 'export const util = 2;\n');
    chmodSync(file, 0o444);
    expectTampered(entry.path, /util\.js changed: expected sha512/);
  });

  it('a file made writable (content unchanged)', () => {
    chmodSync(join(entry.packageDir, 'index.js'), 0o644);
    expectTampered(entry.path, /index\.js has mode 644, expected 444/);
  });

  it('a folder made writable', () => {
    chmodSync(join(entry.packageDir, 'lib'), 0o755);
    expectTampered(entry.path, /lib has mode 755, expected 555/);
  });

  it('an added file', () => {
    withWritable([join(entry.packageDir, 'lib')], () => writeFileSync(join(entry.packageDir, 'lib', 'extra.js'), 'evil();\n', { mode: 0o444 }));
    expectTampered(entry.path, /more files and folders than its manifest records/);
  });

  it('an added folder', () => {
    withWritable([entry.packageDir], () => mkdirSync(join(entry.packageDir, 'node_modules'), { mode: 0o555 }));
    expectTampered(entry.path, /more files and folders than its manifest records/);
  });

  it('an added file beside package/ and the manifest', () => {
    withWritable([entry.path], () => writeFileSync(join(entry.path, 'index.js'), 'evil();\n', { mode: 0o444 }));
    expectTampered(entry.path, /holds \"index\.js\" besides package\//);
  });

  it('a removed file', () => {
    withWritable([join(entry.packageDir, 'lib')], () => unlinkSync(join(entry.packageDir, 'lib', 'util.js')));
    expectTampered(entry.path, /missing or changed type: lib\/util\.js/);
  });

  it('the entry replaced by a symlink to another folder (even a valid entry of the same tarball)', async () => {
    const elsewhere = (await extractToCache(tgz, integrityOf(tgz), join(root, 'other-cache'))).path;
    expect(verifyCacheEntry(elsewhere).integrity).toBe(integrityOf(tgz));
    chmodSync(entry.path, 0o755); // moving a folder to another parent needs write access to it (its ".." changes)
    renameSync(entry.path, join(root, 'aside'));
    symlinkSync(elsewhere, entry.path, 'dir');
    expectTampered(entry.path, /the entry folder is a symbolic link/);
  });

  it('a file replaced by a symlink (to identical content outside the entry)', () => {
    const outside = join(root, 'util.js');
    writeFileSync(outside, readFileSync(join(entry.packageDir, 'lib', 'util.js')), { mode: 0o444 });
    withWritable([join(entry.packageDir, 'lib')], () => {
      unlinkSync(join(entry.packageDir, 'lib', 'util.js'));
      symlinkSync(outside, join(entry.packageDir, 'lib', 'util.js'));
    });
    expectTampered(entry.path, /util\.js is a symbolic link/);
  });

  it('a folder replaced by a symlink', () => {
    const outside = join(root, 'lib-copy');
    cpSync(join(entry.packageDir, 'lib'), outside, { recursive: true });
    withWritable([entry.packageDir], () => {
      chmodSync(join(entry.packageDir, 'lib'), 0o755);
      renameSync(join(entry.packageDir, 'lib'), join(root, 'lib-aside'));
      symlinkSync(outside, join(entry.packageDir, 'lib'), 'dir');
    });
    expectTampered(entry.path, /lib is a symbolic link/);
  });

  it('package/ replaced by a symlink', () => {
    const outside = join(root, 'package-copy');
    cpSync(entry.packageDir, outside, { recursive: true });
    withWritable([entry.path], () => {
      chmodSync(entry.packageDir, 0o755);
      renameSync(entry.packageDir, join(root, 'package-aside'));
      symlinkSync(outside, entry.packageDir, 'dir');
    });
    expectTampered(entry.path, /package is a symbolic link/);
  });

  it('a FIFO in place of a file', () => {
    try {
      execFileSync('mkfifo', ['--help'], { stdio: 'ignore' });
    } catch {
      return; // no mkfifo on this system
    }
    withWritable([entry.packageDir], () => {
      unlinkSync(join(entry.packageDir, 'index.js'));
      execFileSync('mkfifo', ['-m', '444', join(entry.packageDir, 'index.js')]);
    });
    expectTampered(entry.path, /index\.js is neither a file nor a folder/);
  });

  it('a missing manifest', () => {
    withWritable([entry.path], () => unlinkSync(join(entry.path, MANIFEST_FILE)));
    expectTampered(entry.path, /manifest \.mcs-files\.json is missing/);
  });

  it('a manifest replaced by a symlink to a copy of itself', () => {
    const copy = join(root, 'manifest-copy.json');
    writeFileSync(copy, readFileSync(join(entry.path, MANIFEST_FILE)), { mode: 0o444 });
    withWritable([entry.path], () => {
      unlinkSync(join(entry.path, MANIFEST_FILE));
      symlinkSync(copy, join(entry.path, MANIFEST_FILE));
    });
    expectTampered(entry.path, /manifest .* is a symbolic link/);
  });

  const manifestEdits: Array<[string, (manifest: Record<string, unknown>) => unknown]> = [
    ['not-json', () => '{"format": '],
    ['an-array', () => []],
    ['unknown-key', (m) => ({ ...m, extra: 1 })],
    ['wrong-format', (m) => ({ ...m, format: 'other@1' })],
    ['integrity-of-another-tarball', (m) => ({ ...m, integrity: integrityOf(Buffer.from('other')) })],
    ['traversal-path', (m) => ({ ...m, files: [...(m.files as object[]), { path: '../../evil.js', sha512: 'a'.repeat(128), size: 1, mode: 0o444 }] })],
    ['bad-digest', (m) => ({ ...m, files: (m.files as Array<Record<string, unknown>>).map((f) => ({ ...f, sha512: 'xyz' })) })],
    ['writable-mode-recorded', (m) => ({ ...m, files: (m.files as Array<Record<string, unknown>>).map((f) => ({ ...f, mode: 0o644 })) })],
    ['file-dropped-from-the-manifest', (m) => ({ ...m, files: (m.files as unknown[]).slice(1) })],
    ['duplicate-key', () => '{"format":"mcs-pkg/cache-entry@1","format":"x"}'],
  ];

  it.each(manifestEdits)('a malformed or edited manifest: %s', (_name, edit) => {
    const path = join(entry.path, MANIFEST_FILE);
    const edited = edit(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>);
    withWritable([entry.path], () => {
      chmodSync(path, 0o644);
      writeFileSync(path, typeof edited === 'string' ? edited : JSON.stringify(edited));
      chmodSync(path, 0o444);
    });
    expect(() => verifyCacheEntry(entry.path)).toThrowWithCode('E_CACHE_TAMPERED');
  });

  it('an entry asked for under another integrity', () => {
    expect(() => verifyCacheEntry(entry.path, { integrity: integrityOf(Buffer.from('other')) })).toThrowWithCode('E_INTEGRITY_MISMATCH');
  });

  it('an entry folder not named by a digest', () => {
    const renamed = join(root, 'cache', 'drivers', 'mcs-driver-csv');
    renameSync(entry.path, renamed);
    expect(() => verifyCacheEntry(renamed)).toThrowWithCode('E_CACHE_TAMPERED');
  });

  it('an entry that does not exist', () => {
    expect(() => verifyCacheEntry(cacheEntryPath(join(root, 'cache'), integrityOf(Buffer.from('other'))))).toThrowWithCode('E_CACHE_IO');
  });
});

describe('a cache root inside node_modules', () => {
  it('is refused before anything is written', async () => {
    for (const cacheRoot of [join(root, 'app', 'node_modules', '.cache', 'mcs-pkg'), join(root, 'app', 'Node_Modules', 'cache')]) {
      await expect(extractToCache(tgz, integrityOf(tgz), cacheRoot)).toThrowWithCode('E_CACHE_IO');
      expect(() => cacheEntryPath(cacheRoot, integrityOf(tgz))).toThrowWithCode('E_CACHE_IO');
      expect(() => listCache(cacheRoot)).toThrowWithCode('E_CACHE_IO');
      expect(() => cleanCache(cacheRoot)).toThrowWithCode('E_CACHE_IO');
    }
    expect(existsSync(join(root, 'app'))).toBe(false);
  });

  it('is refused when reached through a symbolic link', async () => {
    mkdirSync(join(root, 'app', 'node_modules', '.cache'), { recursive: true });
    symlinkSync(join(root, 'app', 'node_modules', '.cache'), join(root, 'innocent'), 'dir');
    await expect(extractToCache(tgz, integrityOf(tgz), join(root, 'innocent', 'mcs-pkg'))).toThrowWithCode('E_CACHE_IO');
    expect(readdirSync(join(root, 'app', 'node_modules', '.cache'))).toEqual([]);
  });

  it('an entry moved under node_modules is refused by verifyCacheEntry', () => {
    const moved = join(root, 'node_modules', 'drivers');
    mkdirSync(moved, { recursive: true });
    chmodSync(entry.path, 0o755);
    renameSync(entry.path, join(moved, entry.path.split('/').pop()!));
    expect(() => verifyCacheEntry(join(moved, entry.path.split('/').pop()!))).toThrowWithCode('E_CACHE_IO');
  });
});

describe('cacheEntryPath, listCache and cleanCache', () => {
  it('names an entry by the hex of its sha512', () => {
    const hex = createHash('sha512').update(tgz).digest('hex');
    expect(cacheEntryPath(join(root, 'cache'), integrityOf(tgz))).toBe(join(root, 'cache', 'drivers', hex));
    expect(cacheEntryPath(join(root, 'cache'), `${integrityOf(tgz)}?opt sha1-abc=`)).toBe(join(root, 'cache', 'drivers', hex));
    expect(entry.path).toBe(join(root, 'cache', 'drivers', hex));
    expect(() => cacheEntryPath(root, 'sha512-not-base64!')).toThrowWithCode('E_USAGE');
    expect(() => cacheEntryPath(root, 'sha256-' + createHash('sha256').update(tgz).digest('base64'))).toThrowWithCode('E_USAGE');
    expect(() => cacheEntryPath(root, `${integrityOf(tgz)} ${integrityOf(Buffer.from('x'))}`)).toThrowWithCode('E_USAGE');
  });

  it('lists entries, not staging folders or strangers', async () => {
    const other = makeTarball([...FILES, { path: 'package/extra.js', content: '1' }]);
    await extractToCache(other, integrityOf(other), join(root, 'cache'));
    mkdirSync(join(root, 'cache', 'drivers', '.staging-abc123'));
    mkdirSync(join(root, 'cache', 'drivers', 'notes'));
    const listed = listCache(join(root, 'cache'));
    expect(listed.map((l) => l.integrity).sort()).toEqual([integrityOf(tgz), integrityOf(other)].sort());
    expect(listed.find((l) => l.integrity === integrityOf(tgz))?.path).toBe(entry.path);
    expect(listCache(join(root, 'empty'))).toEqual([]);
  });

  it('removes every entry not kept and old staging leftovers; leaves young staging folders and strangers', async () => {
    const other = makeTarball([...FILES, { path: 'package/extra.js', content: '1' }]);
    const otherEntry = await extractToCache(other, integrityOf(other), join(root, 'cache'));
    const drivers = join(root, 'cache', 'drivers');
    // a crashed extraction: read-only content in an old staging folder
    const oldStaging = join(drivers, '.staging-old111');
    mkdirSync(join(oldStaging, 'package'), { recursive: true });
    writeFileSync(join(oldStaging, 'package', 'a.js'), 'x', { mode: 0o444 });
    chmodSync(join(oldStaging, 'package'), 0o555);
    chmodSync(oldStaging, 0o555);
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(oldStaging, old, old);
    const youngStaging = join(drivers, '.staging-new222');
    mkdirSync(youngStaging);
    mkdirSync(join(drivers, 'notes'));

    const result = cleanCache(join(root, 'cache'), { keep: [integrityOf(tgz)] });
    expect(result.kept).toEqual([entry.path]);
    expect(result.removed.sort()).toEqual([oldStaging, otherEntry.path].sort());
    expect(readdirSync(drivers).sort()).toEqual([youngStaging.split('/').pop()!, entry.path.split('/').pop()!, 'notes'].sort());
    expect(verifyCacheEntry(entry.path).integrity).toBe(integrityOf(tgz));

    const all = cleanCache(join(root, 'cache'), { stagingGraceMs: 0 });
    expect(all.removed.sort()).toEqual([entry.path, youngStaging].sort());
    expect(readdirSync(drivers)).toEqual(['notes']);
  });

  it('removes an entry that was replaced by a symlink without following it', () => {
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'precious.txt'), 'keep me');
    chmodSync(entry.path, 0o755);
    renameSync(entry.path, join(root, 'aside'));
    symlinkSync(elsewhere, entry.path, 'dir');
    expect(cleanCache(join(root, 'cache')).removed).toEqual([entry.path]);
    expect(readFileSync(join(elsewhere, 'precious.txt'), 'utf8')).toBe('keep me');
    expect(lstatSync(elsewhere).mode & 0o777).not.toBe(0o700);
  });

  it('refuses a drivers folder replaced by a symbolic link, and deletes nothing where it points', async () => {
    const drivers = join(root, 'cache', 'drivers');
    const elsewhere = join(root, 'elsewhere-drivers');
    renameSync(drivers, elsewhere);
    symlinkSync(elsewhere, drivers, 'dir');
    const hex = entry.path.split('/').pop()!;
    expect(() => cleanCache(join(root, 'cache'), { stagingGraceMs: 0 })).toThrowWithCode('E_CACHE_TAMPERED');
    expect(() => listCache(join(root, 'cache'))).toThrowWithCode('E_CACHE_TAMPERED');
    expect(() => verifyCacheEntry(entry.path)).toThrowWithCode('E_CACHE_TAMPERED');
    await expect(extractToCache(tgz, integrityOf(tgz), join(root, 'cache'))).rejects.toMatchObject({ code: 'E_CACHE_TAMPERED' });
    expect(readdirSync(elsewhere)).toContain(hex);
  });

  it('refuses a drivers folder other users can write, with the fix in the message', () => {
    const drivers = join(root, 'cache', 'drivers');
    chmodSync(drivers, 0o777);
    expect(() => listCache(join(root, 'cache'))).toThrowWithCode('E_CACHE_TAMPERED');
    expect(() => verifyCacheEntry(entry.path)).toThrow(/chmod go-w/);
    chmodSync(drivers, 0o700);
    expect(listCache(join(root, 'cache')).map((l) => l.path)).toEqual([entry.path]);
  });

  it('a cache root that does not exist is empty', () => {
    expect(cleanCache(join(root, 'nothing-here'))).toEqual({ removed: [], kept: [] });
  });
});
