/**
 * Python drivers through the host: the same proxy as for npm drivers (meta
 * with target_llms, tools with parameters, DriverResponse, the healthcheck
 * mixin), the running meta checked against the declaration, the interpreter
 * found and version-checked, and a receipt that names each layer.
 */
import { chmodSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MCSDriver, MCSToolDriver } from '../../src/contract/index.js';
import { findPython, startPythonHost, type StartPythonHostInput } from '../../src/host/python.js';
import type { HostOptions } from '../../src/host/proxy.js';
import type { PythonHostOptions } from '../../src/host/python.js';
import { alive } from '../helpers/host-drivers.js';
import { PYTHON_DECLARED, PYTHON_PATHS } from '../helpers/python-drivers.js';

let data: string;

beforeAll(() => {
  data = mkdtempSync(join(tmpdir(), 'mcs-pyhost-data-'));
  writeFileSync(join(data, 'sales.csv'), 'city,units\nParis,4\nLyon,6\nNantes,9\n');
});

function input(which: keyof typeof PYTHON_DECLARED, extra: Partial<StartPythonHostInput> = {}): StartPythonHostInput {
  return { spec: `mcs-driver-${which}@1.0.0`, package: `mcs-driver-${which}`, version: '1.0.0', permissions: ['filesystem:read'], paths: PYTHON_PATHS[which](), declared: PYTHON_DECLARED[which], config: { baseDir: data }, ...extra };
}

const layersOf = (layers: Array<{ layer: string; applied: boolean }>) => Object.fromEntries(layers.map((l) => [l.layer, l.applied]));

describe('a Python hybrid driver through the host', () => {
  it('answers the MCS contract: meta with target_llms, description, system message, a DriverResponse, healthcheck', async () => {
    const hosted = await startPythonHost(input('csvchat'), { grants: { read: [data] } });
    try {
      const driver = hosted.driver as MCSDriver & { healthcheck(): Promise<unknown> };
      expect(driver.meta).toEqual(PYTHON_DECLARED.csvchat.meta);
      expect('list_tools' in driver).toBe(false);
      expect(JSON.parse(await driver.get_function_description()).map((t: { name: string }) => t.name)).toContain('summarize_numeric_column');
      expect(await driver.get_driver_system_message()).toMatch(/^You can work with CSV files/);
      const response = await driver.process_llm_response('Adding up.\n{"tool": "summarize_numeric_column", "arguments": {"path": "sales.csv", "column": "units"}}');
      expect(response).toEqual({
        call_executed: true,
        call_failed: false,
        tool_call_result: { count: 3, min: 4, max: 9, average: 19 / 3 },
        call_detail: 'summarize_numeric_column',
        retry_prompt: null,
        messages: [{ role: 'system', content: '{"count": 3, "min": 4.0, "max": 9.0, "average": 6.333333333333333}' }],
      });
      const failed = await driver.process_llm_response('{"tool": "summarize_numeric_column", "arguments": {"path": "missing.csv", "column": "units"}}');
      expect(failed).toMatchObject({ call_executed: true, call_failed: true });
      expect(failed.retry_prompt).toMatch(/missing\.csv/);
      expect(await driver.healthcheck()).toEqual({ status: 'OK' });
      expect(layersOf(hosted.receipt.layers)).toEqual({ 'python-isolated': true, bubblewrap: true, 'network-namespace': true, 'parent-death': true, environment: true, 'working-folder': true, 'stderr-log': true });
      expect(hosted.receipt.layers.find((l) => l.layer === 'python-isolated')!.detail).toMatch(/Python 3\.\d+\.\d+ .* -I -S -B.* 3 verified folder/);
    } finally {
      await hosted.driver.close();
    }
    expect(alive(hosted.receipt.pid)).toBe(false);
  });
});

