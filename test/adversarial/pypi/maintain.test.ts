/**
 * index add pypi: against a loopback PyPI that serves hostile or broken
 * distributions: each is refused with its code and nothing is written.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFromRegistry } from '../../../src/maintain/add.js';
import { startFixturePypi, type FixturePypi } from '../../helpers/fixture-pypi.js';
import { removeDir, tempDir } from '../../helpers/index-data.js';
import '../../helpers/matchers.js';
import { buildWheel, wheelFilename, type WheelHostility } from '../../helpers/wheels.js';

let pypi: FixturePypi;
let work: string;

const mcs = {
  drivers: [{ kind: 'tool-driver', export: 'pkg:Driver', meta: { id: 'a3e9c1d2-0000-4000-8000-000000000001', name: 'Hostile Driver', version: '1.0.0', bindings: [{ capability: 'x', adapter: '*', spec_format: 'Custom' }], target_llms: null, capabilities: [] }, tools: [{ name: 't', description: 'A tool.' }] }],
};

/** Publishes a driver NAME 1.0.0 requiring DEP, and DEP 1.0.0 built with `hostile`; returns the refusal of adding the driver. */
async function refusal(name: string, options: { driverMcs?: unknown; dependency?: WheelHostility; misbehave?: 'wrong-digest' }): Promise<{ error: unknown; indexDir: string }> {
  const dep = `${name}-dep`;
  await pypi.publish({ name, files: [{ filename: wheelFilename(name, '1.0.0'), bytes: buildWheel({ name, version: '1.0.0', requiresDist: [dep], requiresPython: '>=3.11', ...(options.driverMcs === undefined ? {} : { mcs: options.driverMcs }) }) }] });
  await pypi.publish({ name: dep, files: [{ filename: wheelFilename(dep, '1.0.0'), bytes: buildWheel({ name: dep, version: '1.0.0', ...(options.dependency ? { hostile: options.dependency } : {}) }) }] });
  if (options.misbehave) await pypi.misbehave({ kind: options.misbehave, filename: wheelFilename(dep, '1.0.0') });
  const indexDir = join(work, name);
  const error = await addFromRegistry(indexDir, `pypi:${name}`, { by: 'alice', why: 'review' }, { pypi: { indexUrl: pypi.indexUrl } }).catch((e: unknown) => e);
  pypi.clearMisbehavior();
  return { error, indexDir };
}

const codes = (error: unknown) => (error as { details: { failures: Array<{ codes: string[] }> } }).details.failures.flatMap((f) => f.codes);

beforeAll(async () => {
  pypi = await startFixturePypi();
  work = tempDir('mcs-pypi-hostile-');
  mkdirSync(work, { recursive: true });
});

afterAll(async () => {
  await pypi?.close();
  if (work) removeDir(work);
});

describe('index add pypi: refuses what it cannot trust, writing nothing', () => {
  it('a dependency wheel whose METADATA names another project', async () => {
    const { error, indexDir } = await refusal('mcs-driver-liar', { driverMcs: mcs, dependency: { metadataName: 'requests' } });
    expect(error).toThrowWithCode('E_ADD_REFUSED');
    expect(codes(error).some((code) => code.startsWith('E_WHEEL_') || code === 'E_DIST_NAME')).toBe(true);
    expect(existsSync(indexDir)).toBe(false);
  });

  it('a dependency wheel whose RECORD does not match its bytes', async () => {
    const { error } = await refusal('mcs-driver-record', { driverMcs: mcs, dependency: { recordMismatch: 'mcs_driver_record_dep-1.0.0.dist-info/METADATA' } });
    expect(error).toThrowWithCode('E_ADD_REFUSED');
    expect(codes(error)).toEqual(['E_WHEEL_RECORD']);
  });

  it('a dependency wheel whose bytes are not the digest the index page states', async () => {
    const { error } = await refusal('mcs-driver-digest', { driverMcs: mcs, misbehave: 'wrong-digest' });
    expect(error).toThrowWithCode('E_ADD_REFUSED');
    expect(codes(error)).toEqual(['E_INTEGRITY_MISMATCH']);
  });

  it('a driver wheel without static MCS metadata (.dist-info/mcs.json)', async () => {
    const { error } = await refusal('mcs-driver-silent', {});
    expect(error).toThrowWithCode('E_ADD_REFUSED');
    expect(codes(error)).toEqual(['E_MCS_METADATA']);
  });

  it('a driver whose declared export is not a Python entry point (module:Class)', async () => {
    const { error } = await refusal('mcs-driver-export', { driverMcs: { drivers: [{ ...mcs.drivers[0], export: 'Driver', meta: { ...mcs.drivers[0]!.meta, id: 'a3e9c1d2-0000-4000-8000-000000000002' } }] } });
    expect(error).toThrowWithCode('E_ADD_REFUSED');
    expect(codes(error)).toEqual(['E_SCHEMA']);
  });
});
