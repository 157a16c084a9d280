/**
 * A Python driver's dependency markers are evaluated for the interpreter that
 * will run it (what findPython's probe reports: sys.platform,
 * platform.machine(), platform.release(), the full Python version, ...), not
 * for an assumed Linux x86_64 CPython, and a wheel whose Requires-Python the
 * interpreter does not meet is refused (E_PYTHON_VERSION, naming both).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPython } from '../../src/host/python.js';
import { loadDriver } from '../../src/loader/load.js';
import '../helpers/matchers.js';
import { CSVCHAT, startPythonWorld, type PythonWorld } from '../helpers/python-drivers.js';

let world: PythonWorld;
let original: string;
const entryFile = (): string => join(world.index, 'pypi', `${CSVCHAT}.json`);
let runs = 0;

beforeAll(async () => {
  world = await startPythonWorld('mcs-pypi-markers-');
  original = readFileSync(entryFile(), 'utf8');
}, 120_000);

afterAll(async () => {
  await world?.close();
});

/** Loads the driver from an index whose entry was changed by `edit`, with a fresh cache and index cache. */
async function loadEdited(edit: (version: { files: Array<{ requiresPython?: string }>; lock: { dependencies: unknown[] } }) => void): Promise<unknown> {
  const entry = JSON.parse(original) as { versions: Record<string, { files: Array<{ requiresPython?: string }>; lock: { dependencies: unknown[] } }> };
  edit(entry.versions['1.0.0']!);
  writeFileSync(entryFile(), JSON.stringify(entry, null, 2));
  runs++;
  const options = world.options(join(world.work, `cache-${runs}`), { index: { indexDir: world.index, cacheDir: join(world.work, `index-cache-${runs}`) } });
  return loadDriver(`pypi:${CSVCHAT}`, options).then(async (loaded) => {
    await loaded.close();
    return 'loaded';
  }, (error: unknown) => error);
}

const probe = (expression: string): string => execFileSync('python3', ['-I', '-S', '-c', `import platform, sys; print(${expression})`], { encoding: 'utf8' }).trim();

describe('the marker environment of the interpreter', () => {
  it('is what the interpreter itself reports', () => {
    const { markers } = findPython('python3');
    expect(markers.platform_machine).toBe(probe('platform.machine()'));
    expect(markers.platform_release).toBe(probe('platform.release()'));
    expect(markers.sys_platform).toBe(probe('sys.platform'));
    expect(markers.python_full_version).toBe(probe('platform.python_version()'));
    expect(markers.implementation_name).toBe(probe('sys.implementation.name'));
  });
});

describe('loading a Python driver', () => {
  // a dependency with only an sdist: needed, it refuses the load (an sdist is never built); skipped, nothing notices it
  const missing = (marker: string) => ({ name: 'mcs-driver-not-there', version: '1.0.0', marker, files: [{ filename: 'mcs_driver_not_there-1.0.0.tar.gz', integrity: `sha256-${Buffer.alloc(32, 7).toString('base64')}` }] });

  it('needs a dependency whose marker holds on this machine (platform_release, which an assumed environment leaves empty)', async () => {
    const release = findPython('python3').markers.platform_release;
    const outcome = await loadEdited((v) => v.lock.dependencies.push(missing(`platform_release == "${release}"`)));
    expect(outcome).toThrowWithCode('E_LOAD_REFUSED');
    expect((outcome as Error).message).toContain('mcs-driver-not-there');
  }, 120_000);

  it('skips a dependency whose marker does not hold on this machine', async () => {
    const { platform_machine: machine } = findPython('python3').markers;
    expect(await loadEdited((v) => v.lock.dependencies.push(missing(`platform_machine != "${machine}"`)))).toBe('loaded');
  }, 120_000);

  it('refuses a wheel whose Requires-Python the interpreter does not meet, naming both', async () => {
    const python = findPython('python3').markers.python_full_version;
    const outcome = await loadEdited((v) => {
      for (const file of v.files) file.requiresPython = '>=3.99';
    });
    expect(outcome).toThrowWithCode('E_PYTHON_VERSION');
    expect((outcome as Error).message).toContain('>=3.99');
    expect((outcome as Error).message).toContain(`Python ${python}`);
  }, 120_000);
});
