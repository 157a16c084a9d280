/**
 * The host's life: a restart policy brings a crashed or timed-out host back
 * with the same driver and confinement, up to its limit; a call can be
 * cancelled; the mixins reach the driver or say it lacks them; and no host
 * outlives its client, however the client ends (normal end, uncaught error,
 * SIGTERM, SIGKILL while the driver is busy in a loop).
 */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDriver, type LoadEvent, type LoadOptions, type LoadedDriver } from '../../src/loader/load.js';
import { hostRoot } from '../../src/host/confine.js';
import type { HostedProxy } from '../../src/host/proxy.js';
import { contractMethod } from '../../src/host/protocol.js';
import { alive, gone, publishEscapes, worldLoadOptions } from '../helpers/host-drivers.js';
import { startReleaseWorld, type ReleaseWorld } from '../helpers/publish.js';

type Escapes = HostedProxy & { execute_tool(tool: string, args: Record<string, unknown>): Promise<unknown>; healthcheck(): Promise<{ status: string; pid: number }> };

let world: ReleaseWorld;
let indexDir: string;
const open: LoadedDriver[] = [];

async function load(extra: LoadOptions = {}): Promise<{ driver: Escapes; loaded: LoadedDriver }> {
  const loaded = await loadDriver('mcs-driver-lifecycle', worldLoadOptions(world, indexDir, extra));
  open.push(loaded);
  return { driver: loaded.driver as Escapes, loaded };
}

beforeAll(async () => {
  world = await startReleaseWorld('mcs-host-life-');
  indexDir = join(world.work, 'index');
  await publishEscapes(world, indexDir, 'mcs-driver-lifecycle', []);
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((loaded) => loaded.close()));
  await world.close();
});

describe('restart policy', () => {
  it('a crash and a timeout each restart the host on the next call, with events; past the limit E_HOST_RESTART_LIMIT', async () => {
    const events: LoadEvent[] = [];
    const { driver, loaded } = await load({ restart: { max: 2, windowMs: 60_000 }, callTimeoutMs: 1500, onEvent: (e) => events.push(e) });
    const first = (await driver.healthcheck()).pid;
    const receipt = loaded.receipt.host;
    if (receipt.isolation !== 'process') throw new Error('expected a host');
    expect(receipt.pid).toBe(first);

    // the call pending when the host dies fails; it is not repeated
    await expect(driver.execute_tool('attempt', { what: 'crash' })).toThrowWithCode('E_HOST_CRASHED');
    const second = (await driver.healthcheck()).pid;
    expect(second).not.toBe(first);
    expect(await gone(first)).toBe(true);
    expect(receipt.pid).toBe(second);
    // the same confinement: still no network, still the verified driver
    await expect(driver.execute_tool('attempt', { what: 'connect', port: 9 })).toThrowWithCode('E_DRIVER_CALL');

    await expect(driver.execute_tool('attempt', { what: 'hang' })).toThrowWithCode('E_HOST_TIMEOUT');
    const third = (await driver.healthcheck()).pid;
    expect(third).not.toBe(second);
    expect(await gone(second)).toBe(true);

    await expect(driver.execute_tool('attempt', { what: 'crash' })).toThrowWithCode('E_HOST_CRASHED');
    await expect(driver.healthcheck()).toThrowWithCode('E_HOST_RESTART_LIMIT');
    await expect(driver.list_tools()).toThrowWithCode('E_HOST_RESTART_LIMIT');
    expect(await gone(third)).toBe(true);

    const restarts = events.filter((e) => e.phase === 'restart');
    expect(restarts.map((e) => [e.attempt, e.code])).toEqual([[1, 'E_HOST_CRASHED'], [2, 'E_HOST_TIMEOUT']]);
    expect(events.filter((e) => e.phase === 'spawn')).toHaveLength(3);
    expect(events.filter((e) => e.phase === 'ready')).toHaveLength(3);
    expect(events.filter((e) => e.phase === 'exit')).toHaveLength(3);
  });

  it('restarts are counted in a sliding window', async () => {
    const { driver } = await load({ restart: { max: 1, windowMs: 2000 } });
    await expect(driver.execute_tool('attempt', { what: 'crash' })).toThrowWithCode('E_HOST_CRASHED');
    expect((await driver.healthcheck()).status).toBe('OK');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await expect(driver.execute_tool('attempt', { what: 'crash' })).toThrowWithCode('E_HOST_CRASHED');
    expect((await driver.healthcheck()).status).toBe('OK');
    await expect(driver.execute_tool('attempt', { what: 'crash' })).toThrowWithCode('E_HOST_CRASHED');
    await expect(driver.healthcheck()).toThrowWithCode('E_HOST_RESTART_LIMIT');
  });

  it('without a policy a crashed host stays down (E_HOST_CRASHED); a bad policy is E_USAGE', async () => {
    const { driver } = await load();
    await expect(driver.execute_tool('attempt', { what: 'crash' })).toThrowWithCode('E_HOST_CRASHED');
    await expect(driver.healthcheck()).toThrowWithCode('E_HOST_CRASHED');
    await expect(load({ restart: { max: -1 } })).toThrowWithCode('E_USAGE');
  });

  it('close() during the life of a restarted host leaves no process', async () => {
    const { driver, loaded } = await load({ restart: { max: 1 } });
    await expect(driver.execute_tool('attempt', { what: 'crash' })).toThrowWithCode('E_HOST_CRASHED');
    const { pid } = await driver.healthcheck();
    await loaded.close();
    expect(alive(pid)).toBe(false);
    await expect(driver.healthcheck()).toThrowWithCode('E_HOST_CRASHED');
  });
});

