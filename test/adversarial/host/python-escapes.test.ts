/**
 * Escapes of a hostile Python driver (test/fixtures/python/mcs-driver-hostile)
 * through the Python host: each attempt is denied with its code, and the
 * marker it would leave (a file, a connection) does not appear. The forged
 * JSON-RPC lines it prints at import and at call never reach the channel.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MCSToolDriver } from '../../../src/contract/index.js';
import type { HostOptions, HostedDriver } from '../../../src/host/proxy.js';
import { startPythonHost, type PythonHostOptions } from '../../../src/host/python.js';
import type { Permission } from '../../../src/manifest/types.js';
import { alive } from '../../helpers/host-drivers.js';
import { PYTHON_DECLARED, PYTHON_PATHS } from '../../helpers/python-drivers.js';

let work: string;
let outside: string;
let granted: string;
let server: Server;
let port: number;
const connected = () => join(outside, 'connection-marker');

const open: HostedDriver[] = [];
async function hostile(permissions: Permission[] = [], options: HostOptions & PythonHostOptions = {}): Promise<{ driver: MCSToolDriver; hosted: HostedDriver }> {
  const hosted = await startPythonHost({ spec: 'mcs-driver-hostile@1.0.0', package: 'mcs-driver-hostile', version: '1.0.0', permissions, paths: PYTHON_PATHS.hostile(), declared: PYTHON_DECLARED.hostile, config: {} }, options);
  open.push(hosted);
  return { driver: hosted.driver as MCSToolDriver, hosted };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mcs-pyhost-escapes-'));
  outside = join(work, 'outside');
  granted = join(work, 'granted');
  mkdirSync(outside);
  mkdirSync(granted);
  writeFileSync(join(outside, 'secret.txt'), 'not for drivers');
  writeFileSync(join(granted, 'note.txt'), 'granted data');
  server = createServer((socket) => {
    writeFileSync(connected(), 'a driver connected');
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await Promise.all(open.map((hosted) => hosted.driver.close()));
  await new Promise((resolve) => server.close(resolve));
});

describe('a hostile Python driver cannot escape the Python host', () => {
  it('prints forged JSON-RPC answers at import and at call: the channel never sees them, the log keeps them', async () => {
    const { driver } = await hostile();
    expect(await driver.execute_tool('attempt', { what: 'print', lines: 20000 })).toBe('printed');
    expect(await driver.execute_tool('attempt', { what: 'echo', value: 'still in step' })).toBe('still in step');
    // the log, as a crash reports its end: the forged lines went there, bounded
    const crash = await driver.execute_tool('attempt', { what: 'crash' }).catch((error: { code: string; details: { stderr: string } }) => error);
    expect(crash.code).toBe('E_HOST_CRASHED');
    expect(crash.details.stderr).toContain('forged on fd 1');
    const fresh = await hostile();
    const early = await fresh.driver.execute_tool('attempt', { what: 'crash' }).catch((error: { details: { stderr: string } }) => error);
    expect(early.details.stderr).toContain('"forged":"at import"');
  });

  it('reads a file outside its folders: E_HOST_DENIED', async () => {
    const { driver } = await hostile(['filesystem:read'], { grants: { read: [granted] } });
    await expect(driver.execute_tool('attempt', { what: 'read', target: join(outside, 'secret.txt') })).toThrowWithCode('E_HOST_DENIED');
    expect(await driver.execute_tool('attempt', { what: 'read', target: join(granted, 'note.txt') })).toBe('granted data');
  });

  it('writes outside the grants, or into a folder granted for reading: E_HOST_DENIED, no file', async () => {
    const { driver } = await hostile(['filesystem:read'], { grants: { read: [granted] } });
    await expect(driver.execute_tool('attempt', { what: 'write', target: join(outside, 'write-marker') })).toThrowWithCode('E_HOST_DENIED');
    await expect(driver.execute_tool('attempt', { what: 'write', target: join(granted, 'write-marker') })).toThrowWithCode('E_HOST_DENIED');
    expect(existsSync(join(outside, 'write-marker'))).toBe(false);
    expect(existsSync(join(granted, 'write-marker'))).toBe(false);
  });

  it('writes to a folder granted with filesystem:write: allowed', async () => {
    const { driver } = await hostile(['filesystem:write'], { grants: { write: [granted] } });
    expect(await driver.execute_tool('attempt', { what: 'write', target: join(granted, 'allowed.txt') })).toBe('written');
    expect(existsSync(join(granted, 'allowed.txt'))).toBe(true);
  });

  it('connects to a 127.0.0.1 listener without network: refused, and the listener saw nobody', async () => {
    const { driver } = await hostile();
    await expect(driver.execute_tool('attempt', { what: 'network', target: `127.0.0.1:${port}` })).toThrowWithCode('E_DRIVER_CALL');
    expect(existsSync(connected())).toBe(false);
  });

  it('with network declared and granted it reaches the loopback listener', async () => {
    const { driver, hosted } = await hostile(['network'], { grants: { network: true } });
    expect(hosted.receipt.layers.find((l) => l.layer === 'network-namespace')).toMatchObject({ applied: false });
    expect(await driver.execute_tool('attempt', { what: 'network', target: `127.0.0.1:${port}` })).toBe('connected');
    await expect.poll(() => existsSync(connected())).toBe(true);
  });

  it('reads an environment variable it was not granted: it is not there', async () => {
    process.env.MCS_PYHOST_SECRET = 'hunter2';
    try {
      const { driver } = await hostile(['secrets'], { grants: { env: [] } });
      expect(await driver.execute_tool('attempt', { what: 'env', target: 'MCS_PYHOST_SECRET' })).toBeNull();
      const allowed = await hostile(['secrets'], { grants: { env: ['MCS_PYHOST_SECRET'] } });
      expect(await allowed.driver.execute_tool('attempt', { what: 'env', target: 'MCS_PYHOST_SECRET' })).toBe('hunter2');
    } finally {
      delete process.env.MCS_PYHOST_SECRET;
    }
  });

  it('crashes: E_HOST_CRASHED, and the process is gone', async () => {
    const { driver, hosted } = await hostile();
    await expect(driver.execute_tool('attempt', { what: 'crash' })).toThrowWithCode('E_HOST_CRASHED');
    expect(alive(hosted.receipt.pid)).toBe(false);
  });

  it('hangs: E_HOST_TIMEOUT at the deadline, and the process is gone', async () => {
    const { driver, hosted } = await hostile([], { callTimeoutMs: 800 });
    await expect(driver.execute_tool('attempt', { what: 'hang' })).toThrowWithCode('E_HOST_TIMEOUT');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(alive(hosted.receipt.pid)).toBe(false);
  });

  it('answers with more than the cap: E_HOST_MESSAGE_TOO_LARGE, and the host lives on', async () => {
    const { driver } = await hostile([], { maxMessageBytes: 64 * 1024 });
    await expect(driver.execute_tool('attempt', { what: 'big', size: 100_000 })).toThrowWithCode('E_HOST_MESSAGE_TOO_LARGE');
    expect(await driver.execute_tool('attempt', { what: 'echo', value: 'alive' })).toBe('alive');
  });
});