describe('a Python tool driver through the host', () => {
  it('lists its tools with their parameters and executes one on a granted folder', async () => {
    const hosted = await startPythonHost(input('csv'), { grants: { read: [data] } });
    try {
      const driver = hosted.driver as MCSToolDriver;
      expect(driver.meta.target_llms).toBeNull();
      const tools = await driver.list_tools();
      expect(tools.find((t) => t.name === 'read_csv_head')).toEqual({
        name: 'read_csv_head',
        description: 'Read the first rows of a CSV file as records.',
        parameters: [
          { name: 'path', description: 'CSV file, relative to the base folder', required: true, schema: { type: 'string' } },
          { name: 'n', description: 'how many rows', required: false, schema: { type: 'integer' } },
        ],
      });
      expect(await driver.execute_tool('read_csv_head', { path: 'sales.csv', n: 2 })).toEqual([{ city: 'Paris', units: '4' }, { city: 'Lyon', units: '6' }]);
      expect(await driver.execute_tool('list_csv_files', {})).toEqual(['sales.csv']);
      await expect(driver.execute_tool('no_such_tool', {})).toThrowWithCode('E_DRIVER_CALL');
      await expect((driver as unknown as { healthcheck(): Promise<unknown> }).healthcheck()).toThrowWithCode('E_DRIVER_NOT_IMPLEMENTED');
    } finally {
      await hosted.driver.close();
    }
  });

  it('without the read grant the data folder is hidden: E_HOST_DENIED', async () => {
    const hosted = await startPythonHost(input('csv'));
    try {
      await expect((hosted.driver as MCSToolDriver).execute_tool('read_csv_head', { path: 'sales.csv' })).toThrowWithCode('E_HOST_DENIED');
    } finally {
      await hosted.driver.close();
    }
  });

  it('a running meta that is not the declared one is E_DRIVER_META, and the host is gone', async () => {
    const declared = { ...PYTHON_DECLARED.csv, meta: { ...PYTHON_DECLARED.csv.meta, version: '1.0.1' } };
    const pids: number[] = [];
    await expect(startPythonHost(input('csv', { declared, onEvent: (e) => e.pid && pids.push(e.pid) }))).toThrowWithCode('E_DRIVER_META');
    expect(pids.length).toBeGreaterThan(0);
    expect(pids.every((pid) => !alive(pid))).toBe(true);
  });

  it('an entry point the folders do not hold is E_DRIVER_IMPORT; one that is not module:Class is E_DRIVER_ENTRY', async () => {
    await expect(startPythonHost(input('csv', { declared: { ...PYTHON_DECLARED.csv, export: 'mcs.driver.nothere:X' } }))).toThrowWithCode('E_DRIVER_IMPORT');
    await expect(startPythonHost(input('csv', { declared: { ...PYTHON_DECLARED.csv, export: 'mcs.driver.csv.tooldriver' } }))).toThrowWithCode('E_DRIVER_ENTRY');
  });
});

describe('the interpreter and the receipt', () => {
  it('no interpreter is E_PYTHON_MISSING, naming the command', () => {
    expect(() => findPython('/nonexistent/python3')).toThrowWithCode('E_PYTHON_MISSING');
    expect(() => findPython('/nonexistent/python3')).toThrow(/\/nonexistent\/python3/);
  });

  it('a Python older than 3.11 is E_PYTHON_VERSION, naming what was found', () => {
    // a real older interpreter where the machine has one (pyenv), else a program that answers as Python 3.9 does
    const pyenv = join(process.env.PYENV_ROOT ?? join(process.env.HOME ?? '/root', '.pyenv'), 'versions');
    let old: string | undefined;
    try {
      old = readdirSync(pyenv).filter((v) => /^3\.(?:[0-9]|10)\.\d+$/.test(v)).map((v) => join(pyenv, v, 'bin', 'python3'))[0];
    } catch {
      old = undefined;
    }
    if (!old) {
      old = join(mkdtempSync(join(tmpdir(), 'mcs-oldpy-')), 'python3');
      writeFileSync(old, '#!/bin/sh\necho \'{"executable": "/opt/python3.9/bin/python3.9", "version": [3, 9, 18], "prefixes": ["/opt/python3.9"]}\'\n');
      chmodSync(old, 0o755);
    }
    expect(() => findPython(old)).toThrowWithCode('E_PYTHON_VERSION');
    expect(() => findPython(old)).toThrow(/is Python 3\.(?:[0-9]|10)\.\d+/);
  });

  it('without bubblewrap the receipt says the layer is MISSING and why; the network namespace still applies', async () => {
    const options: HostOptions & PythonHostOptions = { bwrap: false };
    const hosted = await startPythonHost(input('csv'), options);
    try {
      const layer = hosted.receipt.layers.find((l) => l.layer === 'bubblewrap')!;
      expect(layer.applied).toBe(false);
      expect(layer.detail).toMatch(/^MISSING: the caller turned bubblewrap off .*can read every file this user can/);
      expect(layersOf(hosted.receipt.layers)['network-namespace']).toBe(true);
      expect(await (hosted.driver as MCSToolDriver).execute_tool('parse_csv', { text: 'a,b\n1,2\n' })).toEqual([{ a: '1', b: '2' }]);
    } finally {
      await hosted.driver.close();
    }
  });
});
