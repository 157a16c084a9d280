/**
 * A registry that streams far more than the index pins: the download stops
 * at the pinned size and fails with E_SIZE_MISMATCH, instead of being read
 * up to the general tarball cap (256 MiB).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/registry/client.js';
import { fixtureMcs, packFixtureDriver } from '../../helpers/driver-packages.js';
import { publishSigned, startReleaseWorld, type ReleaseWorld } from '../../helpers/publish.js';
import { errorOf, runCli } from '../../helpers/cli.js';

const GIB = 1024 * 1024 * 1024;
/** What loopback socket buffers can hold beyond what the client read; far below the 256 MiB read before. */
const SOCKET_SLACK = 32 * 1024 * 1024;

let world: ReleaseWorld;
let pinnedSize: number;
const tarballPath = '/mcs-driver-csv/-/mcs-driver-csv-1.0.0.tgz';

beforeAll(async () => {
  world = await startReleaseWorld('mcs-reads-download-');
  const tarball = packFixtureDriver('csv', { name: 'mcs-driver-csv', version: '1.0.0' });
  pinnedSize = tarball.length;
  await publishSigned({ registry: world.registry, sigstore: world.sigstore, key: world.key, indexDir: join(world.work, 'index'), repository: 'acme/drivers' }, { name: 'mcs-driver-csv', version: '1.0.0', tarball, drivers: fixtureMcs('csv', '1.0.0').drivers as never });
  world.registry.misbehave({ kind: 'oversize', path: tarballPath, bytes: GIB });
});
afterAll(async () => world?.close());

it('load stops a 1 GiB answer at the pinned size: E_SIZE_MISMATCH, exit 1, and the server could send little more than the pin', async () => {
  const run = await runCli(['load', 'mcs-driver-csv', '--json', '--index', join(world.work, 'index'), '--cache-dir', join(world.work, 'cache'), '--registry', world.registry.url, '--trusted-root', world.rootFile], { HOME: world.work }, 60_000);
  expect(run.code, run.stderr + run.stdout).toBe(1);
  const error = errorOf(run);
  expect(error.code).toBe('E_SIZE_MISMATCH');
  expect(error.message).toContain(`expected the pinned ${pinnedSize} bytes`);
  expect(world.registry.oversizeBytesSent).toBeGreaterThan(0);
  expect(world.registry.oversizeBytesSent).toBeLessThan(SOCKET_SLACK);
});

it('verify reports the cut-off download as a failed check: E_SIZE_MISMATCH, exit 1', async () => {
  const run = await runCli(['verify', 'mcs-driver-csv@1.0.0', '--json', '--index', join(world.work, 'index'), '--cache-dir', join(world.work, 'cache'), '--registry', world.registry.url, '--trusted-root', world.rootFile], { HOME: world.work }, 60_000);
  expect(run.code, run.stderr + run.stdout).toBe(1);
  const [result] = (JSON.parse(run.stdout) as { results: Array<{ error?: { code: string } }> }).results;
  expect(result?.error?.code).toBe('E_SIZE_MISMATCH');
});

it('the client holds no byte past the pin: a body one byte longer than the pinned size is refused, one of exactly that size is returned', async () => {
  const client = new RegistryClient({ registry: world.registry.url, retries: 0 });
  const packument = await client.packument('mcs-driver-csv');
  world.registry.clearMisbehavior();
  const dist = packument.versions['1.0.0']!.dist;
  expect((await client.tarball('mcs-driver-csv', dist, pinnedSize)).length).toBe(pinnedSize);
  await expect(client.tarball('mcs-driver-csv', dist, pinnedSize - 1)).toThrowWithCode('E_SIZE_MISMATCH');
  // without a pin, the general cap still applies
  expect((await client.tarball('mcs-driver-csv', dist)).length).toBe(pinnedSize);
});
