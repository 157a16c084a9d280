/**
 * The Python test drivers (test/fixtures/python): their folders, as a wheel
 * would unpack them, and the declarations an index records for them.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeclaredDriver } from '../../src/manifest/types.js';

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
