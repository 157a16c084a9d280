/**
 * Zip parser differentials: a wheel that pip (Python's zipfile) and
 * mcs-pkg (yauzl, central directory only) read as two different archives.
 * mcs-pkg must refuse what pip refuses, or the files it checked are not the
 * files an installer reading the local headers writes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWheel } from '../../../src/pypi/wheel.js';
import '../../helpers/matchers.js';
import { buildWheel, wheelFilename } from '../../helpers/wheels.js';

const NAME = 'mcs-driver-twofaced';
const FILE = wheelFilename(NAME, '1.0');

/** Rewrites the name in the local file header of the entry `from` to `to` (same length), leaving the central directory as it was. */
function renameLocalHeader(bytes: Buffer, from: string, to: string): Buffer {
  expect(Buffer.byteLength(to)).toBe(Buffer.byteLength(from));
  const out = Buffer.from(bytes);
  const signature = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
  for (let at = out.indexOf(signature); at !== -1; at = out.indexOf(signature, at + 4)) {
    const nameLength = out.readUInt16LE(at + 26);
    if (out.toString('utf8', at + 30, at + 30 + nameLength) === from) {
      out.write(to, at + 30, 'utf8');
      return out;
    }
  }
  throw new Error(`no local header names ${from}`);
}

describe('zip: local header and central directory disagree', () => {
  const honest = buildWheel({ name: NAME, version: '1.0', files: { 'mcs/driver/twofaced/__init__.py': 'X = 1\n' } });
  // the central directory says mcs/driver/twofaced/__init__.py; the local header says mcs/driver/twofaced/__main__.py would be longer, so swap to a same-length name
  const hostile = renameLocalHeader(honest, 'mcs/driver/twofaced/__init__.py', 'mcs/driver/twofaced/__evil__.py');

  it('pip\'s reader (Python zipfile) refuses such a wheel', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcs-zipdiff-'));
    try {
      const path = join(dir, FILE);
      writeFileSync(path, hostile);
      const run = spawnSync('python3', ['-I', '-c', 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor i in z.infolist(): z.read(i)', path], { encoding: 'utf8' });
      expect(run.error).toBeUndefined();
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain('differ');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('readWheel refuses it with E_WHEEL_INVALID (an entry whose local header names another path)', async () => {
    await expect(readWheel(hostile, FILE)).toThrowWithCode('E_WHEEL_INVALID');
  });
});

describe('zip: layouts yauzl and Python zipfile place differently', () => {
  const honest = buildWheel({ name: NAME, version: '1.0', files: { 'mcs/driver/twofaced/__init__.py': 'X = 1\n' } });
  const endAt = honest.length - 22;

  /** The honest wheel with a zip64 end record and locator before its end record; `change` edits the zip64 record. */
  function withZip64(change: (record: Buffer) => void): Buffer {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(honest.readUInt16LE(endAt + 8)), 24);
    record.writeBigUInt64LE(BigInt(honest.readUInt16LE(endAt + 10)), 32);
    record.writeBigUInt64LE(BigInt(honest.readUInt32LE(endAt + 12)), 40);
    record.writeBigUInt64LE(BigInt(honest.readUInt32LE(endAt + 16)), 48);
    change(record);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(endAt), 8);
    locator.writeUInt32LE(1, 16);
    return Buffer.concat([honest.subarray(0, endAt), record, locator, honest.subarray(endAt)]);
  }

  it('reads the honest wheel, and one whose zip64 record agrees with its end record', async () => {
    await expect(readWheel(honest, FILE)).resolves.toBeDefined();
    await expect(readWheel(withZip64(() => {}), FILE)).resolves.toBeDefined();
  });

  it('refuses a local header whose compression method differs from the directory (E_WHEEL_INVALID)', async () => {
    const out = Buffer.from(honest);
    const at = out.indexOf(Buffer.from([0x50, 0x4b, 0x03, 0x04]));
    out.writeUInt16LE(out.readUInt16LE(at + 8) === 8 ? 0 : 8, at + 8);
    await expect(readWheel(out, FILE)).toThrowWithCode('E_WHEEL_INVALID');
  });
});
