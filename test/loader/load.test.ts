/**
 * The gated loader end to end. Drivers are packed from test/fixtures, signed
 * by the mock Sigstore, served by the loopback registry and pinned in a
 * fixture index; the loader runs in child Node processes (under vitest,
 * import() would go through vitest's module runner, not Node's loader). A
 * fixture driver appends to $MCS_TEST_MARKER when its module runs, which
 * proves whether any driver code ran. Tests of the import gate and of
 * driver code reaching the marker load with --isolation none (in process);
 * the driver host has its own tests (test/host, test/adversarial/host).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDriver } from '../../src/loader/load.js';
import { contractDeclarations } from '../../src/manifest/driver-meta.js';
import { fixtureMcs, packFixtureDriver } from '../helpers/driver-packages.js';
import { startFixtureRegistry, type FixtureRegistry } from '../helpers/fixture-registry.js';
import { removeReadOnlyDir, tempDir, writeEntry } from '../helpers/index-data.js';
import { createRegistryKey, keysResponse, startMockSigstore, type MockSigstore, type RegistryKey } from '../helpers/mock-sigstore.js';
import { publishSigned } from '../helpers/publish.js';
import { makeTarball } from '../helpers/tarball.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
const LOAD = fileURLToPath(new URL('../../dist/src/loader/load.js', import.meta.url));

let registry: FixtureRegistry;
let sigstore: MockSigstore;
let key: RegistryKey;
let work: string;
let indexDir: string;
let rootFile: string;
let marker: string;
let dataDir: string;

/** Packs a fixture driver, then signs, serves and pins it; `served` replaces the bytes the registry serves (not the pin). */
async function publishDriver(fixture: string, name: string, version: string, options: { label?: 'verified' | 'reference' | 'community'; yanked?: string; served?: Buffer; freshId?: boolean; manifest?: Record<string, unknown> } = {}): Promise<void> {
  const mcs = fixtureMcs(fixture, version);
  // a fixture reused under another name gets its own driver id: the index refuses two packages declaring one id
  if (options.freshId) for (const driver of mcs.drivers) (driver.meta as { id: string }).id = randomUUID();
  await publishSigned(
    { registry, sigstore, key, indexDir, repository: 'acme/drivers' },
    { name, version, tarball: packFixtureDriver(fixture, { name, version, ...options.manifest }), drivers: contractDeclarations(mcs.drivers as never, name), ...(options.label ? { label: options.label } : {}), ...(options.yanked ? { yanked: options.yanked } : {}), ...(options.served ? { served: options.served } : {}) },
  );
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { env: { PATH: process.env.PATH ?? '', HOME: work, NO_PROXY: '127.0.0.1', MCS_TEST_MARKER: marker, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function load(query: string, extra: string[] = [], cache = join(work, 'cache')): Promise<Run> {
  return run(BIN, ['load', query, '--json', '--index', indexDir, '--cache-dir', cache, '--registry', registry.url, '--trusted-root', rootFile, ...extra]);
}

function errorOf(result: Run): { code: string; message: string; details: Record<string, unknown> } {
  return JSON.parse(result.stdout).error;
}

function markerLines(): string[] {
  return existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean) : [];
}

beforeAll(async () => {
  [registry, sigstore] = await Promise.all([startFixtureRegistry(), startMockSigstore()]);
  key = createRegistryKey();
  registry.setKeys(keysResponse([{ key }]));
  work = tempDir('mcs-load-');
  indexDir = join(work, 'index');
  rootFile = join(work, 'trusted_root.json');
  marker = join(work, 'marker.txt');
  dataDir = join(work, 'data');
  writeFileSync(rootFile, JSON.stringify(sigstore.trustedRoot));
  writeEntry(dataDir, 'city,units\nParis,4\nLyon,6\n', 'sales.csv');
  await publishDriver('csv', 'mcs-driver-csv', '1.0.0');
  await publishDriver('hostile/marker-on-import', 'mcs-driver-marker', '1.0.0');
  await publishDriver('hostile/commonjs', 'mcs-driver-commonjs', '1.0.0');
  await publishDriver('hostile/throws-on-import', 'mcs-driver-throws', '1.0.0');
  await publishDriver('hostile/wrong-export', 'mcs-driver-wrongexport', '1.0.0');
  await publishDriver('hostile/meta-mismatch', 'mcs-driver-metamismatch', '1.0.0');
  await publishDriver('hostile/capability-without-method', 'mcs-driver-capability', '1.0.0');
  await publishDriver('hostile/unbundled-dependency', 'mcs-driver-unbundled', '1.0.0');
  await publishDriver('hostile/entry-outside', 'mcs-driver-entryoutside', '1.0.0');
  await publishDriver('hostile/walks-up', 'mcs-driver-walksup', '1.0.0');
  await publishDriver('hostile/meta-tojson', 'mcs-driver-metatojson', '1.0.0');
  await publishDriver('hostile/runtime-flag', 'mcs-driver-runtimeflag', '1.0.0');
  await publishDriver('sdk-meta', 'mcs-driver-sdkmeta', '1.0.0');
  await publishDriver('notes', 'mcs-driver-notes-toolonly', '1.0.0', { label: 'community' });
  await publishDriver('csv', 'mcs-driver-tsv', '1.0.0', { yanked: 'reads outside its folder', freshId: true });
  const good = packFixtureDriver('hostile/marker-on-import', { name: 'mcs-driver-swapped', version: '1.0.0' });
  await publishDriver('hostile/marker-on-import', 'mcs-driver-swapped', '1.0.0', { freshId: true, served: Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([good[good.length - 1]! ^ 1])]) });
  await publishDriver('csv', 'mcs-driver-csv-strict', '1.0.0', {
    freshId: true,
    manifest: { mcs: { ...fixtureMcs('csv', '1.0.0'), configSchema: { type: 'object', required: ['baseDir'], properties: { baseDir: { type: 'string', minLength: 1 } }, additionalProperties: false } } },
  });
  await publishDriver('hostile/marker-on-import', 'mcs-driver-marker-strict', '1.0.0', {
    freshId: true,
    manifest: { mcs: { ...fixtureMcs('hostile/marker-on-import', '1.0.0'), configSchema: { type: 'object', required: ['baseDir'] } } },
  });
  const linked = makeTarball([{ path: 'package/package.json', content: JSON.stringify({ name: 'mcs-driver-linked', version: '1.0.0', type: 'module' }) }, { path: 'package/index.js', type: '2', linkname: '/etc/passwd' }]);
  await publishDriver('hostile/marker-on-import', 'mcs-driver-linked', '1.0.0', { freshId: true, served: linked });
});