describe('cancellation', () => {
  it('an aborted call fails at once with E_ABORTED, its answer is dropped, and the host lives on', async () => {
    const events: LoadEvent[] = [];
    const { driver } = await load({ onEvent: (e) => events.push(e) });
    const { pid } = await driver.healthcheck();
    const controller = new AbortController();
    const marker = join(world.work, 'slept-marker');
    const started = performance.now();
    const call = driver.withCallOptions({ signal: controller.signal }).execute_tool('attempt', { what: 'sleep', ms: 800, marker });
    setTimeout(() => controller.abort(), 100);
    await expect(call).toThrowWithCode('E_ABORTED');
    expect(performance.now() - started).toBeLessThan(700);
    // the host is the same process, and answers the next call (the dropped answer does not take its place)
    expect(await driver.healthcheck()).toEqual({ status: 'OK', pid });
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(await driver.execute_tool('attempt', { what: 'huge', bytes: 3 })).toBe('xxx');
    expect(events.filter((e) => e.phase === 'call').map((e) => e.code)).toEqual([undefined, 'E_ABORTED', undefined, undefined]);
    // a signal aborted before the call: nothing is sent
    await expect(driver.withCallOptions({ signal: AbortSignal.abort() }).execute_tool('attempt', { what: 'write', file: join(world.work, 'never') })).toThrowWithCode('E_ABORTED');
    expect(existsSync(join(world.work, 'never'))).toBe(false);
  });

  it('a per-call deadline kills a host busy in a synchronous loop (E_HOST_TIMEOUT)', async () => {
    const { driver } = await load();
    const { pid } = await driver.healthcheck();
    const started = performance.now();
    await expect(driver.withCallOptions({ timeoutMs: 300 }).execute_tool('attempt', { what: 'hang' })).toThrowWithCode('E_HOST_TIMEOUT');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await gone(pid, 2000)).toBe(true);
  });
});

