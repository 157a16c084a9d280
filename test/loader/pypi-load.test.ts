/**
 * A PyPI driver end to end: its wheels (built at test time from
 * test/fixtures/python, the driver's attested by the mock Sigstore) served by
 * a loopback PyPI, added to an index with its dependency lock
 * (index add pypi:), then loaded: every wheel fetched and checked against its
 * pin and attestation, unpacked read-only into the cache, run in the Python
 * host; a warm load re-hashes the cache and fetches nothing.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MCSDriver } from '../../src/contract/index.js';
import { loadDriver, type LoadOptions } from '../../src/loader/load.js';
import { addFromRegistry } from '../../src/maintain/add.js';
import { startFixturePypi, type FixturePypi } from '../helpers/fixture-pypi.js';
import { removeDir, tempDir } from '../helpers/index-data.js';
import '../helpers/matchers.js';
import { startMockSigstore, type MockSigstore } from '../helpers/mock-sigstore.js';
import { PYTHON_DECLARED, fixtureFiles, fixtureMcs } from '../helpers/python-drivers.js';
import { buildWheel, wheelFilename } from '../helpers/wheels.js';
import { runCli } from '../helpers/cli.js';
import { findPython } from '../../src/host/python.js';

const DRIVER = 'mcs-driver-csvchat';
const publisher = { repository: 'acme/mcs-driver-csvchat', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v1.0.0' };

let sigstore: MockSigstore;
let pypi: FixturePypi;
let work: string;
let index: string;
let data: string;
let rootFile: string;

function wheel(name: string, dist: Parameters<typeof fixtureFiles>[0], requiresDist: string[], mcs?: unknown) {
  return { filename: wheelFilename(name, '1.0.0'), bytes: buildWheel({ name, version: '1.0.0', files: fixtureFiles(dist), requiresDist, requiresPython: '>=3.11', summary: `${name} for the tests`, ...(mcs ? { mcs } : {}) }), requiresPython: '>=3.11' };
}

const options = (cache: string, extra: LoadOptions = {}): LoadOptions => ({
  index: { indexDir: index, cacheDir: join(work, 'index-cache') },
  cacheDir: cache,
  pypi: { indexUrl: pypi.indexUrl },
  trustedRoot: rootFile,
  // a freshly added package is Community until a maintainer labels it; this client accepts Community drivers that carry provenance
  policy: { labels: ['verified', 'reference', 'community'], requireProvenance: { pypi: true } },
  grants: { read: [data] },
  config: { baseDir: data },
  ...extra,
});

beforeAll(async () => {
  sigstore = await startMockSigstore();
  work = tempDir('mcs-pypi-load-');
  rootFile = join(work, 'trusted_root.json');
  writeFileSync(rootFile, JSON.stringify(sigstore.trustedRoot));
  index = join(work, 'index');
  data = join(work, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'sales.csv'), 'city,units\nParis,4\nLyon,6\nNantes,9\n');
  pypi = await startFixturePypi({
    sigstore,
    projects: [
      { name: DRIVER, files: [{ ...wheel(DRIVER, 'mcs-driver-csvchat', ['mcs-driver-csv>=1'], fixtureMcs('csvchat')), publisher }] },
      { name: 'mcs-driver-csv', files: [wheel('mcs-driver-csv', 'mcs-driver-csv', ['mcs-driver-core>=1'])] },
      { name: 'mcs-driver-core', files: [wheel('mcs-driver-core', 'mcs-driver-core', [])] },
    ],
  });
  const added = await addFromRegistry(index, `pypi:${DRIVER}`, { by: 'alice', why: 'the CSV chat driver, review 3' }, { pypi: { indexUrl: pypi.indexUrl }, trustedRoot: rootFile });
  expect(added.entry.versions['1.0.0']!.lock!.dependencies.map((d) => d.name)).toEqual(['mcs-driver-core', 'mcs-driver-csv']);
  // the fixture's security tag, as a maintainer would set it for a driver that reads CSV files
  const file = join(index, 'pypi', `${DRIVER}.json`);
  const entry = JSON.parse((await import('node:fs')).readFileSync(file, 'utf8'));
  entry.security = { permissions: ['filesystem:read'] };
  writeFileSync(file, JSON.stringify(entry, null, 2));
}, 120_000);

afterAll(async () => {
  await pypi?.close();
  await sigstore?.close();
  if (work) {
    // the cache is read-only by design
    const open = (dir: string) => {
      if (!existsSync(dir)) return;
      chmodSync(dir, 0o755);
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) open(join(dir, e.name));
    };
    open(work);
    removeDir(work);
  }
});

describe('index add pypi: -> loadDriver pypi: -> the Python host', () => {
  it('fetches and verifies every wheel of the lock, unpacks them read-only, and runs the driver confined', async () => {
    const cache = join(work, 'cache-a');
    const loaded = await loadDriver(`pypi:${DRIVER}`, options(cache));
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
    const before = pypi.requests.length;
    const warm = await loadDriver(`pypi:${DRIVER}`, options(cache));
    try {
      expect(warm.receipt.warm).toBe(true);
      expect(pypi.requests.length).toBe(before);
      expect(await (warm.driver as MCSDriver).get_driver_system_message()).toMatch(/CSV/);
    } finally {
      await warm.close();
    }
  });

  it('a changed file in the cache is E_CACHE_TAMPERED before any code runs', async () => {
    const cache = join(work, 'cache-b');
    const loaded = await loadDriver(`pypi:${DRIVER}`, options(cache));
    const site = loaded.receipt.python!.wheels.find((w) => w.name === 'mcs-driver-csv')!.path;
    await loaded.close();
    const target = join(site, 'mcs', 'driver', 'csv', 'tooldriver.py');
    chmodSync(join(site, 'mcs', 'driver', 'csv'), 0o755);
    chmodSync(target, 0o644);
    writeFileSync(target, 'raise SystemExit("planted")\n');
    await expect(loadDriver(`pypi:${DRIVER}`, options(cache))).toThrowWithCode('E_CACHE_TAMPERED');
  });

  it('a dependency wheel served with one bit flipped is refused before anything is unpacked', async () => {
    const cache = join(work, 'cache-c');
    await pypi.misbehave({ kind: 'flip-bit', filename: wheelFilename('mcs-driver-csv', '1.0.0') });
    try {
      await expect(loadDriver(`pypi:${DRIVER}`, options(cache))).toThrowWithCode('E_INTEGRITY_MISMATCH');
    } finally {
      pypi.clearMisbehavior();
    }
    const unpacked = existsSync(join(cache, 'pypi')) ? readdirSync(join(cache, 'pypi')) : [];
    expect(unpacked.length).toBeLessThan(3);
  });

  it('the driver wheel with its attestation stripped is refused: the index expects one', async () => {
    const cache = join(work, 'cache-d');
    await pypi.misbehave({ kind: 'strip-provenance', filename: wheelFilename(DRIVER, '1.0.0') });
    try {
      await expect(loadDriver(`pypi:${DRIVER}`, options(cache))).toThrowWithCode('E_LOAD_REFUSED');
    } finally {
      pypi.clearMisbehavior();
    }
  });

  it('mcs-pkg load pypi:NAME runs it through the Python host and lists each wheel in the receipt', async () => {
    const run = await runCli(['load', `pypi:${DRIVER}`, '--json', '--index', index, '--cache-dir', join(work, 'cli-cache'), '--index-url', pypi.indexUrl, '--trusted-root', rootFile, '--allow-community', '--python', findPython().executable, '--grant-read', data, '--config', JSON.stringify({ baseDir: data })], { HOME: work }, 60_000);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.receipt.python.wheels.map((w: { name: string }) => w.name)).toEqual([DRIVER, 'mcs-driver-core', 'mcs-driver-csv']);
    expect(out.receipt.host.layers.map((l: { layer: string }) => l.layer)).toContain('bubblewrap');
    const text = await runCli(['load', `pypi:${DRIVER}`, '--index', index, '--cache-dir', join(work, 'cli-cache'), '--index-url', pypi.indexUrl, '--trusted-root', rootFile, '--allow-community', '--python', findPython().executable, '--grant-read', data, '--config', JSON.stringify({ baseDir: data })], { HOME: work, NO_COLOR: '1' }, 60_000);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/wheel mcs-driver-csv 1\.0\.0: mcs_driver_csv-1\.0\.0-py3-none-any\.whl sha256 [0-9a-f]{16}\.\.\. re-hashed in the cache/);
  });

  it('isolation none is refused for a Python driver', async () => {
    await expect(loadDriver(`pypi:${DRIVER}`, options(join(work, 'cache-e'), { isolation: 'none' }))).toThrowWithCode('E_DRIVER_ECOSYSTEM');
  });
});
