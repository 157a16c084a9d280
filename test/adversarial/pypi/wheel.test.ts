/** Hostile wheels: each is refused with its code before anything is written. */
import { describe, expect, it } from 'vitest';
import { readWheel } from '../../../src/pypi/wheel.js';
import { buildWheel, distInfoName, wheelFilename, type WheelSpec } from '../../helpers/wheels.js';

const NAME = 'mcs-driver-evil';
const FILE = wheelFilename(NAME, '1.0');
const DIST_INFO = distInfoName(NAME, '1.0');

function wheel(hostile: WheelSpec['hostile'], files: Record<string, string | Buffer> = { 'mcs/driver/evil/__init__.py': 'X = 1\n' }): Buffer {
  return buildWheel({ name: NAME, version: '1.0', files, hostile });
}

describe('hostile wheels', () => {
  it('refuses a zip bomb: an entry over the per-entry cap, entries over the total cap, too many entries', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024);
    await expect(readWheel(wheel({}, { 'mcs/big.py': big }), FILE, { maxEntryBytes: 1024 * 1024 })).toThrowWithCode('E_WHEEL_LIMIT');
    await expect(readWheel(wheel({}, { 'mcs/a.py': big, 'mcs/b.py': big }), FILE, { maxTotalBytes: 3 * 1024 * 1024 })).toThrowWithCode('E_WHEEL_LIMIT');
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`mcs/m${i}.py`, '']));
    await expect(readWheel(wheel({}, many), FILE, { maxEntries: 20 })).toThrowWithCode('E_WHEEL_LIMIT');
  });

  it('refuses an entry over the default per-entry cap of 64 MiB (it deflates to a few kilobytes)', async () => {
    await expect(readWheel(wheel({}, { 'mcs/zeros.py': Buffer.alloc(64 * 1024 * 1024 + 1) }), FILE)).toThrowWithCode('E_WHEEL_LIMIT');
  });

  it('refuses an entry that inflates past the size its header declares', async () => {
    await expect(readWheel(wheel({ entries: [{ name: 'mcs/liar.py', data: Buffer.alloc(100_000), declaredSize: 10 }] }), FILE)).toThrowWithCode('E_WHEEL_LIMIT');
  });

  it.each([
    ['an absolute path', '/etc/evil.py'],
    ['a .. segment', 'mcs/../../evil.py'],
    ['a backslash', 'mcs\\evil.py'],
    ['a drive letter', 'C:/evil.py'],
    ['a . segment', 'mcs/./evil.py'],
    ['an empty segment', 'mcs//evil.py'],
    ['a control character', 'mcs/ev\u0001il.py'],
    ['a .pth file', 'evil.pth'],
    ['a top-level non-module file', 'README'],
    ['a top-level folder that is not an identifier', 'not-a-package/x.py'],
    ['a second .dist-info', 'other-1.0.dist-info/METADATA'],
    ['a .data folder of another kind', 'mcs_driver_evil-1.0.data/elsewhere/x.py'],
  ])('refuses %s', async (_what, path) => {
    await expect(readWheel(wheel({ entries: [{ name: path, data: 'boom' }] }), FILE)).toThrowWithCode('E_WHEEL_PATH');
  });

  it('refuses a name that is not UTF-8, and non-ASCII without the UTF-8 flag', async () => {
    await expect(readWheel(wheel({ entries: [{ name: Buffer.from([0x6d, 0x63, 0x73, 0x2f, 0xff, 0x2e, 0x70, 0x79]), data: 'x', inRecord: false }] }), FILE)).toThrowWithCode('E_WHEEL_PATH');
    await expect(readWheel(wheel({ entries: [{ name: 'mcs/é.py', data: 'x', utf8: false }] }), FILE)).toThrowWithCode('E_WHEEL_PATH');
  });

  it('refuses a symbolic link and other special files', async () => {
    await expect(readWheel(wheel({ symlink: { path: 'mcs/driver/evil/link.py', target: '/etc/passwd' } }), FILE)).toThrowWithCode('E_WHEEL_LINK');
    await expect(readWheel(wheel({ entries: [{ name: 'mcs/fifo', data: '', unixMode: 0o010644 }] }), FILE)).toThrowWithCode('E_WHEEL_LINK');
  });

  it('refuses duplicate entries, also differing only in case, and a file below a file', async () => {
    await expect(readWheel(wheel({ entries: [{ name: 'mcs/driver/evil/__init__.py', data: 'Y = 2\n', inRecord: false }] }), FILE)).toThrowWithCode('E_WHEEL_DUPLICATE');
    await expect(readWheel(wheel({ entries: [{ name: 'mcs/driver/evil/__INIT__.py', data: 'Y = 2\n' }] }), FILE)).toThrowWithCode('E_WHEEL_DUPLICATE');
    await expect(readWheel(wheel({}, { 'mcs/x.py': 'a', 'mcs/x.py/y.py': 'b' }), FILE)).toThrowWithCode('E_WHEEL_DUPLICATE');
    await expect(readWheel(wheel({}, { 'mod.py': 'a', [`mcs_driver_evil-1.0.data/purelib/mod.py`]: 'b' }), FILE)).toThrowWithCode('E_WHEEL_DUPLICATE');
  });

  it('refuses a RECORD mismatch: wrong hash, wrong size, a file missing from RECORD, a RECORD line without a file, no RECORD', async () => {
    const error = await readWheel(wheel({ recordMismatch: 'mcs/driver/evil/__init__.py' }), FILE).catch((e: unknown) => e);
    expect(error).toThrowWithCode('E_WHEEL_RECORD');
    expect((error as Error).message).toContain('mcs/driver/evil/__init__.py');
    await expect(readWheel(wheel({ recordWrongSize: 'mcs/driver/evil/__init__.py' }), FILE)).toThrowWithCode('E_WHEEL_RECORD');
    await expect(readWheel(wheel({ omitFromRecord: 'mcs/driver/evil/__init__.py' }), FILE)).toThrowWithCode('E_WHEEL_RECORD');
    await expect(readWheel(wheel({ omitFromRecord: `${DIST_INFO}/METADATA` }), FILE)).toThrowWithCode('E_WHEEL_RECORD');
    await expect(readWheel(wheel({ recordExtra: 'mcs/driver/evil/gone.py' }), FILE)).toThrowWithCode('E_WHEEL_RECORD');
    await expect(readWheel(wheel({ noRecord: true }), FILE)).toThrowWithCode('E_WHEEL_RECORD');
  });

  it('refuses METADATA naming another project or version than the file name', async () => {
    const error = await readWheel(wheel({ metadataName: 'mcs-driver-csv' }), FILE).catch((e: unknown) => e);
    expect(error).toThrowWithCode('E_WHEEL_METADATA');
    expect((error as Error).message).toContain('expected mcs-driver-evil 1.0');
    await expect(readWheel(wheel({ metadataVersion: '2.0' }), FILE)).toThrowWithCode('E_WHEEL_METADATA');
    await expect(readWheel(wheel({ metadataText: 'Metadata-Version: 2.1\nName: mcs-driver-evil\n' }), FILE)).toThrowWithCode('E_WHEEL_METADATA');
    await expect(readWheel(wheel({ metadataText: 'Metadata-Version: 2.1\nName: mcs-driver-evil\nVersion: 1.0\nRequires-Dist: x @ file:///etc\n' }), FILE)).toThrowWithCode('E_WHEEL_METADATA');
  });

  it('refuses a wheel under a file name of another project, an sdist name, and bytes that are not a zip', async () => {
    await expect(readWheel(wheel({}), wheelFilename('mcs-driver-csv', '1.0'))).toThrowWithCode('E_WHEEL_INVALID');
    await expect(readWheel(wheel({}), 'mcs_driver_evil-1.0.tar.gz')).toThrowWithCode('E_WHEEL_INVALID');
    await expect(readWheel(Buffer.from('not a zip at all'), FILE)).toThrowWithCode('E_WHEEL_INVALID');
    await expect(readWheel(wheel({}).subarray(0, 200), FILE)).toThrowWithCode('E_WHEEL_INVALID');
  });

  it('refuses encrypted entries and a Wheel-Version other than 1.x', async () => {
    await expect(readWheel(wheel({ entries: [{ name: 'mcs/secret.py', data: 'x', encrypted: true, deflate: false }] }), FILE)).toThrowWithCode('E_WHEEL_INVALID');
    await expect(readWheel(wheel({ wheelVersion: '2.0' }), FILE)).toThrowWithCode('E_WHEEL_INVALID');
  });
});
