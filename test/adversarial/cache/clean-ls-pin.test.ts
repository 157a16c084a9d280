/**
 * The driver cache and the loader's query, end to end through the real CLI:
 * `cache clean` leaves nothing a later load could be warm from; `cache ls`
 * says which package and version each entry is; `load NAME@VERSION`,
 * `npm:NAME` and `pypi:NAME` pin what is loaded, and a version the index does
 * not pin is refused with a code naming the pinned ones. Drivers are signed
 * by the mock Sigstore and served by the loopback registry.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIndex } from '../../../src/index/store.js';
import { loadDriver } from '../../../src/loader/load.js';
import { resolveDriver } from '../../../src/loader/resolve.js';
import { fixtureMcs, packFixtureDriver } from '../../helpers/driver-packages.js';
import { removeReadOnlyDir } from '../../helpers/index-data.js';
import { publishSigned, startReleaseWorld, type ReleaseWorld } from '../../helpers/publish.js';
import { runCli } from '../../helpers/cli.js';

const EMBEDDED_PYPI_CSV = fileURLToPath(new URL('../../../index-data/pypi/mcs-driver-csv.json', import.meta.url));
const TARBALL = '/mcs-driver-notes-toolonly/-/mcs-driver-notes-toolonly-1.0.0.tgz';

let world: ReleaseWorld;
let indexDir: string;
let cache: string;

const cli = (args: string[]) => runCli([...args, '--index', indexDir, '--cache-dir', cache], { HOME: world.work, COLUMNS: '40' }, 120_000);

const load = (query: string) => cli(['load', query, '--json', '--registry', world.registry.url, '--trusted-root', world.rootFile, '--config', JSON.stringify({ baseDir: world.work })]);
const tarballRequests = () => world.registry.requests.filter((r) => r.path === TARBALL).length;
const errorOf = (run: Run): { code: string; message: string } => JSON.parse(run.stdout).error;

beforeAll(async () => {
  world = await startReleaseWorld('mcs-cache-adv-');
  indexDir = join(world.work, 'index');
  cache = join(world.work, 'cache');
  const target = { ...world, indexDir, repository: 'acme/drivers' };
  const entryFile = join(indexDir, 'npm', 'mcs-driver-csv.json');
  // two versions of one package; the declared driver is the one 1.0.0 runs
  const drivers = fixtureMcs('csv', '1.0.0').drivers as never;
  await publishSigned(target, { name: 'mcs-driver-csv', version: '1.1.0', tarball: packFixtureDriver('csv', { name: 'mcs-driver-csv', version: '1.1.0' }), drivers });
  const newer = JSON.parse(readFileSync(entryFile, 'utf8'));
  await publishSigned(target, { name: 'mcs-driver-csv', version: '1.0.0', tarball: packFixtureDriver('csv', { name: 'mcs-driver-csv', version: '1.0.0' }), drivers });
  const both = JSON.parse(readFileSync(entryFile, 'utf8'));
  writeFileSync(entryFile, JSON.stringify({ ...both, versions: { ...newer.versions, ...both.versions } }, null, 2));
  // a package of one version, for the cache tests
  await publishSigned(target, { name: 'mcs-driver-notes-toolonly', version: '1.0.0', tarball: packFixtureDriver('notes', { name: 'mcs-driver-notes-toolonly', version: '1.0.0' }), drivers: fixtureMcs('notes', '1.0.0').drivers as never });
  // the PyPI reference package of the same name, as the embedded index lists it
  mkdirSync(join(indexDir, 'pypi'), { recursive: true });
  copyFileSync(EMBEDDED_PYPI_CSV, join(indexDir, 'pypi', 'mcs-driver-csv.json'));
});

afterAll(async () => {
  if (world) {
    removeReadOnlyDir(world.work);
    await world.close();
  }
});

describe('cache clean, then load', () => {
  it('removes the kept tarballs and unpacked drivers, keeps the index state and trust metadata, and the next load fetches again', async () => {
    const first = await load('mcs-driver-notes-toolonly');
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const warm = await load('mcs-driver-notes-toolonly');
    expect(JSON.parse(warm.stdout).receipt.warm).toBe(true);
    const fetched = tarballRequests();

    // what clean must not touch: the installed index and the TUF metadata
    for (const kept of ['index-state', 'tuf']) {
      mkdirSync(join(cache, kept), { recursive: true });
      writeFileSync(join(cache, kept, 'marker'), kept);
    }
    const cleaned = await cli(['cache', 'clean', '--json']);
    expect(cleaned.code, cleaned.stderr).toBe(0);
    expect(JSON.parse(cleaned.stdout).removed.some((path: string) => path.endsWith('.tgz'))).toBe(true);
    expect(readdirSync(join(cache, 'loader', 'tarballs'))).toEqual([]);
    expect(readdirSync(join(cache, 'loader', 'drivers'))).toEqual([]);
    for (const kept of ['index-state', 'tuf']) expect(readFileSync(join(cache, kept, 'marker'), 'utf8')).toBe(kept);
    expect((await cli(['cache', 'ls'])).stdout).toContain('The driver cache is empty.');

    const again = await load('mcs-driver-notes-toolonly');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).receipt).toMatchObject({ warm: false, verdict: { status: 'verified' } });
    expect(tarballRequests()).toBe(fetched + 1);
  });
});

describe('cache ls', () => {
  it('names each entry by ecosystem:name@version, in text and in --json', async () => {
    expect((await load('mcs-driver-notes-toolonly')).code).toBe(0);
    const text = await cli(['cache', 'ls']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^npm:mcs-driver-notes-toolonly@1\.0\.0 {2}sha512-/m);
    const listed = JSON.parse((await cli(['cache', 'ls', '--json'])).stdout);
    expect(listed).toEqual([expect.objectContaining({ package: { ecosystem: 'npm', name: 'mcs-driver-notes-toolonly', version: '1.0.0' }, tarball: true })]);
    const verified = await cli(['cache', 'verify']);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('npm:mcs-driver-notes-toolonly@1.0.0');
    // output to a pipe is never cut, whatever COLUMNS says (40 here): the whole digest and folder
    for (const output of [text.stdout, verified.stdout]) {
      expect(output).toContain(listed[0].integrity);
      expect(output).not.toContain('…');
    }
    expect(text.stdout).toContain(listed[0].path);
  });
});

describe('load with a version or an ecosystem', () => {
  it('loads the version asked for (exact, a semver range, npm:), not the highest', async () => {
    const index = await openIndex({ indexDir, cacheDir: join(world.work, 'resolve-cache') });
    try {
      expect(resolveDriver(index, 'mcs-driver-csv').chosen?.version).toBe('1.1.0');
    } finally {
      index.close();
    }
    for (const query of ['mcs-driver-csv@1.0.0', 'mcs-driver-csv@~1.0', 'npm:mcs-driver-csv@1.0.0']) {
      const result = await load(query);
      expect(result.code, `${query}: ${result.stdout}${result.stderr}`).toBe(0);
      expect(JSON.parse(result.stdout).receipt).toMatchObject({ package: 'mcs-driver-csv', version: '1.0.0' });
    }
  });

  it('refuses a version the index does not pin, naming the pinned ones, before fetching anything', async () => {
    const before = world.registry.requests.length;
    for (const query of ['mcs-driver-csv@9.9.9', 'mcs-driver-csv@^3']) {
      const result = await load(query);
      expect(result.code).toBe(1);
      expect(errorOf(result)).toMatchObject({ code: 'E_POLICY_UNPINNED', message: expect.stringContaining('pinned: 1.1.0, 1.0.0') });
      expect(errorOf(result).message).toContain(query);
    }
    expect(world.registry.requests.length).toBe(before);
  });

  it('refuses a query whose version is neither a version nor a range', async () => {
    const result = await load('mcs-driver-csv@not a range!');
    expect(result.code).toBe(2);
    expect(errorOf(result).code).toBe('E_USAGE');
  });

  it('resolves pypi:NAME in the index, then refuses a release that pins only an sdist (never built), naming the package', async () => {
    const latest = await load('pypi:mcs-driver-csv');
    expect(latest.code).toBe(1);
    expect(errorOf(latest)).toMatchObject({ code: 'E_LOAD_REFUSED', message: expect.stringContaining('pypi:mcs-driver-csv@0.1.3: the index pins no pure-Python wheel') });
    const pinned = await load('pypi:mcs_driver_csv@0.1.1');
    expect(errorOf(pinned)).toMatchObject({ code: 'E_LOAD_REFUSED', message: expect.stringContaining('pypi:mcs-driver-csv@0.1.1') });
    expect(errorOf(await load('pypi:mcs-driver-csv@0.9.0')).code).toBe('E_POLICY_UNPINNED');
    await expect(loadDriver({ name: 'mcs-driver-csv', ecosystem: 'pypi', version: '0.1.2' }, { index: { indexDir, cacheDir: join(world.work, 'lib-cache') }, cacheDir: join(world.work, 'lib-cache', 'loader') })).rejects.toThrowWithCode('E_LOAD_REFUSED');
    expect(existsSync(join(world.work, 'lib-cache', 'loader', 'drivers'))).toBe(false);
  });
});
