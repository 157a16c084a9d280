/**
 * The gated loader's cost: a warm load (cached, re-hashed, imported) against
 * a plain import() of the same files, each in a fresh process so both pay a
 * real module evaluation; and cold loads of a ~100 kB driver from the
 * loopback registry, verification included.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { loadDriver, type LoadOptions } from '../src/loader/load.js';
import { readTarball } from '../src/tar/read.js';
import { fixtureMcs, packFixtureDriver } from '../test/helpers/driver-packages.js';
import { startFixtureRegistry } from '../test/helpers/fixture-registry.js';
import { createRegistryKey, keysResponse, startMockSigstore } from '../test/helpers/mock-sigstore.js';
import { publishSigned } from '../test/helpers/publish.js';
import { makeTarball } from '../test/helpers/tarball.js';

const RUNS = 10;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

type CsvTools = { execute_tool(name: string, args: Record<string, unknown>): unknown; meta: unknown };

/** The driver host: spawn to ready, round trip against the same call in process, throughput, memory of an idle host. */
async function hostFigures(hosted: LoadOptions, inProcess: LoadOptions, kB: number): Promise<void> {
  const spawnToReady: number[] = [];
  const warmLoad: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let spawned = 0;
    let ready = 0;
    const t = performance.now();
    const loaded = await loadDriver('csv', { ...hosted, onEvent: (e) => {
      if (e.phase === 'spawn') spawned = performance.now();
      if (e.phase === 'ready') ready = performance.now();
    } });
    warmLoad.push(performance.now() - t);
    spawnToReady.push(ready - spawned);
    await loaded.close();
  }
  const host = await loadDriver('csv', hosted);
  const local = await loadDriver('csv', inProcess);
  const roundTrip = async (driver: CsvTools, n: number) => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await driver.execute_tool('list_csv_files', {});
      times.push(performance.now() - t);
    }
    return median(times);
  };
  await roundTrip(host.driver as unknown as CsvTools, 200);
  await roundTrip(local.driver as unknown as CsvTools, 200);
  const viaHost = await roundTrip(host.driver as unknown as CsvTools, 2000);
  const direct = await roundTrip(local.driver as unknown as CsvTools, 2000);
  const calls = 10_000;
  const t = performance.now();
  for (let i = 0; i < calls / 100; i++) await Promise.all(Array.from({ length: 100 }, () => (host.driver as unknown as CsvTools).execute_tool('list_csv_files', {})));
  const perSecond = calls / ((performance.now() - t) / 1000);
  const pid = host.receipt.host.isolation === 'process' ? host.receipt.host.pid : 0;
  let rssKb = NaN;
  try {
    rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    // not Linux
  }
  const layers = host.receipt.host.isolation === 'process' ? host.receipt.host.layers.filter((l) => l.applied).map((l) => l.layer).join(', ') : '';
  await host.close();
  console.log(`\n(f) driver host, the same ${kB} kB driver, warm cache, medians of ${RUNS} (layers applied here: ${layers})`);
  console.log(`  spawn to ready (fresh process: re-hash, import)     ${median(spawnToReady).toFixed(1)} ms (target <= 80 ms)`);
  console.log(`  warm load through the host (resolve + spawn)        ${median(warmLoad).toFixed(1)} ms`);
  console.log(`  execute_tool round trip, host / in process (p50)    ${viaHost.toFixed(3)} / ${direct.toFixed(3)} ms: overhead ${(viaHost - direct).toFixed(3)} ms (target <= 0.3 ms)`);
  console.log(`  small calls through one host, 100 in flight         ${Math.round(perSecond)} calls/s (target 10,000)`);
  console.log(`  memory of an idle host (RSS)                        ${Number.isNaN(rssKb) ? 'n/a' : `${(rssKb / 1024).toFixed(1)} MB`}`);
}

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
