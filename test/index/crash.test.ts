/**
 * Crash safety with real processes: a child opens the index and is killed
 * with SIGKILL while it writes. The index it leaves must open and serve the
 * data from before, and the next open must finish the job.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openIndex, storeDirFor } from '../../src/index/store.js';
import { syntheticEntry, writeSyntheticIndex } from '../../bench/generate.js';
import { npmDriver, removeDir, tempDir, writeEntry, writeIndex } from '../helpers/index-data.js';

const CHILD = fileURLToPath(new URL('../helpers/open-index-child.mjs', import.meta.url));
const DIST_INDEX = fileURLToPath(new URL('../../dist/src/index.js', import.meta.url));

let indexDir: string;
let cacheDir: string;

beforeEach(async () => {
  indexDir = tempDir('mcs-crash-index-');
  cacheDir = tempDir('mcs-crash-cache-');
  writeIndex(indexDir, [npmDriver('mcs-driver-csv', { description: 'the original csv entry' }), npmDriver('mcs-driver-rest')]);
  (await openIndex({ indexDir, cacheDir })).close();
});

afterEach(() => {
  removeDir(indexDir);
  removeDir(cacheDir);
});

/** Runs the child until it reports `phase`, then kills it with SIGKILL; resolves with what it printed. */
function killDuring(phase: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, DIST_INDEX, indexDir, cacheDir, '--stall'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(`progress ${phase}`)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child was not killed mid-write (exit ${code}): ${out}${err}`));
      else resolve(out);
    });
  });
}

function current(): string {
  return readFileSync(join(storeDirFor(indexDir, cacheDir), 'CURRENT'), 'utf8').trim();
}

describe('a process killed while it writes the index', () => {
  it('mid full build: the previous database stays current and usable, and the next open rebuilds', async () => {
    writeSyntheticIndex(indexDir, 3000);
    const before = current();
    const printed = await killDuring('index');
    expect(printed).not.toContain('done');
    expect(current()).toBe(before);
    const storeDir = storeDirFor(indexDir, cacheDir);
    expect(readdirSync(storeDir).some((name) => name.endsWith('.sqlite.partial'))).toBe(true);

    const old = await openIndex({ indexDir, cacheDir, refresh: false });
    expect(old.status.packages).toBe(2);
    expect(old.search('original').results.map((r) => r.name)).toEqual(['mcs-driver-csv']);
    old.close();

    const fresh = await openIndex({ indexDir, cacheDir });
    expect(fresh.status).toMatchObject({ action: 'built', packages: 3002 });
    fresh.close();
    expect(readdirSync(storeDir).some((name) => name.endsWith('.sqlite.partial'))).toBe(false);
  });

  it('mid incremental update: the open transaction is rolled back and the old rows are intact', async () => {
    const changed = writeEntry(indexDir, npmDriver('mcs-driver-csv', { description: 'an edit that never committed' }));
    for (let i = 0; i < 50; i++) writeEntry(indexDir, syntheticEntry(i));
    const later = new Date(Date.now() + 5000);
    utimesSync(changed, later, later);
    const before = current();
    await killDuring('index');
    expect(current()).toBe(before);

    const old = await openIndex({ indexDir, cacheDir, refresh: false });
    expect(old.status.packages).toBe(2);
    expect(old.search('original').results.map((r) => r.name)).toEqual(['mcs-driver-csv']);
    expect(old.search('never committed').results).toEqual([]);
    old.close();

    const fresh = await openIndex({ indexDir, cacheDir });
    expect(fresh.status).toMatchObject({ action: 'updated', packages: 52 });
    expect(fresh.search('never committed').results.map((r) => r.name)).toEqual(['mcs-driver-csv']);
    fresh.close();
  });
});
