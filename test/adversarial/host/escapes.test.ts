/**
 * Escapes through the driver host: a verified driver, run in its confined
 * child, tries one escape per call. Each is denied with its code, and the
 * marker file the escape would write does not appear. Drivers are packed from
 * test/fixtures/drivers/host/escapes, signed by the mock Sigstore and served by
 * the loopback registry.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDriver, type LoadOptions, type LoadedDriver } from '../../../src/loader/load.js';
import type { MCSToolDriver } from '../../../src/contract/index.js';
import { alive, publishEscapes, worldLoadOptions } from '../../helpers/host-drivers.js';
import { startReleaseWorld, type ReleaseWorld } from '../../helpers/publish.js';

let world: ReleaseWorld;
let indexDir: string;
let outside: string;
let server: Server;
let port: number;
let connections = 0;

const open: LoadedDriver[] = [];
async function load(name: string, extra: LoadOptions = {}): Promise<MCSToolDriver & { healthcheck(): Promise<{ status: string; pid: number }> }> {
  const loaded = await loadDriver(name, worldLoadOptions(world, indexDir, extra));
  open.push(loaded);
  return loaded.driver as never;
}

beforeAll(async () => {
  world = await startReleaseWorld('mcs-host-escapes-');
  indexDir = join(world.work, 'index');
  outside = join(world.work, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), 'not for drivers');
  // an outside module that would leave a marker wherever it runs
  writeFileSync(join(outside, 'payload.mjs'), `import { writeFileSync } from 'node:fs'; import { workerData } from 'node:worker_threads'; writeFileSync(workerData ?? ${JSON.stringify(join(outside, 'vm-marker'))}, 'payload ran');\n`);
  server = createServer((socket) => {
    connections++;
    socket.end('hello from loopback');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  await publishEscapes(world, indexDir, 'mcs-driver-escapes', []);
  await publishEscapes(world, indexDir, 'mcs-driver-escapes-granted', ['network', 'filesystem:read', 'filesystem:write', 'secrets']);
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((loaded) => loaded.close()));
  await new Promise((resolve) => server.close(resolve));
  await world.close();
});

describe('a driver in the host cannot escape its confinement', () => {
  it('a Worker on a file outside the package: E_HOST_DENIED, no marker', async () => {
    const driver = await load('mcs-driver-escapes');
    const marker = join(outside, 'worker-marker');
    await expect(driver.execute_tool('attempt', { what: 'worker', file: join(outside, 'payload.mjs'), marker })).toThrowWithCode('E_HOST_DENIED');
    expect(existsSync(marker)).toBe(false);
  });

  it('a child process, imported or through process.getBuiltinModule: E_HOST_DENIED, no marker', async () => {
    const driver = await load('mcs-driver-escapes');
    const marker = join(outside, 'spawn-marker');
    await expect(driver.execute_tool('attempt', { what: 'child-process', marker })).toThrowWithCode('E_HOST_DENIED');
    await expect(driver.execute_tool('attempt', { what: 'builtin', marker })).toThrowWithCode('E_HOST_DENIED');
    expect(existsSync(marker)).toBe(false);
  });

  it('vm with the main-context loader importing an outside module: E_HOST_DENIED, no marker', async () => {
    const driver = await load('mcs-driver-escapes');
    await expect(driver.execute_tool('attempt', { what: 'vm', file: join(outside, 'payload.mjs') })).toThrowWithCode('E_HOST_DENIED');
    expect(existsSync(join(outside, 'vm-marker'))).toBe(false);
  });

  it('registering module hooks: E_HOST_DENIED (they need a worker thread), no marker', async () => {
    const driver = await load('mcs-driver-escapes');
    const marker = join(outside, 'hooks-marker');
    await expect(driver.execute_tool('attempt', { what: 'hooks', marker })).toThrowWithCode('E_HOST_DENIED');
    expect(existsSync(marker)).toBe(false);
  });

  it('reading a file outside the package and the grants: E_HOST_DENIED', async () => {
    const driver = await load('mcs-driver-escapes');
    await expect(driver.execute_tool('attempt', { what: 'read', file: join(outside, 'secret.txt') })).toThrowWithCode('E_HOST_DENIED');
  });

  it('code that walks up out of its package: reading ../ paths, another cached driver, a sibling package in node_modules above the cache: E_HOST_DENIED, no marker', async () => {
    const loaded = await loadDriver('mcs-driver-escapes', worldLoadOptions(world, indexDir));
    open.push(loaded);
    const driver = loaded.driver as MCSToolDriver;
    const other = await loadDriver('mcs-driver-escapes-granted', worldLoadOptions(world, indexDir));
    open.push(other);
    const packageDir = loaded.receipt.cachePath;
    // ../../.. from the driver's own module up to the test's folder
    const up = (file: string) => relative(packageDir, file);
    expect(up(join(outside, 'secret.txt'))).toMatch(/^\.\.\//);
    await expect(driver.execute_tool('attempt', { what: 'read-relative', file: up(join(outside, 'secret.txt')) })).toThrowWithCode('E_HOST_DENIED');
    await expect(driver.execute_tool('attempt', { what: 'read-relative', file: up(join(other.receipt.cachePath, 'package.json')) })).toThrowWithCode('E_HOST_DENIED');
    // a package that would run if a bare import found it walking up through node_modules folders
    const sibling = join(world.work, 'node_modules', 'mcs-sibling');
    const marker = join(outside, 'sibling-marker');
    mkdirSync(sibling, { recursive: true });
    writeFileSync(join(sibling, 'package.json'), JSON.stringify({ name: 'mcs-sibling', version: '1.0.0', type: 'module', main: 'index.js' }));
    writeFileSync(join(sibling, 'index.js'), `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'sibling ran');\n`);
    expect(packageDir.startsWith(join(world.work, 'cache') + sep)).toBe(true);
    await expect(driver.execute_tool('attempt', { what: 'import', name: 'mcs-sibling' })).toThrowWithCode('E_HOST_DENIED');
    await expect(driver.execute_tool('attempt', { what: 'import', name: pathToFileURL(join(sibling, 'index.js')).href })).toThrowWithCode('E_HOST_DENIED');
    expect(existsSync(marker)).toBe(false);
  });

  it('writing outside the grants: E_HOST_DENIED, no file', async () => {
    const driver = await load('mcs-driver-escapes');
    const file = join(outside, 'written.txt');
    await expect(driver.execute_tool('attempt', { what: 'write', file })).toThrowWithCode('E_HOST_DENIED');
    expect(existsSync(file)).toBe(false);
  });

  it('a TCP connect to a loopback listener without network: refused by the network namespace, the listener sees nothing', async () => {
    const driver = await load('mcs-driver-escapes');
    const before = connections;
    const attempt = driver.execute_tool('attempt', { what: 'connect', port });
    await expect(attempt).toThrowWithCode('E_DRIVER_CALL');
    await attempt.catch((error: { details: { errno: string } }) => expect(error.details.errno).toBe('ENETUNREACH'));
    expect(connections).toBe(before);
  });

  it('an environment variable not granted is not there', async () => {
    process.env.MCS_HOST_TEST_SECRET = 'hunter2';
    try {
      const driver = await load('mcs-driver-escapes', { grants: { env: ['MCS_HOST_TEST_SECRET'] } });
      // granted by the caller, but the index does not declare secrets for this driver
      expect(await driver.execute_tool('attempt', { what: 'env', name: 'MCS_HOST_TEST_SECRET' })).toBeNull();
      expect(await driver.execute_tool('attempt', { what: 'env', name: 'PATH' })).toBeNull();
    } finally {
      delete process.env.MCS_HOST_TEST_SECRET;
    }
  });

  it('console.log flooding stdout cannot forge or corrupt an answer', async () => {
    const driver = await load('mcs-driver-escapes');
    expect(await driver.execute_tool('attempt', { what: 'flood', lines: 20000 })).toBe('flooded');
    expect(await driver.execute_tool('attempt', { what: 'env', name: 'HOME' })).toMatch(/mcs-host-/);
  });

  it('a crash fails the pending call with E_HOST_CRASHED, and later calls too', async () => {
    const driver = await load('mcs-driver-escapes');
    const { pid } = await driver.healthcheck();
    await expect(driver.execute_tool('attempt', { what: 'crash' })).toThrowWithCode('E_HOST_CRASHED');
    await expect(driver.list_tools()).toThrowWithCode('E_HOST_CRASHED');
    expect(alive(pid)).toBe(false);
  });

  it('a hang passes its deadline: E_HOST_TIMEOUT, and the child is gone', async () => {
    const events: string[] = [];
    const driver = await load('mcs-driver-escapes', { callTimeoutMs: 1500, onEvent: (e) => events.push(e.phase) });
    const { pid } = await driver.healthcheck();
    await expect(driver.execute_tool('attempt', { what: 'hang' })).toThrowWithCode('E_HOST_TIMEOUT');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(alive(pid)).toBe(false);
    expect(events).toContain('exit');
  });

  it('a huge response is refused with E_HOST_MESSAGE_TOO_LARGE; the host lives on', async () => {
    const driver = await load('mcs-driver-escapes', { maxMessageBytes: 64 * 1024 });
    await expect(driver.execute_tool('attempt', { what: 'huge', bytes: 200 * 1024 })).toThrowWithCode('E_HOST_MESSAGE_TOO_LARGE');
    expect(await driver.execute_tool('attempt', { what: 'huge', bytes: 10 })).toBe('x'.repeat(10));
  });
});

describe('what the caller grants, and the index declares, the driver gets', () => {
  it('a granted folder is readable, a granted one writable, a granted variable visible', async () => {
    process.env.MCS_HOST_TEST_SECRET = 'hunter2';
    try {
      mkdirSync(join(world.work, 'out'), { recursive: true });
      const driver = await load('mcs-driver-escapes-granted', { grants: { read: [outside], write: [join(world.work, 'out')], env: ['MCS_HOST_TEST_SECRET'] } });
      expect(await driver.execute_tool('attempt', { what: 'read', file: join(outside, 'secret.txt') })).toBe('not for drivers');
      expect(await driver.execute_tool('attempt', { what: 'write', file: join(world.work, 'out', 'ok.txt') })).toBe('written');
      expect(await driver.execute_tool('attempt', { what: 'env', name: 'MCS_HOST_TEST_SECRET' })).toBe('hunter2');
      // a read grant is no write grant
      await expect(driver.execute_tool('attempt', { what: 'write', file: join(outside, 'nope.txt') })).toThrowWithCode('E_HOST_DENIED');
    } finally {
      delete process.env.MCS_HOST_TEST_SECRET;
    }
  });

  it('a driver declaring network reaches a loopback server when the caller allows it, and not otherwise', async () => {
    const allowed = await load('mcs-driver-escapes-granted', { grants: { network: true } });
    expect(await allowed.execute_tool('attempt', { what: 'connect', port })).toBe('hello from loopback');
    const notAllowed = await load('mcs-driver-escapes-granted');
    await expect(notAllowed.execute_tool('attempt', { what: 'connect', port })).toThrowWithCode('E_DRIVER_CALL');
  });
});
