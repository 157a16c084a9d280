/** The real CLI, run as a user runs it, with every network default pointed at a loopback port that is closed. */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url));

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** A loopback port nothing listens on: bound once by the OS, then closed, so a connection there is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Runs `mcs-pkg verify ARGS` asynchronously (loopback servers of the test
 * keep answering), with HOME and the cache in `home`, npm's registry at
 * `deadUrl` and no proxy: only what the arguments name can be reached.
 */
export function runVerify(args: string[], home: string, deadUrl: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, 'verify', ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: home, MCS_PKG_CACHE: join(home, 'cache'), npm_config_registry: deadUrl, NO_PROXY: '127.0.0.1' }, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}
