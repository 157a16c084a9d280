/**
 * `npm run bench:relevance`: how well search finds what people mean, and how
 * fast. On the relevance corpus (MCS_RELEVANCE_CORPUS synthetic drivers,
 * default 5,000, plus the real embedded entries) it runs the judged queries
 * and prints nDCG@10, recall@3 (of the packages graded 2 or 3) and the
 * zero-result rate, overall and per kind of query; then the latency of every
 * judged query on that corpus (p50/p99 overall, per kind, the slowest five),
 * and the same figures, relevance and latency, at the sizes in
 * MCS_RELEVANCE_SIZES (default 100000,1000000; "" skips them; 1M takes
 * minutes to generate; MCS_RELEVANCE_DBS=DIR keeps and reuses them, made
 * by the same schema), built from generated rows of the same generator.
 * MCS_RELEVANCE_VERBOSE=1 prints each query's figures on the corpus.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDatabase, inBatches, type SourcedRow } from '../../src/index/build.js';
import { toPackageRow } from '../../src/index/rows.js';
import { openIndex, type McsIndex } from '../../src/index/store.js';
import { ms, openIndexAt, percentile } from '../common.js';
import { corpusEntry, writeCorpus } from './corpus.js';
import { JUDGMENTS, type Judgment } from './judgments.js';

const RESULTS_JUDGED = 10;
const LATENCY_LIMIT = 20;

interface QueryScore {
  judgment: Judgment;
  ndcg: number;
  recall3: number;
  hits: number;
  top: string[];
  suggestion?: string;
}

function dcg(gains: number[]): number {
  return gains.reduce((sum, grade, i) => sum + (2 ** grade - 1) / Math.log2(i + 2), 0);
}

/** Scores one judged query against the ranked names it returned. */
function score(judgment: Judgment, names: string[], topicOf: Map<string, string>, topicSizes: Map<string, number>): Omit<QueryScore, 'judgment' | 'hits' | 'top'> {
  const grade = (name: string): number => judgment.grades[topicOf.get(name) ?? ''] ?? 0;
  const ideal: number[] = [];
  for (const [topic, g] of Object.entries(judgment.grades).sort((a, b) => b[1] - a[1])) {
    for (let n = topicSizes.get(topic) ?? 0; n > 0 && ideal.length < RESULTS_JUDGED; n--) ideal.push(g);
  }
  const idealDcg = dcg(ideal);
  const relevant = Object.entries(judgment.grades).filter(([, g]) => g >= 2).reduce((n, [topic]) => n + (topicSizes.get(topic) ?? 0), 0);
  const found = names.slice(0, 3).filter((name) => grade(name) >= 2).length;
  return {
    ndcg: idealDcg === 0 ? 0 : dcg(names.slice(0, RESULTS_JUDGED).map(grade)) / idealDcg,
    recall3: relevant === 0 ? 0 : found / Math.min(3, relevant),
  };
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

function relevanceFigures(index: McsIndex, topicOf: Map<string, string>, corpus: string): void {
  const topicSizes = new Map<string, number>();
  for (const topic of topicOf.values()) topicSizes.set(topic, (topicSizes.get(topic) ?? 0) + 1);
  const scores: QueryScore[] = JUDGMENTS.map((judgment) => {
    const result = index.search(judgment.query, {}, { limit: RESULTS_JUDGED });
    const names = result.results.map((r) => r.name);
    const suggestion = (result as { suggestion?: { query?: string } }).suggestion?.query;
    return { judgment, ...score(judgment, names, topicOf, topicSizes), hits: names.length, top: names.slice(0, 3), ...(suggestion ? { suggestion } : {}) };
  });
  const line = (label: string, group: QueryScore[]): string =>
    `  ${label.padEnd(10)} ${String(group.length).padStart(3)} queries   nDCG@10 ${mean(group.map((s) => s.ndcg)).toFixed(3)}   recall@3 ${mean(group.map((s) => s.recall3)).toFixed(3)}   zero-result ${((group.filter((s) => s.hits === 0).length / group.length) * 100).toFixed(1)}%`;
  console.log(`\n(r) relevance of ${JUDGMENTS.length} judged queries, top ${RESULTS_JUDGED}, on the ${corpus}`);
  console.log(line('all', scores));
  for (const kind of [...new Set(JUDGMENTS.map((j) => j.kind))]) console.log(line(kind, scores.filter((s) => s.judgment.kind === kind)));
  if (process.env.MCS_RELEVANCE_VERBOSE === '1' && corpus === 'corpus') {
    for (const s of scores) {
      const topics = s.top.map((n) => `${n} [${topicOf.get(n)}]`).join(', ');
      console.log(`    ${s.judgment.query.padEnd(28)} nDCG ${s.ndcg.toFixed(2)} r@3 ${s.recall3.toFixed(2)} ${String(s.hits).padStart(2)} hits${s.suggestion ? ` (did you mean ${s.suggestion})` : ''}: ${topics}`);
    }
  }
}

interface Timing {
  wall: number;
  cpu: number;
}

function spread(samples: Timing[]): string {
  const wall = samples.map((t) => t.wall).sort((a, b) => a - b);
  const cpu = samples.map((t) => t.cpu).sort((a, b) => a - b);
  return `p50 ${ms(percentile(wall, 50)).padStart(6)} ms   p99 ${ms(percentile(wall, 99)).padStart(6)} ms   (cpu p50 ${ms(percentile(cpu, 50)).padStart(6)} ms, p99 ${ms(percentile(cpu, 99)).padStart(6)} ms)`;
}

/**
 * p50/p99 of every judged query, each run `runs` times after a warm-up:
 * overall, per kind of query, and the slowest five. Wall time, and the CPU
 * time of this process, which other work on a shared machine does not inflate.
 */
function latencyFigures(index: McsIndex, label: string, runs: number): void {
  const perQuery: Array<{ query: string; samples: Timing[]; p99: number }> = [];
  const all: Timing[] = [];
  const byKind = new Map<string, Timing[]>();
  for (const { query, kind } of JUDGMENTS) {
    const samples: Timing[] = [];
    for (let i = 0; i < runs + 3; i++) {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      index.search(query, {}, { limit: LATENCY_LIMIT });
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      if (i >= 3) samples.push({ wall, cpu: (cpu.user + cpu.system) / 1000 });
    }
    all.push(...samples);
    byKind.set(kind, [...(byKind.get(kind) ?? []), ...samples]);
    perQuery.push({ query, samples, p99: percentile(samples.map((t) => t.wall).sort((a, b) => a - b), 99) });
  }
  perQuery.sort((a, b) => b.p99 - a.p99);
  console.log(`  ${label}, ${runs} runs of each query, limit ${LATENCY_LIMIT}`);
  console.log(`    ${'all queries'.padEnd(28)} ${spread(all)}`);
  for (const [kind, samples] of byKind) console.log(`    ${`${kind} queries`.padEnd(28)} ${spread(samples)}`);
  console.log('    slowest:');
  for (const q of perQuery.slice(0, 5)) console.log(`    ${q.query.padEnd(28)} ${spread(q.samples)}`);
}

/**
 * The judged queries on n generated packages. With MCS_RELEVANCE_DBS=DIR the
 * database is taken from DIR/relevance-<n>.sqlite when it is there (a copy:
 * the 1M one takes minutes to generate), and saved there when generated.
 */
async function scaleFigures(work: string, n: number): Promise<void> {
  const file = join(work, `relevance-${n}.sqlite`);
  const saved = process.env.MCS_RELEVANCE_DBS ? join(process.env.MCS_RELEVANCE_DBS, `relevance-${n}.sqlite`) : undefined;
  const t0 = performance.now();
  const topicOf = new Map<string, string>();
  const rows = (function* (): Generator<SourcedRow> {
    for (let i = 0; i < n; i++) {
      const path = `synthetic/${i}.json`;
      const { entry, topic } = corpusEntry(i);
      topicOf.set(entry.name, topic);
      yield { row: toPackageRow(entry, path), stamp: { path, size: 1, mtimeNs: '0', ctimeNs: '0', ino: String(i) } };
    }
  })();
  let origin: string;
  if (saved && existsSync(saved)) {
    for (let i = 0; i < n; i++) {
      const { entry, topic } = corpusEntry(i);
      topicOf.set(entry.name, topic);
    }
    copyFileSync(saved, file);
    origin = `copied from ${saved}`;
  } else {
    await buildDatabase(file, inBatches(rows), n, 'synthetic', { busyTimeoutMs: 0 });
    origin = `loaded from generated rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    if (saved) copyFileSync(file, saved);
  }
  const indexDir = join(work, `rows-${n}`);
  mkdirSync(indexDir);
  const index = await openIndexAt(file, indexDir, join(work, `cache-${n}`));
  try {
    // the same judged queries at scale (synthetic drivers only, so the queries about the embedded entries score lower)
    relevanceFigures(index, topicOf, `${n.toLocaleString('en')} packages`);
    latencyFigures(index, `${n.toLocaleString('en')} packages (${origin})`, n >= 1_000_000 ? 10 : 20);
  } finally {
    index.close();
  }
}

async function main(): Promise<void> {
  const count = Number(process.env.MCS_RELEVANCE_CORPUS ?? 5000);
  const sizes = (process.env.MCS_RELEVANCE_SIZES ?? '100000,1000000').split(',').filter((s) => s.trim() !== '').map(Number);
  const work = mkdtempSync(join(tmpdir(), 'mcs-relevance-'));
  try {
    const indexDir = join(work, 'corpus');
    const topicOf = writeCorpus(indexDir, count);
    const index = await openIndex({ indexDir, cacheDir: join(work, 'cache') });
    console.log(`mcs-pkg relevance bench on Node ${process.version}: corpus of ${index.status.packages.toLocaleString('en')} packages (${count.toLocaleString('en')} synthetic + the embedded index); scale sizes: ${sizes.length > 0 ? sizes.map((s) => s.toLocaleString('en')).join(' / ') : 'none'}`);
    try {
      relevanceFigures(index, topicOf, 'corpus');
      console.log(`\n(l) latency of the ${JUDGMENTS.length} judged queries, in process`);
      latencyFigures(index, `corpus of ${index.status.packages.toLocaleString('en')} packages`, 50);
    } finally {
      index.close();
    }
    for (const n of sizes) await scaleFigures(work, n);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
