/**
 * A PyPI driver end to end: its wheels (built at test time from
 * test/fixtures/python, the driver's attested by the mock Sigstore) served by
 * a loopback PyPI, added to an index with its dependency lock
 * (index add pypi:), then loaded: every wheel fetched and checked against its
 * pin and attestation, unpacked read-only into the cache, run in the Python
 * host; a warm load re-hashes the cache and fetches nothing.
 */
import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MCSDriver } from '../../src/contract/index.js';
import { findPython } from '../../src/host/python.js';
import { loadDriver } from '../../src/loader/load.js';
import { runCli } from '../helpers/cli.js';
import '../helpers/matchers.js';
import { CSVCHAT as DRIVER, PYTHON_DECLARED, startPythonWorld, type PythonWorld } from '../helpers/python-drivers.js';
import { wheelFilename } from '../helpers/wheels.js';

let world: PythonWorld;

beforeAll(async () => {
  world = await startPythonWorld('mcs-pypi-load-');
}, 120_000);

afterAll(async () => {
  await world?.close();
});

describe('index add pypi: -> loadDriver pypi: -> the Python host', () => {
  it('the lock names the two dependencies', async () => {
    const { readFileSync } = await import('node:fs');
    const entry = JSON.parse(readFileSync(join(world.index, 'pypi', `${DRIVER}.json`), 'utf8'));
    expect(entry.versions['1.0.0'].lock.dependencies.map((d: { name: string }) => d.name)).toEqual(['mcs-driver-core', 'mcs-driver-csv']);
  });

  it('fetches and verifies every wheel of the lock, unpacks them read-only, and runs the driver confined', async () => {
    const cache = join(world.work, 'cache-a');
    const loaded = await loadDriver(`pypi:${DRIVER}`, world.options(cache));
    try {
      const driver = loaded.driver as MCSDriver;
      expect(driver.meta).toEqual(PYTHON_DECLARED.csvchat.meta);
      const response = await driver.process_llm_response('{"tool": "summarize_numeric_column", "arguments": {"path": "sales.csv", "column": "units"}}');
      expect(response).toMatchObject({ call_executed: true, call_failed: false, tool_call_result: { count: 3, min: 4, max: 9 } });
      const python = loaded.receipt.python!;
      expect(python.wheels.map((w) => [w.name, w.warm])).toEqual([[DRIVER, false], ['mcs-driver-core', false], ['mcs-driver-csv', false]]);
      expect(python.wheels[0]!.attested).toBe(true);
      expect(loaded.receipt.warm).toBe(false);
      if (loaded.receipt.host.isolation !== 'process') throw new Error('expected a host');
      expect(loaded.receipt.host.layers.find((l) => l.layer === 'bubblewrap')!.detail).toMatch(/3 verified folder/);
      // read-only on disk (no write bit on the folders), and mounted read-only in the sandbox
      for (const wheelDir of python.wheels.map((w) => w.path)) expect(statSync(wheelDir).mode & 0o222).toBe(0);
    } finally {
      await loaded.close();
    }
    // warm: nothing fetched, every cached file re-hashed
    const before = world.pypi.requests.length;
    const warm = await loadDriver(`pypi:${DRIVER}`, world.options(cache));
    try {
      expect(warm.receipt.warm).toBe(true);
      expect(world.pypi.requests.length).toBe(before);
      expect(await (warm.driver as MCSDriver).get_driver_system_message()).toMatch(/CSV/);
    } finally {
      await warm.close();
    }
  });

  it('a query that names no ecosystem finds the PyPI driver, by name and by capability', async () => {
    const cache = join(world.work, 'cache-bare');
    const byName = await loadDriver(DRIVER, world.options(cache));
    try {
      expect(byName.receipt.python!.wheels[0]!.name).toBe(DRIVER);
      expect((byName.driver as MCSDriver).meta).toEqual(PYTHON_DECLARED.csvchat.meta);
    } finally {
      await byName.close();
    }
    const capability = PYTHON_DECLARED.csvchat.meta.bindings[0]!.capability;
    const byCapability = await loadDriver(capability, world.options(cache));
    try {
      expect(byCapability.receipt.python).toBeDefined();
      expect(byCapability.receipt.host.isolation).toBe('process');
    } finally {
      await byCapability.close();
    }
  });

  it('a changed file in the cache is E_CACHE_TAMPERED before any code runs', async () => {
    const cache = join(world.work, 'cache-b');
    const loaded = await loadDriver(`pypi:${DRIVER}`, world.options(cache));
    const site = loaded.receipt.python!.wheels.find((w) => w.name === 'mcs-driver-csv')!.path;
    await loaded.close();
    const target = join(site, 'mcs', 'driver', 'csv', 'tooldriver.py');
    chmodSync(join(site, 'mcs', 'driver', 'csv'), 0o755);
    chmodSync(target, 0o644);
    writeFileSync(target, 'raise SystemExit("planted")\n');
    await expect(loadDriver(`pypi:${DRIVER}`, world.options(cache))).toThrowWithCode('E_CACHE_TAMPERED');
  });

  it('a dependency wheel served with one bit flipped is refused before anything is unpacked', async () => {
    const cache = join(world.work, 'cache-c');
    await world.pypi.misbehave({ kind: 'flip-bit', filename: wheelFilename('mcs-driver-csv', '1.0.0') });
    try {
      await expect(loadDriver(`pypi:${DRIVER}`, world.options(cache))).toThrowWithCode('E_INTEGRITY_MISMATCH');
    } finally {
      world.pypi.clearMisbehavior();
    }
    const unpacked = existsSync(join(cache, 'wheels')) ? readdirSync(join(cache, 'wheels')) : [];
    expect(unpacked.length).toBeLessThan(3);
  });

  it('the driver wheel with its attestation stripped is refused: the index expects one', async () => {
    await world.pypi.misbehave({ kind: 'strip-provenance', filename: wheelFilename(DRIVER, '1.0.0') });
    try {
      await expect(loadDriver(`pypi:${DRIVER}`, world.options(join(world.work, 'cache-d')))).toThrowWithCode('E_LOAD_REFUSED');
    } finally {
      world.pypi.clearMisbehavior();
    }
  });

  it('mcs-pkg load pypi:NAME runs it through the Python host and lists each wheel in the receipt', async () => {
    const args = ['load', `pypi:${DRIVER}`, '--index', world.index, '--cache-dir', join(world.work, 'cli-cache'), '--index-url', world.pypi.indexUrl, '--trusted-root', world.rootFile, '--allow-community', '--python', findPython().executable, '--grant-read', world.data, '--config', JSON.stringify({ baseDir: world.data })];
    const run = await runCli([...args, '--json'], { HOME: world.work }, 60_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.receipt.python.wheels.map((w: { name: string }) => w.name)).toEqual([DRIVER, 'mcs-driver-core', 'mcs-driver-csv']);
    expect(out.receipt.host.layers.map((l: { layer: string }) => l.layer)).toContain('bubblewrap');
    const text = await runCli(args, { HOME: world.work, NO_COLOR: '1' }, 60_000);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/wheel mcs-driver-csv 1\.0\.0: mcs_driver_csv-1\.0\.0-py3-none-any\.whl sha256 [0-9a-f]{16}\.\.\. re-hashed in the cache/);
  });

  it('isolation none is refused for a Python driver', async () => {
    await expect(loadDriver(`pypi:${DRIVER}`, world.options(join(world.work, 'cache-e'), { isolation: 'none' }))).toThrowWithCode('E_DRIVER_ECOSYSTEM');
  });
});
