/**
 * The gated loader's cost: a warm load (cached, re-hashed, imported) against
 * a plain import() of the same files, each in a fresh process so both pay a
 * real module evaluation; and cold loads of a ~100 kB driver from the
 * loopback registry, verification included.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { loadDriver } from '../src/loader/load.js';
import { median } from './common.js';
import { hostFigures } from './host.js';
import { readTarball } from '../src/tar/read.js';
import { fixtureMcs, packFixtureDriver } from '../test/helpers/driver-packages.js';
import { startFixtureRegistry } from '../test/helpers/fixture-registry.js';
import { createRegistryKey, keysResponse, startMockSigstore } from '../test/helpers/mock-sigstore.js';
import { publishSigned } from '../test/helpers/publish.js';
import { makeTarball } from '../test/helpers/tarball.js';

const RUNS = 10;

export async function loaderFigures(work: string): Promise<void> {
  const [registry, sigstore] = await Promise.all([startFixtureRegistry(), startMockSigstore()]);
  try {
    const key = createRegistryKey();
    registry.setKeys(keysResponse([{ key }]));
    const indexDir = join(work, 'load-index');
    // the CSV fixture driver, padded with a data file to about 100 kB packed
    const base = packFixtureDriver('csv', { name: 'mcs-driver-csv', version: '1.0.0' });
    const files = readTarball(base).filter((e) => e.type === 'file').map((e) => ({ path: e.path, content: e.data! }));
    const tarball = makeTarball([...files, { path: 'package/assets/lookup.txt', content: randomBytes(75_000).toString('base64') }]);
    await publishSigned({ registry, sigstore, key, indexDir, repository: 'bench/mcs-driver-csv' }, { name: 'mcs-driver-csv', version: '1.0.0', tarball, drivers: fixtureMcs('csv', '1.0.0').drivers as never, permissions: ['filesystem:read'] });
    const trustedRoot = join(work, 'load-root.json');
    writeFileSync(trustedRoot, JSON.stringify(sigstore.trustedRoot));
    const data = join(work, 'load-data');
    mkdirSync(data, { recursive: true });
    const options = (cache: string) => ({ isolation: 'none' as const, config: { baseDir: data }, index: { indexDir, cacheDir: join(work, 'load-index-cache') }, cacheDir: cache, registry: { registry: registry.url }, trustedRoot });

    const cold: number[] = [];
    let entryFile = '';
    for (let i = 0; i < RUNS + 1; i++) {
      const t = performance.now();
      const { receipt } = await loadDriver('csv', options(join(work, `cold-${i}`)));
      if (i > 0) cold.push(performance.now() - t); // the first run also builds the index database
      entryFile = join(receipt.cachePath, 'index.js');
    }

    const warmCache = join(work, 'cold-1');
    const loadModule = fileURLToPath(new URL('../src/loader/load.js', import.meta.url));
    const warmScript = join(work, 'warm.mjs');
    writeFileSync(warmScript, `const { loadDriver } = await import(${JSON.stringify(loadModule)});
const t = performance.now();
await loadDriver('csv', ${JSON.stringify({ ...options(warmCache), registry: { registry: 'http://127.0.0.1:9/' } })});
console.log(performance.now() - t);`);
    const importScript = join(work, 'import.mjs');
    writeFileSync(importScript, `const t = performance.now();
const m = await import(${JSON.stringify(new URL(`file://${entryFile}`).href)});
new m.default(${JSON.stringify({ baseDir: data })});
console.log(performance.now() - t);`);
    const timeIn = (script: string) => Number(execFileSync(process.execPath, [script], { encoding: 'utf8' }).trim());
    const warm: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      warm.push(timeIn(warmScript));
      plain.push(timeIn(importScript));
    }
    const hashingMs = (tarball.length * 2) / 1e6; // the tarball and the unpacked files, at 1 GB/s
    console.log(`\n(e) gated loader, ${Math.round(tarball.length / 1024)} kB driver from the loopback registry, medians of ${RUNS}`);
    console.log(`  cold load (resolve, fetch, verify, unpack, import)  ${median(cold).toFixed(1)} ms (target <= 150 ms)`);
    console.log(`  warm load (cache re-hashed, import)                 ${median(warm).toFixed(1)} ms`);
    console.log(`  plain import() of the same files                    ${median(plain).toFixed(1)} ms`);
    console.log(`  ratio warm / plain                                  ${(median(warm) / median(plain)).toFixed(2)}x (target <= 1.5x plus hashing, ${hashingMs.toFixed(2)} ms at 1 GB/s)`);
    await hostFigures({ ...options(warmCache), isolation: 'process', grants: { read: [data] } }, options(warmCache), Math.round(tarball.length / 1024));
  } finally {
    await Promise.all([registry.close(), sigstore.close()]);
  }
}
