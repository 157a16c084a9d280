/**
 * A warm load of a Python driver re-hashes every unpacked file against the
 * entry's manifest (.mcs-files.json), but nothing binds that manifest to the
 * wheel that was verified: the wheel's bytes are not kept and no digest of
 * the manifest is recorded. Whoever can write to the cache (another process
 * of this user, a Python driver run without bubblewrap) changes a module
 * and the manifest line for it together, and the next warm load runs the
 * changed code. npm entries are bound (the manifest digest is derived again
 * from the verified tarball); a wheel entry must be as well.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST_FILE, PACKAGE_DIR } from '../../../src/loader/cache.js';
import { loadDriver } from '../../../src/loader/load.js';
import '../../helpers/matchers.js';
import { CSVCHAT, startPythonWorld, type PythonWorld } from '../../helpers/python-drivers.js';

let world: PythonWorld;

beforeAll(async () => {
  world = await startPythonWorld('mcs-pypi-warm-tamper-');
}, 120_000);

afterAll(async () => {
  await world?.close();
});

describe('a warm Python driver whose cached wheel and manifest were changed together', () => {
  it('is refused with E_CACHE_TAMPERED before the changed code runs', async () => {
    const cache = join(world.work, 'cache');
    const cold = await loadDriver(`pypi:${CSVCHAT}`, world.options(cache));
    const wheels = (cold.receipt as unknown as { python: { wheels: Array<{ name: string; path: string }> } }).python.wheels;
    await cold.close();
    const core = wheels.find((w) => w.name === 'mcs-driver-core')!;
    const entryDir = join(core.path, '..');
    expect(core.path).toBe(join(entryDir, PACKAGE_DIR));

    // rewrite one module and its manifest line consistently (sha512 and size), as a local attacker would
    const module = 'mcs/driver/core/__init__.py';
    const path = join(core.path, module);
    // the sandbox shows the driver no writable place the test can see, so the changed code announces itself by failing the import
    const code = `${readFileSync(path, 'utf8')}\nraise RuntimeError("TAMPERED CODE RAN")\n`;
    chmodSync(entryDir, 0o755);
    chmodSync(join(core.path, 'mcs/driver/core'), 0o755);
    chmodSync(path, 0o644);
    writeFileSync(path, code);
    const manifestPath = join(entryDir, MANIFEST_FILE);
    chmodSync(manifestPath, 0o644);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: Array<{ path: string; sha512: string; size: number }> };
    const line = manifest.files.find((f) => f.path === module)!;
    line.sha512 = createHash('sha512').update(code).digest('hex');
    line.size = Buffer.byteLength(code);
    writeFileSync(manifestPath, JSON.stringify(manifest));
    for (const [p, mode] of [[path, 0o444], [manifestPath, 0o444], [join(core.path, 'mcs/driver/core'), 0o555], [entryDir, 0o555]] as const) chmodSync(p, mode);

    const warm = loadDriver(`pypi:${CSVCHAT}`, world.options(cache));
    const outcome = await warm.then(async (loaded) => {
      await loaded.close();
      return 'loaded';
    }, (error: unknown) => error);
    expect(String((outcome as Error).message ?? outcome)).not.toContain('TAMPERED CODE RAN');
    expect(outcome).toThrowWithCode('E_CACHE_TAMPERED');
  }, 120_000);
});
