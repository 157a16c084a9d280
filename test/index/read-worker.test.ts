/**
 * Large full builds read index-data in a worker thread (compiled package
 * only). The result must be the database reading in-thread gives, and a bad
 * file must fail the build with the same coded error.
 */
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticIndex } from '../../bench/generate.js';
import { READ_WORKER_MIN_FILES, rowBatches } from '../../src/index/build.js';
import { listSources } from '../../src/index/sources.js';
import { openIndex } from '../../src/index/store.js';
import { removeDir, tempDir } from '../helpers/index-data.js';

const DIST = fileURLToPath(new URL('../../dist/src/index/', import.meta.url));
const COUNT = READ_WORKER_MIN_FILES + 200;
const QUERIES = ['csv', 'mail reads', 'postgres', 'invoice pdf'];
let work: string;
let indexDir: string;

/** Opens the index in a child process on dist/ (where the worker exists); prints what it found, or the error. */
function openInChild(cacheDir: string): Promise<{ worker: boolean; packages?: number; results?: string[][]; error?: { code: string; message: string } }> {
  const script = `
    const { rowBatches } = await import(${JSON.stringify(join(DIST, 'build.js'))});
    const { listSources } = await import(${JSON.stringify(join(DIST, 'sources.js'))});
    const { openIndex } = await import(${JSON.stringify(join(DIST, 'store.js'))});
    const indexDir = ${JSON.stringify(indexDir)};
    const worker = Symbol.asyncIterator in rowBatches(indexDir, listSources(indexDir).sources);
    try {
      const index = await openIndex({ indexDir, cacheDir: ${JSON.stringify(cacheDir)} });
      const results = ${JSON.stringify(QUERIES)}.map((q) => index.search(q).results.map((r) => r.name));
      console.log(JSON.stringify({ worker, packages: index.status.packages, results }));
      index.close();
    } catch (error) {
      console.log(JSON.stringify({ worker, error: { code: error.code, message: error.message } }));
    }`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH ?? '' }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

beforeAll(() => {
  work = tempDir('mcs-read-worker-');
  indexDir = join(work, 'index-data');
  writeSyntheticIndex(indexDir, COUNT);
});
afterAll(() => removeDir(work));

describe('full build of a large folder', () => {
  it('reads in a worker from dist/ and in-thread from sources, into the same index', async () => {
    expect(Symbol.asyncIterator in rowBatches(indexDir, listSources(indexDir).sources)).toBe(false); // sources: no worker file
    const child = await openInChild(join(work, 'cache-worker'));
    expect(child).toMatchObject({ worker: true, packages: COUNT });
    const index = await openIndex({ indexDir, cacheDir: join(work, 'cache-thread') });
    try {
      expect(index.status.packages).toBe(COUNT);
      expect(child.results).toEqual(QUERIES.map((q) => index.search(q).results.map((r) => r.name)));
    } finally {
      index.close();
    }
  });

  it('fails on a bad file with the same coded error either way, and makes nothing current', async () => {
    const npm = readdirSync(join(indexDir, 'npm')).sort();
    const bad = join(indexDir, 'npm', npm[Math.floor(npm.length / 2)]!);
    writeFileSync(bad, '{"name": "half a file"');
    const child = await openInChild(join(work, 'cache-bad'));
    expect(child.worker).toBe(true);
    expect(child.error).toMatchObject({ code: 'E_JSON_SYNTAX' });
    expect(child.error!.message).toContain(bad);
    const inThread = await openIndex({ indexDir, cacheDir: join(work, 'cache-bad-thread') }).then(
      () => null,
      (error: { code: string; message: string }) => ({ code: error.code, message: error.message }),
    );
    expect(inThread).toEqual(child.error);
    expect(readdirSync(join(work, 'cache-bad'), { recursive: true }).some((name) => String(name).endsWith('CURRENT'))).toBe(false);
  });
});
