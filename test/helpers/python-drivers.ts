/**
 * The Python test drivers (test/fixtures/python): their folders, as a wheel
 * would unpack them, and the declarations an index records for them.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadOptions } from '../../src/loader/load.js';
import { addFromRegistry } from '../../src/maintain/add.js';
import { setPermissions } from '../../src/maintain/edit.js';
import type { DeclaredDriver } from '../../src/manifest/types.js';
import { startFixturePypi, type FixtureDist, type FixturePypi } from './fixture-pypi.js';
import { removeDir, tempDir } from './index-data.js';
import { startMockSigstore, type MockSigstore } from './mock-sigstore.js';
import { buildWheel, wheelFilename } from './wheels.js';

// from test/helpers, or compiled in dist/test/helpers (bench, examples)
const root = [new URL('../fixtures/python/', import.meta.url), new URL('../../../test/fixtures/python/', import.meta.url)].map((url) => fileURLToPath(url)).find((dir) => existsSync(dir))!;

/** The folder of one fixture distribution (what its wheel installs). */
export function pythonFixture(name: 'mcs-driver-core' | 'mcs-driver-csv' | 'mcs-driver-csvchat' | 'mcs-driver-hostile'): string {
  return join(root, name);
}

const csvBinding = { capability: 'csv', adapter: 'localfs', spec_format: 'Custom' };

/** The drivers each fixture declares, as an index records them (target_llms: the contract's name for the SDK's supported_llms). */
export const PYTHON_DECLARED = {
  csvchat: {
    kind: 'driver',
    export: 'mcs.driver.csvchat.driver:CsvChatDriver',
    meta: { id: '9b4e6f21-1d7a-4c55-8f0e-3c2d1a0b9e77', name: 'CSV Chat Driver (test)', version: '1.0.0', bindings: [csvBinding], target_llms: ['*'], capabilities: ['standalone', 'healthcheck'] },
  },
  csv: {
    kind: 'tool-driver',
    export: 'mcs.driver.csv.tooldriver:CsvToolDriver',
    meta: { id: '5d1c2b7a-0c4e-4f3a-9e61-7a2f0b9c3d10', name: 'CSV ToolDriver (test)', version: '1.0.0', bindings: [csvBinding], target_llms: null, capabilities: ['orchestratable'] },
  },
  hostile: {
    kind: 'tool-driver',
    export: 'mcs.driver.hostile.driver:HostileToolDriver',
    meta: { id: '3e0f5a9c-6b2d-4e18-a7c4-0d9e8f1b2a63', name: 'Hostile ToolDriver (test)', version: '1.0.0', bindings: [{ capability: 'hostile', adapter: '*', spec_format: 'Custom' }], target_llms: null, capabilities: ['orchestratable'] },
  },
} satisfies Record<string, DeclaredDriver>;

/** The folders of each driver, its own first, then what it depends on. */
export const PYTHON_PATHS = {
  csvchat: () => [pythonFixture('mcs-driver-csvchat'), pythonFixture('mcs-driver-csv'), pythonFixture('mcs-driver-core')],
  csv: () => [pythonFixture('mcs-driver-csv'), pythonFixture('mcs-driver-core')],
  hostile: () => [pythonFixture('mcs-driver-hostile'), pythonFixture('mcs-driver-core')],
};

/** Every file of a fixture distribution, by its path in the wheel. */
export function fixtureFiles(name: Parameters<typeof pythonFixture>[0]): Record<string, string> {
  const dir = pythonFixture(name);
  const files: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const path = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (entry.name !== '__pycache__') walk(path);
      } else files[path] = readFileSync(join(dir, path), 'utf8');
    }
  };
  walk('');
  return files;
}

/** The static MCS metadata a fixture wheel ships (.dist-info/mcs.json), meta in the SDK's spelling (supported_llms). */
export function fixtureMcs(which: keyof typeof PYTHON_DECLARED): unknown {
  const { target_llms: llms, ...meta } = PYTHON_DECLARED[which].meta;
  return { drivers: [{ ...PYTHON_DECLARED[which], meta: { ...meta, supported_llms: llms } }] };
}

