/**
 * A central directory holding one entry more than the end record counts:
 * yauzl (mcs-pkg's zip reader) stops at the count, Python's zipfile (pip)
 * reads every record the central directory's size covers. The wheel mcs-pkg
 * checked (RECORD complete, no .pth) is then not the wheel pip installs:
 * pip writes the hidden `.pth`, which runs at every start of that Python.
 * `index add` and `verify --dist` vouch for such a wheel, and `pins --format
 * requirements` hands its hash to pip.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readWheel } from '../../../src/pypi/wheel.js';
import '../../helpers/matchers.js';
import { distInfoName, recordHash, wheelFilename, zip } from '../../helpers/wheels.js';

const NAME = 'mcs-driver-hidden';
const FILE = wheelFilename(NAME, '1.0');
const DIST_INFO = distInfoName(NAME, '1.0');
const dir = mkdtempSync(join(tmpdir(), 'mcs-hidden-entry-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An honest wheel, then one more entry (`hidden`) in the central directory that the end record does not count. */
function hiddenEntryWheel(hidden: { name: string; data: string }): Buffer {
  const files: Array<[string, string]> = [
    ['mcs_driver_hidden/__init__.py', 'X = 1\n'],
    [`${DIST_INFO}/METADATA`, `Metadata-Version: 2.1\nName: ${NAME}\nVersion: 1.0\n\n`],
    [`${DIST_INFO}/WHEEL`, 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n'],
  ];
  const record = [...files.map(([path, data]) => `${path},${recordHash(data)},${Buffer.byteLength(data)}`), `${DIST_INFO}/RECORD,,`].join('\n') + '\n';
  const bytes = zip([...files.map(([name, data]) => ({ name, data })), { name: `${DIST_INFO}/RECORD`, data: record }, hidden]);
  const end = bytes.length - 22;
  expect(bytes.readUInt32LE(end)).toBe(0x06054b50);
  bytes.writeUInt16LE(bytes.readUInt16LE(end + 8) - 1, end + 8);
  bytes.writeUInt16LE(bytes.readUInt16LE(end + 10) - 1, end + 10);
  return bytes;
}

describe('zip: a central directory entry the end record does not count', () => {
  const payload = join(dir, 'pth-ran');
  const wheel = hiddenEntryWheel({ name: 'zzz_mcs_hidden.pth', data: `import os; open(${JSON.stringify(payload)}, "w").write("ran")\n` });

  it('pip installs the hidden entry (Python zipfile reads it)', () => {
    const path = join(dir, FILE);
    writeFileSync(path, wheel);
    const target = join(dir, 'target');
    const run = spawnSync('python3', ['-m', 'pip', 'install', '--no-deps', '--no-index', '--no-compile', '--disable-pip-version-check', '--target', target, path], { encoding: 'utf8', timeout: 120_000 });
    expect(run.error).toBeUndefined();
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(join(target, 'zzz_mcs_hidden.pth'))).toBe(true);
  }, 150_000);

  it('readWheel refuses it (E_WHEEL_INVALID) rather than vouching for a wheel pip reads differently', async () => {
    await expect(readWheel(wheel, FILE)).toThrowWithCode('E_WHEEL_INVALID');
  });
});
