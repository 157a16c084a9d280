/**
 * The driver host seen by its callers: the receipt names every layer and
 * grant, the consent callback can refuse a tool (which then never runs), each
 * call is reported for an audit trail, close() leaves no process, and the CLI
 * (load, call, --grant-*, --isolation) goes through the host.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDriver, type LoadEvent } from '../../src/loader/load.js';
import type { MCSToolDriver } from '../../src/contract/index.js';
import { alive, publishEscapes, worldLoadOptions } from '../helpers/host-drivers.js';
import { startReleaseWorld, type ReleaseWorld } from '../helpers/publish.js';
import { runCli } from '../helpers/cli.js';


let world: ReleaseWorld;
let indexDir: string;
let data: string;

beforeAll(async () => {
  world = await startReleaseWorld('mcs-host-');
  indexDir = join(world.work, 'index');
  data = join(world.work, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'note.txt'), 'granted data');
  await publishEscapes(world, indexDir, 'mcs-driver-hosted', ['filesystem:write']);
}, 60_000);

afterAll(async () => {
  await world.close();
});

describe('loadDriver through the host', () => {
  it('the receipt names each layer, each applied grant, and each grant the index does not back', async () => {
    const loaded = await loadDriver('mcs-driver-hosted', worldLoadOptions(world, indexDir, { grants: { write: [data], env: ['HOME'], network: true } }));
    try {
      const host = loaded.receipt.host;
      if (host.isolation !== 'process') throw new Error('expected a host');
      expect(host.declared).toEqual(['filesystem:write']);
      expect(host.grants).toEqual({ read: [], write: [data], env: [], network: false, shell: false });
      expect(host.ignored.map((i) => i.grant)).toEqual(['env HOME', 'network']);
      expect(Object.fromEntries(host.layers.map((l) => [l.layer, l.applied]))).toEqual({
        'node-permission': true,
        'network-namespace': true,
        'parent-death': true,
        environment: true,
        'working-folder': true,
        'stderr-log': true,
        'import-gate': false,
      });
      expect(alive(host.pid)).toBe(true);
      await loaded.close();
      expect(alive(host.pid)).toBe(false);
      await expect((loaded.driver as MCSToolDriver).list_tools()).toThrowWithCode('E_HOST_CRASHED');
    } finally {
      await loaded.close();
    }
  });

  it('the consent callback refuses a tool: E_TOOL_REFUSED, and the tool never ran', async () => {
    const asked: unknown[] = [];
    const loaded = await loadDriver('mcs-driver-hosted', worldLoadOptions(world, indexDir, {
      grants: { write: [data] },
      onToolCall: async (call) => {
        asked.push(call);
        return call.arguments.file !== join(data, 'refused.txt');
      },
    }));
    try {
      const driver = loaded.driver as MCSToolDriver;
      await expect(driver.execute_tool('attempt', { what: 'write', file: join(data, 'refused.txt') })).toThrowWithCode('E_TOOL_REFUSED');
      expect(existsSync(join(data, 'refused.txt'))).toBe(false);
      expect(await driver.execute_tool('attempt', { what: 'write', file: join(data, 'allowed.txt') })).toBe('written');
      expect(existsSync(join(data, 'allowed.txt'))).toBe(true);
      expect(asked).toEqual([
        { driver: 'mcs-driver-hosted@1.0.0', tool: 'attempt', arguments: { what: 'write', file: join(data, 'refused.txt') } },
        { driver: 'mcs-driver-hosted@1.0.0', tool: 'attempt', arguments: { what: 'write', file: join(data, 'allowed.txt') } },
      ]);
    } finally {
      await loaded.close();
    }
  });

  it('lifecycle and call events: spawn, ready, one call event per call with digest, duration and size, exit', async () => {
    const events: LoadEvent[] = [];
    const loaded = await loadDriver('mcs-driver-hosted', worldLoadOptions(world, indexDir, { onEvent: (e) => events.push(e) }));
    const driver = loaded.driver as MCSToolDriver;
    expect(await driver.execute_tool('attempt', { what: 'huge', bytes: 100 })).toHaveLength(100);
    await loaded.close();
    expect(events.map((e) => e.phase).filter((p) => ['spawn', 'ready', 'call', 'exit'].includes(p))).toEqual(['spawn', 'ready', 'call', 'exit']);
    const call = events.find((e) => e.phase === 'call')!;
    expect(call).toMatchObject({ method: 'execute_tool', tool: 'attempt', resultBytes: 102, pid: loaded.receipt.host.isolation === 'process' ? loaded.receipt.host.pid : -1 });
    expect(call.argumentsDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(call.durationMs).toBeGreaterThan(0);
  });
});

const cli = (args: string[]) => runCli([...args, '--index', indexDir, '--cache-dir', join(world.work, 'cli-cache'), '--registry', world.registry.url, '--trusted-root', world.rootFile], { HOME: world.work }, 120_000);

describe('the CLI goes through the host', () => {
  it('call runs one tool; what is not granted is denied (exit 1, E_HOST_DENIED), --grant-write allows it', async () => {
    const file = join(data, 'cli.txt');
    const denied = await cli(['call', 'mcs-driver-hosted', 'attempt', '--args', JSON.stringify({ what: 'write', file }), '--json']);
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout).error.code).toBe('E_HOST_DENIED');
    expect(existsSync(file)).toBe(false);
    const granted = await cli(['call', 'mcs-driver-hosted', 'attempt', '--args', JSON.stringify({ what: 'write', file }), '--grant-write', data, '--json']);
    expect(granted.code).toBe(0);
    expect(JSON.parse(granted.stdout).result).toBe('written');
    expect(existsSync(file)).toBe(true);
  });

  it('load --json reports the host and its layers; --isolation none says it runs in process', async () => {
    const hosted = await cli(['load', 'mcs-driver-hosted', '--json']);
    expect(hosted.code).toBe(0);
    const receipt = JSON.parse(hosted.stdout).receipt;
    expect(receipt.host.isolation).toBe('process');
    expect(receipt.host.layers.find((l: { layer: string }) => l.layer === 'network-namespace').applied).toBe(true);
    const inProcess = await cli(['load', 'mcs-driver-hosted', '--isolation', 'none', '--json']);
    expect(inProcess.code).toBe(0);
    expect(JSON.parse(inProcess.stdout).receipt.host.isolation).toBe('none');
  });
});
