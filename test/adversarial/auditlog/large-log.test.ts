/**
 * A long audit log is read a line at a time: a 100 MB log validates in
 * bounded memory (measured in a child process), and a record line over the
 * cap, a log over its size limit, or a log that is not a regular file are
 * refused with a code instead of being read whole.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { validateIndexDir } from '../../../src/index/build.js';
import { initLog } from '../../../src/maintain/edit.js';
import { LOG_FILE, appendLines, type LogRecord } from '../../../src/maintain/log.js';
import { scanLogFile } from '../../../src/maintain/log-file.js';
import { npmDriver, removeDir, tempDir, writeEntry } from '../../helpers/index-data.js';

const BUILD = fileURLToPath(new URL('../../../dist/src/index/build.js', import.meta.url));
let dir: string;

beforeAll(() => {
  dir = tempDir('mcs-large-log-');
});
afterAll(() => removeDir(dir));

/** An index whose log holds `megabytes` of quarantine holds set and lifted, each with a long reason; the entry ends as the log says. */
function indexWithLog(name: string, megabytes: number): string {
  const index = join(dir, name);
  writeEntry(index, npmDriver('mcs-driver-rest'));
  initLog(index, { by: 'alice', why: 'start' });
  const file = join(index, LOG_FILE);
  const opening = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  let last = opening[opening.length - 1]!;
  let seq = opening.length;
  const why = 'r'.repeat(2000);
  while (statSync(file).size < megabytes * 1024 * 1024) {
    const batch: Array<Omit<LogRecord, 'seq' | 'prev'>> = [];
    for (let i = 0; i < 500; i++) {
      const on = i % 2 === 0;
      batch.push({ at: '2026-12-01T00:00:00.000Z', by: 'alice', why, package: 'npm:mcs-driver-rest', field: 'quarantine', before: on ? null : why, after: on ? why : null });
    }
    const text = appendLines(last, seq, batch);
    appendFileSync(file, text.map((l) => l + '\n').join(''));
    last = text[text.length - 1]!;
    seq += text.length;
  }
  return index;
}

it('validates a 100 MB log in bounded memory (a child process, under 200 MB resident)', () => {
  const index = indexWithLog('big', 100);
  expect(statSync(join(index, LOG_FILE)).size).toBeGreaterThan(100 * 1024 * 1024);
  const script = `const { validateIndexDir } = await import(${JSON.stringify(BUILD)}); const report = validateIndexDir(${JSON.stringify(index)}); console.log(JSON.stringify({ problems: report.problems.map((p) => p.code), maxRssKb: process.resourceUsage().maxRSS }));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  expect(child.stderr).toBe('');
  const result = JSON.parse(child.stdout) as { problems: string[]; maxRssKb: number };
  expect(result.problems).toEqual([]);
  expect(result.maxRssKb).toBeLessThan(200 * 1024);
}, 180_000);

it('refuses a record line over the cap, and a log over its size limit, with E_LOG_TOO_LARGE', () => {
  const index = indexWithLog('long-line', 0);
  const file = join(index, LOG_FILE);
  appendFileSync(file, `{"x":"${'a'.repeat(3 * 1024 * 1024)}"}\n`);
  const problems = validateIndexDir(index).problems;
  expect(problems.map((p) => p.code)).toEqual(['E_LOG_TOO_LARGE']);
  expect(problems[0]!.message).toMatch(/a record over the limit of 1048576 bytes/);
  const small = indexWithLog('capped', 0);
  expect(() => scanLogFile(join(small, LOG_FILE), { maxBytes: 1000 })).toThrowWithCode('E_LOG_TOO_LARGE');
});

it('refuses a log that is not a regular file (a FIFO) without waiting on it', () => {
  const index = join(dir, 'fifo');
  writeEntry(index, npmDriver('mcs-driver-rest'));
  expect(spawnSync('mkfifo', [join(index, LOG_FILE)]).status).toBe(0);
  expect(validateIndexDir(index).problems.map((p) => p.code)).toEqual(['E_INDEX_IO']);
});