/** The driver, its two dependencies, and what they are published as. */
export const CSVCHAT = 'mcs-driver-csvchat';
const publisher = { repository: 'acme/mcs-driver-csvchat', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v1.0.0' };

/** A fixture distribution as a pure wheel on the loopback PyPI. */
export function fixtureWheel(name: string, dist: Parameters<typeof fixtureFiles>[0], requiresDist: string[], mcs?: unknown): FixtureDist {
  return { filename: wheelFilename(name, '1.0.0'), bytes: buildWheel({ name, version: '1.0.0', files: fixtureFiles(dist), requiresDist, requiresPython: '>=3.11', summary: `${name} for the tests`, ...(mcs ? { mcs } : {}) }), requiresPython: '>=3.11' };
}

export interface PythonWorld {
  sigstore: MockSigstore;
  pypi: FixturePypi;
  work: string;
  index: string;
  data: string;
  rootFile: string;
  /** Load options for the world's index, PyPI and trust root, with a cache of its own. */
  options(cache: string, extra?: LoadOptions): LoadOptions;
  close(): Promise<void>;
}

/**
 * A loopback PyPI serving the CSV chat driver (attested by the mock Sigstore)
 * and the two wheels it depends on, and an index where `index add pypi:` has
 * pinned it with its lock (the filesystem:read tag set as a maintainer would).
 */
export async function startPythonWorld(prefix: string): Promise<PythonWorld> {
  const sigstore = await startMockSigstore();
  const work = tempDir(prefix);
  const rootFile = join(work, 'trusted_root.json');
  writeFileSync(rootFile, JSON.stringify(sigstore.trustedRoot));
  const index = join(work, 'index');
  const data = join(work, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'sales.csv'), 'city,units\nParis,4\nLyon,6\nNantes,9\n');
  const pypi = await startFixturePypi({
    sigstore,
    projects: [
      { name: CSVCHAT, files: [{ ...fixtureWheel(CSVCHAT, 'mcs-driver-csvchat', ['mcs-driver-csv>=1'], fixtureMcs('csvchat')), publisher }] },
      { name: 'mcs-driver-csv', files: [fixtureWheel('mcs-driver-csv', 'mcs-driver-csv', ['mcs-driver-core>=1'])] },
      { name: 'mcs-driver-core', files: [fixtureWheel('mcs-driver-core', 'mcs-driver-core', [])] },
    ],
  });
  await addFromRegistry(index, `pypi:${CSVCHAT}`, { by: 'alice', why: 'the CSV chat driver, review 3' }, { pypi: { indexUrl: pypi.indexUrl }, trustedRoot: rootFile });
  setPermissions(index, `pypi:${CSVCHAT}`, ['filesystem:read'], { by: 'alice', why: 'it reads the CSV files of the folder it is given' });
  return {
    sigstore,
    pypi,
    work,
    index,
    data,
    rootFile,
    options: (cache, extra = {}) => ({
      index: { indexDir: index, cacheDir: join(work, 'index-cache') },
      cacheDir: cache,
      pypi: { indexUrl: pypi.indexUrl },
      trustedRoot: rootFile,
      // a freshly added package is Community until a maintainer labels it; this client accepts Community drivers that carry provenance
      policy: { labels: ['verified', 'reference', 'community'], requireProvenance: { pypi: true } },
      grants: { read: [data] },
      config: { baseDir: data },
      ...extra,
    }),
    close: async () => {
      await pypi.close();
      await sigstore.close();
      // the cache is read-only by design
      const open = (dir: string): void => {
        if (!existsSync(dir)) return;
        chmodSync(dir, 0o755);
        for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) open(join(dir, e.name));
      };
      open(work);
      removeDir(work);
    },
  };
}
