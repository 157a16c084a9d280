/** Helpers the benchmarks share: percentiles, millisecond formatting, opening a prebuilt database. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openIndex, storeDirFor, type McsIndex } from '../src/index/store.js';

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

/** Opens a prebuilt database file by pointing a store folder's CURRENT at it. */
export async function openIndexAt(file: string, indexDir: string, cacheDir: string): Promise<McsIndex> {
  const storeDir = storeDirFor(indexDir, cacheDir);
  mkdirSync(storeDir, { recursive: true });
  const name = `index-bench-${Date.now().toString(36)}.sqlite`;
  renameSync(file, join(storeDir, name));
  writeFileSync(join(storeDir, 'CURRENT'), name + '\n');
  return openIndex({ indexDir, cacheDir, refresh: false });
}
