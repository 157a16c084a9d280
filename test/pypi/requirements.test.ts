/** `pins --format requirements`: pip is offered the wheel mcs-pkg checked and the loader runs, never platform wheels or sdists. */
import { describe, expect, it } from 'vitest';
import type { DistributionFile, IndexEntry } from '../../src/manifest/types.js';
import { requirementsFile } from '../../src/pypi/requirements.js';
import '../helpers/matchers.js';

const pin = (filename: string, byte: number): DistributionFile => ({ filename, kind: filename.endsWith('.whl') ? 'wheel' : 'sdist', integrity: `sha256-${Buffer.alloc(32, byte).toString('base64')}` });
const hex = (byte: number) => Buffer.alloc(32, byte).toString('hex');

function entry(files: DistributionFile[], dependencyFiles: DistributionFile[]): IndexEntry {
  return {
    name: 'mcs-driver-x',
    ecosystem: 'pypi',
    class: 'driver',
    description: 'x',
    label: { value: 'community', by: 'a', at: '2026-01-01T00:00:00Z', reason: 'r' },
    versions: { '1.0': { provenance: false, files, lock: { python: '>=3.11', dependencies: [{ name: 'dep', version: '2.0', files: dependencyFiles }] } } },
  } as IndexEntry;
}

describe('requirementsFile', () => {
  it('prints the first pure-Python wheel of the driver and of each dependency, and no platform wheel, sdist or further wheel', () => {
    const text = requirementsFile(
      entry(
        [pin('mcs_driver_x-1.0-cp311-cp311-manylinux_2_17_x86_64.whl', 1), pin('mcs_driver_x-1.0.tar.gz', 2), pin('mcs_driver_x-1.0-py3-none-any.whl', 3), pin('mcs_driver_x-1.0-py2.py3-none-any.whl', 4)],
        [pin('dep-2.0-py2.py3-none-any.whl', 5), pin('dep-2.0-py3-none-any.whl', 6)],
      ),
      '1.0',
    );
    expect(text).toContain(`mcs-driver-x==1.0 \\\n    --hash=sha256:${hex(3)}\n`);
    expect(text).toContain(`dep==2.0 \\\n    --hash=sha256:${hex(5)}\n`);
    for (const unchecked of [1, 2, 4, 6]) expect(text).not.toContain(hex(unchecked));
  });

  it('refuses a version that pins only platform wheels: E_LOCK_NO_WHEEL', () => {
    expect(() => requirementsFile(entry([pin('mcs_driver_x-1.0-cp311-cp311-win_amd64.whl', 1)], []), '1.0')).toThrowWithCode('E_LOCK_NO_WHEEL');
  });
});