afterAll(async () => {
  await Promise.all([registry?.close(), sigstore?.close()]);
  if (work) removeReadOnlyDir(work);
});

describe('loading a driver', () => {
  it('loads by capability: verified, unpacked, imported, constructed with the config', async () => {
    const result = await load('csv', ['--config', JSON.stringify({ baseDir: dataDir })]);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.receipt).toMatchObject({ package: 'mcs-driver-csv', version: '1.0.0', warm: false, verdict: { status: 'verified' } });
    expect(out.meta.id).toBe('6f1c2b9e-4d3a-4e8b-9c71-0a5d2e7f3b14');
    expect(out.functionDescription).toContain('list_csv_files');
    expect(existsSync(join(work, 'cache', 'loader', 'drivers', out.receipt.integrity ? readdirSync(join(work, 'cache', 'loader', 'drivers'))[0]! : ''))).toBe(true);
  });

  it('shows the function description and the system message with their line breaks, as a model gets them', async () => {
    const result = await run(BIN, ['load', 'csv', '--index', indexDir, '--cache-dir', join(work, 'cache'), '--registry', registry.url, '--trusted-root', rootFile, '--config', JSON.stringify({ baseDir: dataDir })]);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toMatch(/\nfunction description\n\[\n {2}\{\n {4}"name": "list_csv_files",\n {4}"title": "List CSV files",\n/);
    expect(result.stdout).toMatch(/\nsystem message\nYou can read the CSV files [^\n]*The tools:\n\[\n {2}\{\n/);
  });

  it('loads warm with the registry gone, and offline, from the cache alone', async () => {
    await load('mcs-driver-csv', ['--config', JSON.stringify({ baseDir: dataDir })]);
    const before = registry.requests.length;
    const warm = await run(BIN, ['load', 'mcs-driver-csv', '--json', '--index', indexDir, '--cache-dir', join(work, 'cache'), '--registry', 'http://127.0.0.1:9/', '--trusted-root', rootFile, '--config', JSON.stringify({ baseDir: dataDir })]);
    expect(warm.code, warm.stdout).toBe(0);
    expect(JSON.parse(warm.stdout).receipt).toMatchObject({ warm: true, verdict: null });
    const offline = await load('mcs-driver-csv', ['--offline', '--config', JSON.stringify({ baseDir: dataDir })]);
    expect(offline.code).toBe(0);
    expect(registry.requests.length).toBe(before);
    expect(errorOf(await load('mcs-driver-csv', ['--offline'], join(work, 'empty-cache'))).code).toBe('E_OFFLINE_NOT_CACHED');
  });

  it('shares one fetch, one verification and one import among ten concurrent loads', async () => {
    const script = join(work, 'concurrent.mjs');
    writeFileSync(script, `const { loadDriver } = await import(${JSON.stringify(LOAD)});
const options = { isolation: 'none', index: { indexDir: ${JSON.stringify(indexDir)}, cacheDir: ${JSON.stringify(join(work, 'c10'))} }, cacheDir: ${JSON.stringify(join(work, 'c10', 'loader'))}, registry: { registry: ${JSON.stringify(registry.url)} }, trustedRoot: ${JSON.stringify(rootFile)} };
const loads = await Promise.all(Array.from({ length: 10 }, () => loadDriver('mcs-driver-marker', options)));
console.log(JSON.stringify(loads.map((l) => l.receipt.warm)));
`);
    const tarballPath = '/mcs-driver-marker/-/mcs-driver-marker-1.0.0.tgz';
    const before = registry.requests.filter((r) => r.path === tarballPath).length;
    writeFileSync(marker, '');
    const result = await run(script, []);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toHaveLength(10);
    expect(registry.requests.filter((r) => r.path === tarballPath).length - before).toBe(1);
    expect(markerLines()).toHaveLength(1);
  });
});

describe('refusals: a coded error, and no driver code runs', () => {
  it.each([
    ['mcs-driver-commonjs', 'E_DRIVER_COMMONJS'],
    ['mcs-driver-entryoutside', 'E_DRIVER_ENTRY'],
    ['mcs-driver-unbundled', 'E_DRIVER_DEPENDENCY'],
    ['mcs-driver-swapped', 'E_LOAD_REFUSED'],
    ['mcs-driver-linked', 'E_LOAD_REFUSED'],
    ['mcs-driver-tsv', 'E_DRIVER_NOT_FOUND'],
    ['mcs-driver-notes-toolonly', 'E_DRIVER_NOT_FOUND'],
  ])('%s: %s', async (name, code) => {
    writeFileSync(marker, '');
    const result = await load(name, [], join(work, `cache-${name}`));
    expect(result.code).toBe(code === 'E_DRIVER_NOT_FOUND' ? 2 : 1);
    expect(errorOf(result).code).toBe(code);
    expect(markerLines()).toEqual([]);
  });

  it('says why a candidate was turned down (Community without --allow-community; yanked)', async () => {
    expect((errorOf(await load('mcs-driver-notes-toolonly')).details.rejected as Array<{ code: string }>)[0]!.code).toBe('E_POLICY_LABEL');
    expect((errorOf(await load('mcs-driver-tsv')).details.rejected as Array<{ code: string }>)[0]!.code).toBe('E_POLICY_YANKED');
    const allowed = await load('mcs-driver-notes-toolonly', ['--allow-community']);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout).tools.map((t: { name: string }) => t.name)).toEqual(['add_note', 'list_notes']);
  });

  it.each([
    ['mcs-driver-throws', 'E_DRIVER_IMPORT'],
    ['mcs-driver-wrongexport', 'E_DRIVER_SHAPE'],
    ['mcs-driver-metamismatch', 'E_DRIVER_META'],
    ['mcs-driver-metatojson', 'E_DRIVER_META'],
    ['mcs-driver-runtimeflag', 'E_DRIVER_META'],
    ['mcs-driver-capability', 'E_DRIVER_CAPABILITY'],
  ])('%s: %s after import, with the cause kept', async (name, code) => {
    const result = await load(name, [], join(work, `cache-${name}`));
    expect(result.code).toBe(1);
    expect(errorOf(result).code).toBe(code);
  });

  it('loads a driver whose meta says supported_llms and carries the native_tools flag its runtime adds', async () => {
    const result = await load('mcs-driver-sdkmeta', [], join(work, 'cache-sdkmeta'));
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(JSON.parse(result.stdout).meta).toMatchObject({ id: '5d1c7e2a-3b4f-4a6d-8e9c-0f1a2b3c4d5e', supported_llms: ['*'], capabilities: ['standalone', 'native_tools'] });
  });

  it('refuses a configuration that breaks the schema the driver declares, before importing it', async () => {
    const result = await load('mcs-driver-csv-strict', ['--config', JSON.stringify({ baseDir: 7, extra: true })]);
    expect(result.code).toBe(2);
    expect(errorOf(result).code).toBe('E_DRIVER_CONFIG');
    writeFileSync(marker, '');
    const marked = await load('mcs-driver-marker-strict', [], join(work, 'cache-marker-strict'));
    expect(errorOf(marked).code).toBe('E_DRIVER_CONFIG');
    expect(markerLines()).toEqual([]);
  });

  it('stops when the caller aborts', async () => {
    await expect(loadDriver('csv', { signal: AbortSignal.abort(), index: { indexDir, cacheDir: join(work, 'abort-cache') } })).rejects.toThrowWithCode('E_ABORTED');
  });

  it('refuses a quarantined driver even from a warm cache, with the reason from the index', async () => {
    const cache = join(work, 'cache-quarantine');
    expect((await load('mcs-driver-marker', [], cache)).code).toBe(0);
    const file = join(indexDir, 'npm', 'mcs-driver-marker.json');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(original), quarantine: { reason: 'sends files to an unknown host', by: 'security team' } }, null, 2));
    try {
      writeFileSync(marker, '');
      const result = await load('mcs-driver-marker', ['--offline'], cache);
      expect(result.code).toBe(2);
      const error = errorOf(result);
      expect(error.code).toBe('E_DRIVER_NOT_FOUND');
      expect(error.details.rejected).toEqual([expect.objectContaining({ code: 'E_POLICY_QUARANTINED', reason: expect.stringContaining('sends files to an unknown host') })]);
      expect(markerLines()).toEqual([]);
    } finally {
      writeFileSync(file, original);
    }
  });

  it('refuses a bare import that would resolve from a node_modules folder above the cache; the planted code never runs', async () => {
    const cache = join(work, 'cache-walk');
    const planted = join(cache, 'loader', 'drivers', 'node_modules', 'pretty-fmt');
    mkdirSync(planted, { recursive: true });
    writeFileSync(join(planted, 'package.json'), JSON.stringify({ name: 'pretty-fmt', version: '1.0.0', type: 'module', main: 'index.js' }));
    writeFileSync(join(planted, 'index.js'), "import { appendFileSync } from 'node:fs'; appendFileSync(process.env.MCS_TEST_MARKER, 'planted code ran\\n');\n");
    writeFileSync(marker, '');
    const result = await run(BIN, ['load', 'mcs-driver-walksup', '--json', '--isolation', 'none', '--index', indexDir, '--cache-dir', cache, '--registry', registry.url, '--trusted-root', rootFile], { MCS_TEST_BARE: '1' });
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(errorOf(result)).toMatchObject({ code: 'E_DRIVER_DEPENDENCY', message: expect.stringContaining('"pretty-fmt"') });
    expect(markerLines()).toEqual([]);
  });

  it('refuses a file swapped on disk after verification when the driver imports it later', async () => {
    const cache = join(work, 'cache-lazy');
    const script = join(work, 'lazy.mjs');
    writeFileSync(script, `import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const { loadDriver } = await import(${JSON.stringify(LOAD)});
const cache = ${JSON.stringify(join(cache, 'loader'))};
const loaded = await loadDriver('mcs-driver-walksup', { isolation: 'none', index: { indexDir: ${JSON.stringify(indexDir)}, cacheDir: ${JSON.stringify(cache)} }, cacheDir: cache, registry: { registry: ${JSON.stringify(registry.url)} }, trustedRoot: ${JSON.stringify(rootFile)} });
const pkg = join(cache, 'drivers', readdirSync(join(cache, 'drivers')).find((n) => !n.startsWith('.')), 'package');
chmodSync(pkg, 0o755);
writeFileSync(join(pkg, 'lazy.js.new'), "import { appendFileSync } from 'node:fs'; appendFileSync(process.env.MCS_TEST_MARKER, 'swapped code ran'); export const message = 'swapped';");
(await import('node:fs')).renameSync(join(pkg, 'lazy.js.new'), join(pkg, 'lazy.js'));
try {
  console.log(JSON.stringify({ message: await loaded.driver.get_driver_system_message() }));
} catch (error) {
  console.log(JSON.stringify({ error: error.message }));
}
`);
    writeFileSync(marker, '');
    const result = await run(script, []);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).error).toMatch(/^E_CACHE_TAMPERED: mcs-driver-walksup@1.0.0: lazy.js is not the file that was verified/);
    expect(markerLines()).toEqual([]);
  });

  it('refuses a cache entry changed after verification, before its code runs', async () => {
    const cache = join(work, 'cache-tamper');
    expect((await load('mcs-driver-marker', ['--isolation', 'none'], cache)).code).toBe(0);
    expect(markerLines().length).toBeGreaterThan(0);
    writeFileSync(marker, '');
    const entry = join(cache, 'loader', 'drivers', readdirSync(join(cache, 'loader', 'drivers')).find((n) => !n.startsWith('.'))!, 'package');
    chmodSync(entry, 0o755);
    chmodSync(join(entry, 'index.js'), 0o644);
    writeFileSync(join(entry, 'index.js'), "import { appendFileSync } from 'node:fs'; appendFileSync(process.env.MCS_TEST_MARKER, 'tampered code ran\\n'); export default class X {}\n");
    chmodSync(join(entry, 'index.js'), 0o444);
    chmodSync(entry, 0o555);
    const result = await load('mcs-driver-marker', ['--isolation', 'none'], cache);
    expect(result.code).toBe(1);
    expect(errorOf(result).code).toBe('E_CACHE_TAMPERED');
    expect(markerLines()).toEqual([]);
  });
});
