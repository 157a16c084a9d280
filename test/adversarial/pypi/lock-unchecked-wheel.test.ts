/**
 * A dependency version with two pure-Python wheels: the lock resolver reads
 * (and checks: RECORD, paths, METADATA) only the first, yet pins every pure
 * wheel of the version by the digest PyPI states. `pins --format
 * requirements` then hands pip a --hash for a wheel mcs-pkg never opened,
 * and pip may pick it: a `.pth` file in it runs code at every start of that
 * Python, which readWheel refuses in any wheel it reads.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEntry } from '../../../src/index/build.js';
import { addFromRegistry } from '../../../src/maintain/add.js';
import { requirementsFile } from '../../../src/pypi/requirements.js';
import { readWheel } from '../../../src/pypi/wheel.js';
import { startFixturePypi, type FixturePypi } from '../../helpers/fixture-pypi.js';
import { removeDir, tempDir } from '../../helpers/index-data.js';
import '../../helpers/matchers.js';
import { buildWheel, wheelFilename } from '../../helpers/wheels.js';

let pypi: FixturePypi;
let work: string;

const mcs = {
  drivers: [{ kind: 'tool-driver', export: 'pkg:Driver', meta: { id: 'a3e9c1d2-0000-4000-8000-0000000000a1', name: 'Two Wheels Driver', version: '1.0.0', bindings: [{ capability: 'x', adapter: '*', spec_format: 'Custom' }], target_llms: null, capabilities: [] }, tools: [{ name: 't', description: 'A tool.' }] }],
};

beforeAll(async () => {
  pypi = await startFixturePypi();
  work = tempDir('mcs-pypi-twowheels-');
  mkdirSync(work, { recursive: true });
});

afterAll(async () => {
  await pypi?.close();
  if (work) removeDir(work);
});

describe('index add pypi: every wheel a lock pins has been read and checked', () => {
  it('a dependency\'s second pure wheel holding a .pth file is not pinned unchecked', async () => {
    const name = 'mcs-driver-twowheels';
    const dep = 'twowheels-dep';
    const honest = buildWheel({ name: dep, version: '1.0.0', files: { 'twowheels_dep/__init__.py': '' } });
    const hostile = buildWheel({ name: dep, version: '1.0.0', tag: 'py2.py3-none-any', files: { 'twowheels_dep/__init__.py': '' }, hostile: { entries: [{ name: 'zzz-evil.pth', data: 'import os; os.system("id")\n' }] } });
    const hostileFile = wheelFilename(dep, '1.0.0', 'py2.py3-none-any');
    // readWheel refuses the hostile wheel whenever it is asked to look at it
    await expect(readWheel(hostile, hostileFile)).toThrowWithCode('E_WHEEL_PATH');

    await pypi.publish({ name, files: [{ filename: wheelFilename(name, '1.0.0'), bytes: buildWheel({ name, version: '1.0.0', requiresDist: [dep], requiresPython: '>=3.11', mcs }) }] });
    await pypi.publish({ name: dep, files: [{ filename: wheelFilename(dep, '1.0.0'), bytes: honest }, { filename: hostileFile, bytes: hostile }] });
    const indexDir = join(work, name);
    const error = await addFromRegistry(indexDir, `pypi:${name}`, { by: 'alice', why: 'review' }, { pypi: { indexUrl: pypi.indexUrl } }).catch((e: unknown) => e);

    const hostileHex = createHash('sha256').update(hostile).digest('hex');
    if (error === undefined || !(error instanceof Error)) {
      // added: the lock must not pin the wheel nobody checked, and the requirements file must not offer its hash to pip
      const entry = readEntry(indexDir, `pypi/${name}.json`);
      const pinned = entry.versions['1.0.0']!.lock!.dependencies.flatMap((d) => d.files.map((f) => f.filename));
      expect(pinned).not.toContain(hostileFile);
      expect(requirementsFile(entry, '1.0.0')).not.toContain(hostileHex);
    } else {
      expect(error).toThrowWithCode('E_ADD_REFUSED');
      expect(existsSync(join(indexDir, 'pypi', `${name}.json`))).toBe(false);
    }
  });

  it('the driver\'s own platform wheel, which pip prefers to py3-none-any, is not offered to pip unchecked', async () => {
    const name = 'mcs-driver-platformwheel';
    const platformTag = 'cp311-cp311-manylinux_2_17_x86_64';
    const platformFile = wheelFilename(name, '1.0.0', platformTag);
    const hostile = buildWheel({ name, version: '1.0.0', tag: platformTag, requiresPython: '>=3.11', mcs, files: { 'mcs_driver_platformwheel/__init__.py': '' }, hostile: { entries: [{ name: 'zzz-evil.pth', data: 'import os; os.system("id")\n' }] } });
    await expect(readWheel(hostile, platformFile)).toThrowWithCode('E_WHEEL_PATH');
    await pypi.publish({
      name,
      files: [
        { filename: wheelFilename(name, '1.0.0'), bytes: buildWheel({ name, version: '1.0.0', requiresPython: '>=3.11', mcs, files: { 'mcs_driver_platformwheel/__init__.py': '' } }) },
        { filename: platformFile, bytes: hostile },
      ],
    });
    const indexDir = join(work, name);
    const error = await addFromRegistry(indexDir, `pypi:${name}`, { by: 'alice', why: 'review' }, { pypi: { indexUrl: pypi.indexUrl } }).catch((e: unknown) => e);
    const hostileHex = createHash('sha256').update(hostile).digest('hex');
    if (error === undefined || !(error instanceof Error)) {
      expect(requirementsFile(readEntry(indexDir, `pypi/${name}.json`), '1.0.0')).not.toContain(hostileHex);
    } else {
      expect(error).toThrowWithCode('E_ADD_REFUSED');
      expect(existsSync(join(indexDir, 'pypi', `${name}.json`))).toBe(false);
    }
  });
});
