/**
 * `npm run bench`: figures measured in one run on this machine, printed as
 * ratios and percentiles (benchmarks are not timed tests).
 *
 *  (a) in-process query latency, p50/p99 of 10 representative queries, at
 *      1k, 100k and 1M packages;
 *  (b) wall time of a `mcs-pkg search csv --json` process against the
 *      embedded index, divided by a bare `node -e ""`;
 *  (c) full build throughput from 100k index-data files, and the cost of an
 *      update after one file changes, as a ratio to the full build;
 *  (d) verification of 200 packages from a loopback registry, as a ratio to
 *      the bare @sigstore/verify calls and hashing, and packages/s;
 *  (e) the gated loader: cold load of a ~100 kB driver, and a warm load
 *      against a plain import() of the same files;
 *  (f) signed index snapshots of the 100k index: publish, and update as a
 *      ratio to plain copies of the same bytes;
 *  (g) verification of 200 PyPI files from a loopback PyPI, as a ratio to
 *      the bare @sigstore/verify call and sha256, and packages/s.
 *
 * Set MCS_BENCH_SIZES=1000,100000 to skip the 1M step.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDatabase, inBatches, type SourcedRow } from '../src/index/build.js';
import { toPackageRow } from '../src/index/rows.js';
import { buildIndex, openIndex, type McsIndex } from '../src/index/store.js';
import { ms, openIndexAt, percentile } from './common.js';
import type { SearchFilters } from '../src/index/search.js';
import { syntheticEntry, writeSyntheticIndex } from './generate.js';
import { loaderFigures } from './load.js';
import { snapshotFigures } from './snapshot.js';
import { verificationFigures } from './verify.js';
import { pypiVerificationFigures } from './pypi.js';

const QUERIES: ReadonlyArray<{ label: string; query: string; filters?: SearchFilters }> = [
  { label: 'csv', query: 'csv' },
  { label: 'mail', query: 'mail' },
  { label: 'postgres', query: 'postgres' },
  { label: 'rest api', query: 'rest api' },
  { label: 'read file', query: 'read file' },
  { label: 'slack message', query: 'slack message' },
  { label: 'name prefix', query: 'mcs-driver-kafka' },
  { label: 'invoice pdf', query: 'invoice pdf' },
  { label: 'sql +verified', query: 'sql', filters: { label: 'verified' } },
  { label: 'network only', query: '', filters: { permission: 'network', capability: 'json' } },
];

const WARMUP = 5;
const RUNS = 50;

function measureQueries(index: McsIndex): { rows: string[]; all: number[] } {
  const rows: string[] = [];
  const all: number[] = [];
  for (const q of QUERIES) {
    const samples: number[] = [];
    let hits = 0;
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const t0 = performance.now();
      hits = index.search(q.query, q.filters ?? {}, { limit: 20 }).results.length;
      const t = performance.now() - t0;
      if (i >= WARMUP) samples.push(t);
    }
    samples.sort((a, b) => a - b);
    all.push(...samples);
    rows.push(`    ${q.label.padEnd(15)} p50 ${ms(percentile(samples, 50)).padStart(6)} ms   p99 ${ms(percentile(samples, 99)).padStart(6)} ms   (${hits} hits)`);
  }
  all.sort((a, b) => a - b);
  return { rows, all };
}

async function queryFigures(work: string, sizes: number[], filesIndex: { n: number; indexDir: string; cacheDir: string } | null): Promise<void> {
  console.log('\n(a) query latency, in process, limit 20, ' + `${RUNS} runs after ${WARMUP} warm-up`);
  for (const n of sizes) {
    let index: McsIndex;
    let note: string;
    if (filesIndex && filesIndex.n === n) {
      index = await openIndex({ indexDir: filesIndex.indexDir, cacheDir: filesIndex.cacheDir, refresh: false });
      note = 'built from index-data files';
    } else {
      // Large sizes are loaded from generated rows through the same writer a build uses, skipping the files.
      const file = join(work, `synthetic-${n}.sqlite`);
      const t0 = performance.now();
      const rows = (function* (): Generator<SourcedRow> {
        for (let i = 0; i < n; i++) yield { row: toPackageRow(syntheticEntry(i), `synthetic/${i}.json`), stamp: { path: `synthetic/${i}.json`, size: 1, mtimeNs: '0', ctimeNs: '0', ino: String(i) } };
      })();
      await buildDatabase(file, inBatches(rows), n, 'synthetic', { busyTimeoutMs: 0 });
      note = `loaded from generated rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
      const indexDir = join(work, `rows-${n}`);
      mkdirSync(indexDir);
      index = await openIndexAt(file, indexDir, join(work, `cache-${n}`));
    }
    const { rows, all } = measureQueries(index);
    console.log(`  ${n.toLocaleString('en')} packages (${note}): all queries p50 ${ms(percentile(all, 50))} ms, p99 ${ms(percentile(all, 99))} ms`);
    for (const row of rows) console.log(row);
    index.close();
  }
}

function wallMs(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const result = spawnSync(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const t = performance.now() - t0;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return t;
}

function startupFigure(work: string): void {
  const bin = fileURLToPath(new URL('../cli/bin.js', import.meta.url));
  const env = { ...process.env, MCS_PKG_CACHE: join(work, 'cli-cache'), NO_COLOR: '1' };
  wallMs(process.execPath, [bin, 'search', 'csv', '--json'], env); // first run builds the embedded index
  const node: number[] = [];
  const cli: number[] = [];
  for (let i = 0; i < 25; i++) {
    node.push(wallMs(process.execPath, ['-e', ''], env));
    cli.push(wallMs(process.execPath, [bin, 'search', 'csv', '--json'], env));
  }
  node.sort((a, b) => a - b);
  cli.sort((a, b) => a - b);
  const [n, c] = [percentile(node, 50), percentile(cli, 50)];
  console.log(`\n(b) process start, median of 25 alternating runs`);
  console.log(`  node -e ""                      ${ms(n)} ms`);
  console.log(`  mcs-pkg search csv --json       ${ms(c)} ms`);
  console.log(`  ratio                           ${(c / n).toFixed(2)}x (target <= 2.5x)`);
}

async function buildFigures(work: string, n: number): Promise<{ n: number; indexDir: string; cacheDir: string }> {
  const indexDir = join(work, `files-${n}`);
  const cacheDir = join(work, `files-cache-${n}`);
  let t0 = performance.now();
  writeSyntheticIndex(indexDir, n);
  const writeSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const status = await buildIndex({ indexDir, cacheDir });
  const fullSeconds = (performance.now() - t0) / 1000;
  const first = syntheticEntry(0);
  const changed = join(indexDir, first.ecosystem, `${first.name}.json`);
  const later = new Date(Date.now() + 5000);
  utimesSync(changed, later, later);
  t0 = performance.now();
  const index = await openIndex({ indexDir, cacheDir });
  const updateSeconds = (performance.now() - t0) / 1000;
  const action = index.status.action;
  index.close();
  console.log(`\n(c) build from ${n.toLocaleString('en')} index-data files (written in ${writeSeconds.toFixed(1)} s)`);
  console.log(`  full build                      ${fullSeconds.toFixed(2)} s = ${Math.round(status.packages / fullSeconds).toLocaleString('en')} packages/s (target >= 50,000/s)`);
  console.log(`  one file changed, then open     ${(updateSeconds * 1000).toFixed(0)} ms (${action}), ${(updateSeconds / fullSeconds).toFixed(4)}x the full build`);
  return { n, indexDir, cacheDir };
}

async function main(): Promise<void> {
  const sizes = (process.env.MCS_BENCH_SIZES ?? '1000,100000,1000000').split(',').map(Number);
  const work = mkdtempSync(join(tmpdir(), 'mcs-bench-'));
  console.log(`mcs-pkg bench on Node ${process.version}, ${sizes.map((s) => s.toLocaleString('en')).join(' / ')} packages; scratch ${work}`);
  try {
    startupFigure(work);
    if (process.env.MCS_BENCH_SKIP_VERIFY !== '1') await verificationFigures(work);
    if (process.env.MCS_BENCH_SKIP_VERIFY !== '1') await pypiVerificationFigures(work);
    if (process.env.MCS_BENCH_SKIP_VERIFY !== '1') await loaderFigures(work);
    const filesIndex = sizes.includes(100_000) ? await buildFigures(work, 100_000) : null;
    if (filesIndex) await snapshotFigures(work, filesIndex.indexDir, filesIndex.n);
    await queryFigures(work, sizes, filesIndex);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
