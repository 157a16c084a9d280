/**
 * The escapes fixture driver (test/fixtures/drivers/host/escapes) published
 * under a name with the permission tags a test needs, and load options for
 * the release world it is published in.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadOptions } from '../../src/loader/load.js';
import type { Permission } from '../../src/manifest/types.js';
import { fixtureMcs, packFixtureDriver } from './driver-packages.js';
import { publishSigned, type ReleaseWorld } from './publish.js';

export async function publishEscapes(world: ReleaseWorld, indexDir: string, name: string, permissions: Permission[]): Promise<void> {
  const version = '1.0.0';
  const mcs = fixtureMcs('host/escapes', version);
  // one fixture under several names: each gets its own driver id, as the index requires
  (mcs.drivers[0]!.meta as { id: string }).id = randomUUID();
  await publishSigned(
    { registry: world.registry, sigstore: world.sigstore, key: world.key, indexDir, repository: 'acme/drivers' },
    { name, version, tarball: packFixtureDriver('host/escapes', { name, version, mcs }), drivers: mcs.drivers as never, permissions },
  );
}

export function worldLoadOptions(world: ReleaseWorld, indexDir: string, extra: LoadOptions = {}): LoadOptions {
  const cache = join(world.work, 'cache');
  return { index: { indexDir, cacheDir: cache }, cacheDir: join(cache, 'loader'), registry: { registry: world.registry.url }, trustedRoot: world.rootFile, ...extra };
}

/** Whether a process is still there (a host child after close, a crash, a timeout); a zombie waiting to be reaped is not. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) state ...": Z is a zombie, already dead
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

/** Waits until a process is gone, up to `timeoutMs`; true when it is. */
export async function gone(pid: number, timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
