/**
 * Hostile wheels at load time: the index pins a dependency wheel whose bytes
 * are exactly the pinned ones, but the wheel itself lies (a RECORD mismatch,
 * a path that escapes, a link, a file outside the package). Each is refused
 * with its code before anything is written to the cache and before any of its
 * code runs: its module would leave a marker when imported, and none appears.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wheelEntryPath } from '../../../src/loader/cache.js';
import { loadDriver } from '../../../src/loader/load.js';
import type { IndexEntry } from '../../../src/manifest/types.js';
import '../../helpers/matchers.js';
import { CSVCHAT, fixtureFiles, startPythonWorld, type PythonWorld } from '../../helpers/python-drivers.js';
import { buildWheel, wheelFilename, type WheelHostility } from '../../helpers/wheels.js';

let world: PythonWorld;
let marker: string;

beforeAll(async () => {
  world = await startPythonWorld('mcs-pypi-hostile-');
  marker = join(world.work, 'imported-marker');
}, 120_000);

afterAll(async () => {
  await world?.close();
});

/** Serves a hostile mcs-driver-core at `version` and points the driver's lock at its exact bytes. */
async function pinHostileCore(version: string, hostile: WheelHostility): Promise<string> {
  const files = { ...fixtureFiles('mcs-driver-core'), 'mcs/driver/core/__init__.py': `open(${JSON.stringify(marker)}, "w").write("ran")\n${fixtureFiles('mcs-driver-core')['mcs/driver/core/__init__.py']}` };
  const bytes = buildWheel({ name: 'mcs-driver-core', version, files, requiresPython: '>=3.11', hostile });
  const filename = wheelFilename('mcs-driver-core', version);
  await world.pypi.publish({ name: 'mcs-driver-core', files: [{ filename, bytes, requiresPython: '>=3.11' }] });
  const file = join(world.index, 'pypi', `${CSVCHAT}.json`);
  const entry = JSON.parse(readFileSync(file, 'utf8')) as IndexEntry;
  const lock = entry.versions['1.0.0']!.lock!;
  lock.dependencies = lock.dependencies.map((d) => (d.name === 'mcs-driver-core' ? { name: d.name, version, files: [{ filename, kind: 'wheel', integrity: `sha256-${createHash('sha256').update(bytes).digest('base64')}`, size: bytes.length }] } : d));
  writeFileSync(file, JSON.stringify(entry, null, 2));
  return createHash('sha256').update(bytes).digest('hex');
}

describe('a hostile wheel pinned in the lock is refused before it is unpacked or run', () => {
  const cases: Array<[string, string, WheelHostility, string]> = [
    ['a RECORD that does not match a file', '1.0.1', { recordMismatch: 'mcs/driver/core/__init__.py' }, 'E_WHEEL_RECORD'],
    ['a path that climbs out of the install folder', '1.0.2', { entries: [{ name: '../escaped.py', data: 'x = 1\n' }] }, 'E_WHEEL_PATH'],
    ['a symbolic link', '1.0.3', { symlink: { path: 'mcs/driver/core/link.py', target: '/etc/passwd' } }, 'E_WHEEL_LINK'],
    ['an absolute path', '1.0.4', { entries: [{ name: '/tmp/absolute.py', data: 'x = 1\n' }] }, 'E_WHEEL_PATH'],
  ];
  for (const [what, version, hostile, code] of cases) {
    it(`${what}: ${code}`, async () => {
      const sha256 = await pinHostileCore(version, hostile);
      const cache = join(world.work, `cache-${version}`);
      await expect(loadDriver(`pypi:${CSVCHAT}`, world.options(cache))).toThrowWithCode(code);
      expect(existsSync(wheelEntryPath(cache, sha256))).toBe(false);
      expect(existsSync(marker)).toBe(false);
    });
  }
});
