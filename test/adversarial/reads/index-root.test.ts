/**
 * The index root validate reads (root.json in the index folder, or --root)
 * is a regular file; anything else (a device, a FIFO) is a problem of the
 * index, E_INDEX_IO naming the file, exit 1 — not a usage error.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedIndexDir } from '../../../src/config.js';
import { removeDir, tempDir } from '../../helpers/index-data.js';
import { runCli } from '../../helpers/cli.js';

let work: string;
let indexDir: string;

beforeAll(() => {
  work = tempDir('mcs-adv-root-read-');
  indexDir = join(work, 'index');
  cpSync(embeddedIndexDir(), indexDir, { recursive: true });
});
afterAll(() => removeDir(work));

async function validateProblems(extra: string[]): Promise<{ code: number | null; problems: Array<{ code: string; message: string }> }> {
  const run = await runCli(['index', 'validate', '--index', indexDir, '--json', ...extra], { HOME: work, MCS_PKG_CACHE: join(work, 'cache') });
  return { code: run.code, problems: (JSON.parse(run.stdout) as { problems: Array<{ code: string; message: string }> }).problems };
}

describe('a non-regular index root', () => {
  it.each([
    ['root.json linked to a character device', () => symlinkSync('/dev/null', join(indexDir, 'root.json')), 'character device'],
    ['root.json a FIFO', () => execFileSync('mkfifo', [join(indexDir, 'root.json')]), 'FIFO'],
  ])('%s: E_INDEX_IO naming it, exit 1, no hang', async (_, make, kind) => {
    make();
    try {
      const { code, problems } = await validateProblems([]);
      expect(code).toBe(1);
      expect(problems).toEqual([expect.objectContaining({ code: 'E_INDEX_IO', message: expect.stringContaining(join(indexDir, 'root.json')) })]);
      expect(problems[0]!.message.toLowerCase()).toContain(kind.toLowerCase());
    } finally {
      rmSync(join(indexDir, 'root.json'), { force: true });
    }
  });

  it('--root /dev/zero: E_INDEX_IO, exit 1', async () => {
    const { code, problems } = await validateProblems(['--root', '/dev/zero']);
    expect(code).toBe(1);
    expect(problems).toEqual([expect.objectContaining({ code: 'E_INDEX_IO', message: expect.stringContaining('/dev/zero') })]);
  });
});
