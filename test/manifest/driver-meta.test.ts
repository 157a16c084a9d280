/**
 * DriverMeta as the Python SDK declares it: `supported_llms` (its name for
 * the contract's `target_llms`) accepted on input and stored as
 * `target_llms`; empty bindings for orchestrators only; the `native_tools`
 * flag; and the module:Class entry point every PyPI driver declares.
 */
import { describe, expect, it } from 'vitest';
import { assertMcsDriver } from '../../src/contract/index.js';
import { staticMetadata } from '../../src/maintain/add.js';
import { comparableMeta, contractMeta } from '../../src/manifest/driver-meta.js';
import { parsePackageName } from '../../src/manifest/names.js';
import type { DriverMeta, IndexEntry } from '../../src/manifest/types.js';
import { assertDriverMeta, assertIndexEntry } from '../../src/manifest/validate.js';
import { npmDriver } from '../helpers/index-data.js';
import { makeTarball } from '../helpers/tarball.js';

const meta: DriverMeta = {
  id: 'e7f3a1b2-orch-4000-9000-baseorch00001',
  name: 'MCS Base Orchestrator',
  version: '0.1.0',
  bindings: [],
  target_llms: ['*'],
  capabilities: ['standalone', 'orchestratable'],
};

function pointerOf(run: () => void): string {
  try {
    run();
  } catch (error: any) {
    return `${error.code} ${error.details.pointer}`;
  }
  throw new Error('expected a refusal');
}

/** A PyPI entry declaring one driver of `kind` with `driverMeta`, at entry point `entry` (none when null). */
function pypiEntry(kind: 'driver' | 'tool-driver' | 'orchestrator', driverMeta: unknown, entry: string | null = 'mcs.orchestrator.base.orchestrator:BaseOrchestrator'): IndexEntry {
  const name = kind === 'orchestrator' ? 'mcs-orchestrator-base' : 'mcs-driver-csv';
  return {
    ...npmDriver(name),
    ecosystem: 'pypi',
    class: kind === 'orchestrator' ? 'orchestrator' : 'driver',
    versions: {},
    declarations: [{ drivers: [{ kind, meta: driverMeta as DriverMeta, ...(entry !== null ? { export: entry } : {}) }] }],
  };
}

describe('supported_llms, the SDK name for target_llms', () => {
  it('is accepted in a driver meta, and renamed to target_llms', () => {
    const { target_llms, ...rest } = meta;
    const sdk = { ...rest, supported_llms: target_llms };
    expect(() => assertDriverMeta(sdk, 'x')).not.toThrow();
    expect(contractMeta(sdk, 'x')).toEqual(meta);
    expect(contractMeta(meta, 'x')).toBe(meta);
  });

  it('refuses both names with different values (E_DRIVER_META), in the schema and on renaming', () => {
    const both = { ...meta, supported_llms: ['gpt-5'] };
    expect(pointerOf(() => assertDriverMeta(both, 'x'))).toBe('E_DRIVER_META /target_llms');
    expect(pointerOf(() => contractMeta(both, 'x'))).toBe('E_DRIVER_META /supported_llms');
    expect(contractMeta({ ...meta, supported_llms: ['*'] }, 'x')).toEqual(meta);
  });

  it('is stored as target_llms: index add renames it, and an entry holding it is refused', () => {
    const { target_llms: _llms, ...rest } = meta;
    const packageJson = { name: 'mcs-orchestrator-base', version: '0.1.0', mcs: { drivers: [{ kind: 'orchestrator', meta: { ...rest, supported_llms: ['*'] } }] } };
    const tarball = makeTarball([{ path: 'package/package.json', content: JSON.stringify(packageJson) }]);
    expect(staticMetadata(tarball, 'mcs-orchestrator-base@0.1.0').drivers[0]!.meta).toEqual(meta);
    expect(pointerOf(() => assertIndexEntry(pypiEntry('orchestrator', { ...rest, supported_llms: ['*'] }), 'entry.json'))).toBe('E_SCHEMA /declarations/0/drivers/0/meta/supported_llms');
  });
});

describe('bindings', () => {
  it('may be empty for an orchestrator, which serves what the drivers it composes serve', () => {
    expect(() => assertIndexEntry(pypiEntry('orchestrator', meta), 'entry.json')).not.toThrow();
  });

  it('may not be empty for a driver or a tool driver (E_SCHEMA at the bindings)', () => {
    for (const kind of ['driver', 'tool-driver'] as const) {
      expect(pointerOf(() => assertIndexEntry(pypiEntry(kind, meta, 'mcs.driver.csv.driver:CsvDriver'), 'entry.json'))).toBe('E_SCHEMA /declarations/0/drivers/0/meta/bindings');
    }
  });
});

describe('native_tools', () => {
  it('is a capability flag a meta may carry, promising get_native_tool_context (E_DRIVER_CAPABILITY without it)', () => {
    const driverMeta = { ...meta, bindings: [{ capability: 'csv', adapter: '*', spec_format: 'Custom' }], capabilities: ['standalone', 'native_tools'] };
    expect(() => assertDriverMeta(driverMeta, 'x')).not.toThrow();
    const driver = { meta: driverMeta, get_function_description: () => '', get_driver_system_message: () => '', process_llm_response: () => ({ call_executed: false, call_failed: false }) };
    expect(() => assertMcsDriver(driver, 'x')).toThrowWithCode('E_DRIVER_CAPABILITY');
    expect(() => assertMcsDriver({ ...driver, get_native_tool_context: () => ({ system_message: '' }) }, 'x')).not.toThrow();
  });

  it('is the one flag a running meta may add to its declaration', () => {
    const running = { ...meta, capabilities: [...meta.capabilities, 'native_tools'] };
    expect(comparableMeta(running, meta)).toEqual(meta);
    expect(comparableMeta({ ...meta, capabilities: [...meta.capabilities, 'healthcheck'] }, meta)).not.toEqual(meta);
    // declared, it must be there at run time
    const declared = { ...meta, capabilities: running.capabilities };
    expect(comparableMeta(meta, declared)).not.toEqual(declared);
  });
});

describe('PyPI entry points', () => {
  it('are required for every declared PyPI driver, as module:Class', () => {
    expect(() => assertIndexEntry(pypiEntry('orchestrator', meta), 'entry.json')).not.toThrow();
    expect(pointerOf(() => assertIndexEntry(pypiEntry('orchestrator', meta, null), 'entry.json'))).toBe('E_SCHEMA /declarations/0/drivers/0/export');
    for (const bad of ['BaseOrchestrator', 'mcs.orchestrator.base:', 'mcs/orchestrator:BaseOrchestrator', 'mcs.orchestrator.base:Base.Orchestrator']) {
      expect(pointerOf(() => assertIndexEntry(pypiEntry('orchestrator', meta, bad), 'entry.json'))).toBe('E_SCHEMA /declarations/0/drivers/0/export');
    }
  });
});

describe('mcs-types-<name>', () => {
  it('names a package of shared types', () => {
    expect(parsePackageName('mcs-types-http', 'pypi').class).toBe('types');
  });
});
