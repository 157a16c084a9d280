/**
 * A wheel's top-level module named like a standard-library module (csv.py,
 * shipped by a locked dependency the driver never imports itself). Python
 * puts site-packages after the standard library, so such a module never
 * shadows it in a normal installation; the Python host must keep that
 * order, or any wheel of the lock runs its code the moment the driver
 * imports the standard module (mcs-driver-csv imports csv).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDriver } from '../../../src/loader/load.js';
import type { IndexEntry } from '../../../src/manifest/types.js';
import '../../helpers/matchers.js';
import { CSVCHAT, fixtureFiles, startPythonWorld, type PythonWorld } from '../../helpers/python-drivers.js';
import { buildWheel, wheelFilename } from '../../helpers/wheels.js';

let world: PythonWorld;

beforeAll(async () => {
  world = await startPythonWorld('mcs-pypi-shadow-');
}, 120_000);

afterAll(async () => {
  await world?.close();
});

describe('a locked wheel shipping a module named like the standard library', () => {
  it('does not shadow the standard library: the CSV driver gets the real csv module', async () => {
    const version = '1.0.9';
    const files = { ...fixtureFiles('mcs-driver-core'), 'csv.py': 'raise RuntimeError("SHADOWED STDLIB csv")\n' };
    const bytes = buildWheel({ name: 'mcs-driver-core', version, files, requiresPython: '>=3.11' });
    const filename = wheelFilename('mcs-driver-core', version);
    await world.pypi.publish({ name: 'mcs-driver-core', files: [{ filename, bytes, requiresPython: '>=3.11' }] });
    const file = join(world.index, 'pypi', `${CSVCHAT}.json`);
    const entry = JSON.parse(readFileSync(file, 'utf8')) as IndexEntry;
    const lock = entry.versions['1.0.0']!.lock!;
    lock.dependencies = lock.dependencies.map((d) => (d.name === 'mcs-driver-core' ? { name: d.name, version, files: [{ filename, kind: 'wheel', integrity: `sha256-${createHash('sha256').update(bytes).digest('base64')}`, size: bytes.length }] } : d));
    writeFileSync(file, JSON.stringify(entry, null, 2));

    const outcome = await loadDriver(`pypi:${CSVCHAT}`, world.options(join(world.work, 'cache'))).then(
      async (loaded) => {
        await loaded.close();
        return 'loaded';
      },
      (error: unknown) => (error as Error).message,
    );
    expect(outcome).not.toContain('SHADOWED STDLIB');
    expect(outcome).toBe('loaded');
  }, 120_000);
});