describe('mixins through the proxy', () => {
  it('healthcheck and get_driver_context reach the driver; a mixin it lacks is E_DRIVER_NOT_IMPLEMENTED', async () => {
    const { driver } = await load();
    expect((await driver.healthcheck()).status).toBe('OK');
    expect(await driver.get_driver_context('gpt-x')).toEqual({ system_message: 'escapes for gpt-x', tools: null });
    await expect(driver.get_native_tool_context()).toThrowWithCode('E_DRIVER_NOT_IMPLEMENTED');
    // a tool driver's proxy has no hybrid methods, so the kinds stay apart
    expect('process_llm_response' in driver).toBe(false);
  });

  it('the host dispatches only contract methods: other names are E_HOST_PROTOCOL, missing mixins E_DRIVER_NOT_IMPLEMENTED', () => {
    const driver = { list_tools: () => [], execute_tool: () => null, helper: () => 'private' } as Record<string, unknown>;
    expect(contractMethod(driver, 'list_tools')).toBe(driver.list_tools);
    for (const name of ['helper', 'constructor', 'toString', '__proto__', 'hasOwnProperty']) expect(() => contractMethod(driver, name)).toThrowWithCode('E_HOST_PROTOCOL');
    for (const name of ['healthcheck', 'get_driver_context', 'get_native_tool_context', 'warmup']) expect(() => contractMethod(driver, name)).toThrowWithCode('E_DRIVER_NOT_IMPLEMENTED');
  });
});

describe('no host outlives its client', () => {
  // a real client process: loads the driver, prints its host's pid, then ends the way it is told
  function client(mode: 'end' | 'throw' | 'busy'): Promise<{ child: ReturnType<typeof spawn>; pid: number }> {
    const script = join(world.work, 'client.mjs');
    writeFileSync(script, `const { loadDriver } = await import(${JSON.stringify(join(hostRoot(), 'dist', 'src', 'loader', 'load.js'))});
const loaded = await loadDriver('mcs-driver-lifecycle', ${JSON.stringify(worldLoadOptions(world, indexDir))});
const { pid } = await loaded.driver.healthcheck();
process.stdout.write(pid + '\\n');
const mode = process.argv[2];
if (mode === 'throw') throw new Error('the client failed');
if (mode === 'busy') {
  loaded.driver.execute_tool('attempt', { what: 'hang' }).catch(() => undefined);
  setInterval(() => undefined, 1000);
}
`);
    const child = spawn(process.execPath, [script, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve({ child, pid: Number(out.trim()) });
      });
      child.on('exit', (code) => {
        if (!out.includes('\n')) reject(new Error(`the client exited ${code} before its host was ready: ${err}`));
      });
    });
  }

  const exited = (child: ReturnType<typeof spawn>) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on('exit', resolve)));

  it('the client ends normally: its host is gone', async () => {
    const { child, pid } = await client('end');
    await exited(child);
    expect(await gone(pid)).toBe(true);
  });

  it('the client dies of an uncaught error: its host is gone', async () => {
    const { child, pid } = await client('throw');
    await exited(child);
    expect(child.exitCode).not.toBe(0);
    expect(await gone(pid)).toBe(true);
  });

  it('SIGTERM, and SIGKILL, of a client whose driver is busy in a loop: its host is gone', async () => {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const { child, pid } = await client('busy');
      await new Promise((resolve) => setTimeout(resolve, 200)); // the host is in its loop now
      expect(alive(pid)).toBe(true);
      child.kill(signal);
      await exited(child);
      const ended = await gone(pid, 3000);
      if (!ended) process.kill(pid, 'SIGKILL'); // a failing run leaves no busy orphan behind
      expect(ended).toBe(true);
    }
    // the killed clients could not remove their hosts' working folders; the next host started removes them
    const { readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dead = (): string[] => readdirSync(tmpdir()).filter((name) => /^mcs-host-\d+-/.test(name) && !alive(Number(/^mcs-host-(\d+)-/.exec(name)![1])));
    const next = await load();
    expect(dead()).toEqual([]);
    await next.loaded.close();
  });
});
