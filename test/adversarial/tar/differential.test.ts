/**
 * Tar parser differential: for every archive, mcs-pkg sees exactly the
 * entries npm would install (node-tar with pacote's options, run here as the
 * oracle) or refuses the archive with an E_TAR* code. Archives are built at
 * test time from raw headers: GNU long names and links (L, K, N), pax per-entry
 * and global headers (x, g, X) in every order, header sizes, NULs, duplicate
 * and overlapping names, trailing data, truncation, bad checksums.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import '../../helpers/matchers.js';
import { END_OF_ARCHIVE, padBlocks, paxBody, tarHeader, tarRecord } from '../../helpers/tarball.js';
import { planTarball } from '../../../src/loader/extract.js';
import { checkIntegrity } from '../../../src/trust/integrity.js';
import { checkInstalledTree } from '../../../src/verify.js';
import { removeDir, tempDir } from '../../helpers/index-data.js';
import { expectNpmParity, npmInstall } from './npm-view.js';

const MANIFEST = JSON.stringify({ name: 'mcs-driver-x', version: '1.0.0', type: 'module', main: 'index.js' });
const manifest = () => tarRecord({ name: 'package/package.json' }, MANIFEST);
const file = (name: string, body: string) => tarRecord({ name }, body);
const longName = (path: string) => tarRecord({ name: '././@LongLink', type: 'L' }, `${path}\0`);
const longLink = (path: string) => tarRecord({ name: '././@LongLink', type: 'K' }, `${path}\0`);
const pax = (records: Array<[string, string]>, type = 'x') => tarRecord({ name: 'PaxHeader/x', type }, paxBody(records));
const archive = (...parts: Buffer[]) => gzipSync(Buffer.concat([...parts, END_OF_ARCHIVE]));

async function refused(tgz: Buffer, code = 'E_TARBALL_INVALID'): Promise<void> {
  expect(await expectNpmParity(tgz)).toEqual({ refused: code });
}

async function accepted(tgz: Buffer): Promise<Record<string, string>> {
  const outcome = await expectNpmParity(tgz);
  if (!('accepted' in outcome)) throw new Error(`expected the archive to be accepted, it was refused with ${outcome.refused}`);
  return Object.fromEntries(Object.entries(outcome.accepted.files).map(([path, data]) => [path, Buffer.from(data, 'base64').toString('utf8')]));
}

describe('a GNU long name followed by a pax header (the reported case)', () => {
  // npm installs the evil content as package/reviewed-name-that-is-long.js, and no index.js
  const evil = archive(manifest(), longName(`package/${'reviewed-name-that-is-long-'.repeat(4)}.js`), pax([['mtime', '1700000000']]), file('package/index.js', 'steal()'));

  it('is refused, so the loader never imports a file npm and tar -t show under another name', async () => {
    const installed = await npmInstall(evil);
    expect(installed).toMatchObject({ files: { [`${'reviewed-name-that-is-long-'.repeat(4)}.js`]: expect.any(String) } });
    expect(installed).not.toMatchObject({ files: { 'index.js': expect.any(String) } });
    await refused(evil);
  });

  it('is refused by the manifest check of verify and by the cache extraction', () => {
    const manifestCheck = checkIntegrity({ name: 'mcs-driver-x', version: '1.0.0', bytes: evil }).find((r) => r.check === 'manifest')!;
    expect(manifestCheck).toMatchObject({ status: 'fail', code: 'E_TARBALL_INVALID' });
    expect(() => planTarball(evil)).toThrowWithCode('E_TARBALL_INVALID');
  });

  it('every order and pairing of L, K, x, g, N, X before one entry is refused', async () => {
    const metas: Record<string, Buffer> = {
      L: longName('package/from-long-name.js'),
      K: longLink('package/target'),
      x: pax([['path', 'package/from-pax.js']]),
      xm: pax([['mtime', '1700000000']]),
      g: pax([['comment', 'global']], 'g'),
      N: tarRecord({ name: '././@LongLink', type: 'N' }, 'package/from-old-long-name.js\0'),
      X: pax([['path', 'package/from-old-pax.js']], 'X'),
    };
    for (const first of Object.keys(metas)) {
      for (const second of Object.keys(metas)) {
        await refused(archive(manifest(), metas[first]!, metas[second]!, file('package/index.js', 'x')));
      }
    }
  });
});

describe('single extended headers: mcs-pkg names the entry as npm does', () => {
  it('a GNU long name alone', async () => {
    const name = `package/${'long-'.repeat(30)}.js`;
    expect(await accepted(archive(manifest(), longName(name), file('package/short.js', 'a')))).toMatchObject({ [name.slice(8)]: 'a' });
  });

  it('a pax path alone, a pax path with other records, a pax header with no path', async () => {
    expect(await accepted(archive(manifest(), pax([['path', 'package/from-pax.js']]), file('package/short.js', 'a')))).toMatchObject({ 'from-pax.js': 'a' });
    expect(await accepted(archive(manifest(), pax([['mtime', '1'], ['path', 'package/p.js'], ['uid', '7']]), file('package/s.js', 'a')))).toMatchObject({ 'p.js': 'a' });
    expect(await accepted(archive(manifest(), pax([['mtime', '1']]), file('package/s.js', 'a')))).toMatchObject({ 's.js': 'a' });
  });

  it('the ustar prefix field', async () => {
    expect(await accepted(archive(manifest(), tarRecord({ name: 'deep.js', prefix: 'package/lib' }, 'd')))).toMatchObject({ 'lib/deep.js': 'd' });
  });

  it('a zero-size extended header of any kind is refused (readers disagree on an empty long name)', async () => {
    for (const type of ['L', 'K', 'x', 'g']) await refused(archive(manifest(), tarRecord({ name: '././@LongLink', type }), file('package/a.js', 'a')));
  });

  it('a global header, even alone and at the end, is refused', async () => {
    await refused(archive(pax([['mtime', '1']], 'g'), manifest()));
    await refused(archive(manifest(), pax([['mtime', '1']], 'g')));
  });

  it('a pax size record is refused, whatever its form', async () => {
    for (const size of ['3', '1e3', ' 3', '-1', '0x3', '99999999999999999999']) {
      await refused(archive(manifest(), pax([['size', size]]), tarRecord({ name: 'package/a.js', size: 3 }, 'abc')));
    }
  });

  it('an extended header over node-tar\'s 1 MiB cap (it would be ignored) is refused', async () => {
    await refused(archive(manifest(), pax([['comment', 'c'.repeat(1024 * 1024 + 10)], ['path', 'package/evil.js']]), file('package/a.js', 'a')));
  });

  it('an extended header with no entry after it is refused', async () => {
    await refused(archive(manifest(), longName('package/dangling.js')));
    await refused(archive(manifest(), pax([['path', 'package/dangling.js']])));
  });

  it('a long link is refused, on a link or on a file', async () => {
    await refused(archive(manifest(), longLink('package/target'), tarRecord({ name: 'package/link', type: '2', linkname: 'x' })));
    await refused(archive(manifest(), longLink('package/target'), file('package/a.js', 'a')));
  });
});

describe('names', () => {
  it('NULs: a name field is read up to its first NUL; a NUL in a long name or pax path cuts it there as well', async () => {
    const nul = tarRecord({ name: Buffer.from('package/shown.js\0hidden.js') }, 'n');
    expect(await accepted(archive(manifest(), nul))).toMatchObject({ 'shown.js': 'n' });
    expect(await accepted(archive(manifest(), longName(`package/cut-${'x'.repeat(100)}.js\0tail.js`), file('package/s.js', 'a')))).toMatchObject({
      [`cut-${'x'.repeat(100)}.js`]: 'a',
    });
    await expectNpmParity(archive(manifest(), pax([['path', 'package/p.js\0evil.js']]), file('package/s.js', 'a')));
  });

  it('paths npm would move or skip, or name otherwise on Windows, are refused: absolute, "..", a root below the first folder, control characters, invalid UTF-8, <>:"|?*', async () => {
    for (const name of ['/package/a.js', 'package/../a.js', 'package/C:/a.js', 'package/C:a.js', 'package//?/C:/a.js', 'package/a\u0001.js', 'package/a\n.js', 'package/a:b.js', 'package/a?.js', 'package/a<b>.js']) {
      await refused(archive(manifest(), file(name, 'x')), 'E_TAR_PATH');
    }
    await refused(archive(manifest(), tarRecord({ name: Buffer.from([...Buffer.from('package/'), 0xff, 0x2e, 0x6a, 0x73]) }, 'x')), 'E_TAR_PATH');
  });

  it('the first raw segment is stripped whatever it is, as npm does', async () => {
    expect(await accepted(archive(manifest(), file('./package/x.js', 'x')))).toMatchObject({ 'package/x.js': 'x' });
    expect(await accepted(archive(file('./package.json', MANIFEST), file('./index.js', 'i')))).toEqual({ 'package.json': MANIFEST, 'index.js': 'i' });
    expect(await accepted(archive(manifest(), file('package//lib///a.js', 'a'), file('package/./b.js', 'b')))).toMatchObject({ 'lib/a.js': 'a', 'b.js': 'b' });
  });

  it('a .gitignore is seen as npm installs it, as .npmignore; with a .npmignore beside it the archive is refused', async () => {
    expect(await accepted(archive(manifest(), file('package/.gitignore', 'g')))).toMatchObject({ '.npmignore': 'g' });
    await refused(archive(manifest(), file('package/.npmignore', 'n'), file('package/.gitignore', 'g')), 'E_TAR_DUPLICATE');
    await refused(archive(manifest(), file('package/.gitignore', 'g'), file('package/.npmignore', 'n')), 'E_TAR_DUPLICATE');
  });

  it('folder entries install nothing by themselves (npm creates only folders that hold files)', async () => {
    const outcome = await expectNpmParity(archive(manifest(), tarRecord({ name: 'package/empty/', type: '5' }), file('package/lib/a.js', 'a')));
    expect(outcome).toEqual({ accepted: expect.objectContaining({ directories: ['lib'] }) });
  });

  it('a file named with a trailing slash is a folder to node-tar (type 0) or refused (type 7)', async () => {
    await expectNpmParity(archive(manifest(), tarRecord({ name: 'package/dir/', size: 0 })));
    await refused(archive(manifest(), tarRecord({ name: 'package/c.js/', type: '7' }, 'c')), 'E_TAR_PATH');
  });

  it('a folder whose size field is not zero is refused (node-tar reads no body, other readers skip one)', async () => {
    const folder = Buffer.concat([tarHeader({ name: 'package/d/', type: '5', size: 512 }), padBlocks(file('package/hidden.js', 'h'))]);
    await refused(archive(manifest(), folder));
  });
});

describe('duplicate and overlapping names are refused', () => {
  const cases: Array<[string, Buffer[]]> = [
    ['a file and a folder of the same name', [file('package/lib', 'x'), file('package/lib/a.js', 'a')]],
    ['a folder entry and a file of the same name', [tarRecord({ name: 'package/lib/', type: '5' }), file('package/lib', 'x')]],
    ['a/b and a/./b', [file('package/a/b.js', '1'), file('package/a/./b.js', '2')]],
    ['case variants', [file('package/Index.js', '1'), file('package/index.js', '2')]],
    ['two top folders', [file('package/index.js', '1'), file('other/index.js', '2')]],
    ['a long name equal to a short one', [file('package/index.js', '1'), longName('package/index.js'), file('package/zzz.js', '2')]],
    ['a pax path equal to a short one', [file('package/index.js', '1'), pax([['path', 'package/index.js']]), file('package/zzz.js', '2')]],
  ];
  it.each(cases)('%s', async (_name, parts) => {
    await refused(archive(manifest(), ...parts), 'E_TAR_DUPLICATE');
  });
});

describe('framing', () => {
  it('trailing data after the end blocks is refused; zero padding is accepted', async () => {
    const good = Buffer.concat([manifest(), END_OF_ARCHIVE]);
    await refused(gzipSync(Buffer.concat([good, file('package/evil.js', 'e'), END_OF_ARCHIVE])));
    await refused(gzipSync(Buffer.concat([good, Buffer.from('junk')])));
    await accepted(gzipSync(Buffer.concat([good, Buffer.alloc(8192)])));
  });

  it('an entry after a lone zero block is refused (node-tar reads on, GNU tar stops)', async () => {
    await refused(gzipSync(Buffer.concat([manifest(), Buffer.alloc(512), file('package/evil.js', 'e'), END_OF_ARCHIVE])));
  });

  it('truncated archives are refused, at any block', async () => {
    const full = Buffer.concat([manifest(), file('package/a.js', 'a'.repeat(700)), END_OF_ARCHIVE]);
    for (const cut of [100, 512, 700, 1500, 2048, 2100]) await refused(gzipSync(full.subarray(0, cut)));
  });

  it('an archive without end blocks is read as npm reads it', async () => {
    expect(await accepted(gzipSync(Buffer.concat([manifest(), file('package/a.js', 'a')])))).toMatchObject({ 'a.js': 'a' });
  });

  it('a bad checksum on any header is refused', async () => {
    await refused(archive(tarRecord({ name: 'package/package.json', badChecksum: true }, MANIFEST)));
    await refused(archive(manifest(), tarRecord({ name: 'package/a.js', badChecksum: true }, 'a')));
    await refused(archive(manifest(), tarRecord({ name: '././@LongLink', type: 'L', badChecksum: true }, 'package/x.js'), file('package/a.js', 'a')));
  });

  it('header sizes: larger or smaller than the body, malformed, base-256 — npm\'s reading or a refusal', async () => {
    const body = Buffer.from('0123456789');
    for (const size of [0, 5, 9, 11, 512, 513, '        ', '12x', '0000000012 ', '-1']) {
      await expectNpmParity(archive(manifest(), Buffer.concat([tarHeader({ name: 'package/a.js', size }), padBlocks(body)]), file('package/b.js', 'b')));
    }
    const base256 = tarHeader({ name: 'package/a.js', size: 0 });
    base256.fill(0, 124, 136);
    base256[124] = 0x80;
    base256[135] = 10;
    await expectNpmParity(archive(manifest(), Buffer.concat([base256, padBlocks(body)])));
  });

  it('gzip framing: two concatenated members are read as npm reads them, trailing bytes after the member are refused, zero padding accepted', async () => {
    const first = Buffer.concat([manifest(), file('package/a.js', 'a')]);
    const second = Buffer.concat([file('package/b.js', 'b'), END_OF_ARCHIVE]);
    // npm inflates every member, as one stream
    expect(await accepted(Buffer.concat([gzipSync(first), gzipSync(second)]))).toMatchObject({ 'a.js': 'a', 'b.js': 'b' });
    await refused(Buffer.concat([gzipSync(Buffer.concat([first, END_OF_ARCHIVE])), Buffer.from('junk')]));
    expect(await accepted(Buffer.concat([gzipSync(Buffer.concat([first, END_OF_ARCHIVE])), Buffer.alloc(100)]))).toMatchObject({ 'a.js': 'a' });
  });

  it('only gzip, inflated once: a plain or doubly compressed tar is refused', async () => {
    const tar = Buffer.concat([manifest(), END_OF_ARCHIVE]);
    await refused(tar);
    await refused(gzipSync(gzipSync(tar)));
  });

  it('links, devices and unknown types are refused with their codes', async () => {
    await refused(archive(manifest(), tarRecord({ name: 'package/l', type: '2', linkname: 'package.json' })), 'E_TAR_LINK');
    await refused(archive(manifest(), tarRecord({ name: 'package/h', type: '1', linkname: 'package/package.json' })), 'E_TAR_LINK');
    for (const type of ['3', '4', '6', 'D', 'S', 'V', 'Z']) await refused(archive(manifest(), tarRecord({ name: 'package/s', type })), 'E_TAR_SPECIAL');
  });
});

describe('verify --installed compares an installed folder with the files npm installs', () => {
  it('the same tree passes, whatever the first raw segment; a refused tarball fails the check', async () => {
    const tgz = archive(manifest(), file('./package/x.js', 'x'), file('package/.gitignore', 'g'));
    const installed = await npmInstall(tgz);
    if (!('files' in installed)) throw new Error(installed.error);
    const dir = tempDir('mcs-installed-');
    try {
      for (const [path, data] of Object.entries(installed.files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), Buffer.from(data, 'base64'));
      }
      expect(checkInstalledTree('mcs-driver-x@1.0.0', tgz, dir)).toMatchObject({ status: 'pass' });
      const smuggled = archive(manifest(), longName('package/long-name.js'), pax([['mtime', '1']]), file('package/x.js', 'x'));
      expect(checkInstalledTree('mcs-driver-x@1.0.0', smuggled, dir)).toMatchObject({ status: 'fail', code: 'E_INSTALLED_MISMATCH', evidence: { reason: 'E_TARBALL_INVALID' } });
    } finally {
      removeDir(dir);
    }
  });
});
