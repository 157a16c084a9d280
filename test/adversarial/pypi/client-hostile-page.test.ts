/**
 * A project page is attacker-sized input: 32 MiB and 100,000 files are
 * allowed. Choosing the newest version (verify pypi:, index add and sync)
 * lists every version's files by scanning every file's name once per
 * version, so the work grows with versions x files: a 600 KB page of 4,000
 * one-file versions keeps the CPU busy for about a minute, a page at the
 * caps for hours, and no request deadline applies to it. The work must stay
 * near-linear in the page's size. It runs in a child process (a busy loop
 * would also stall this test runner) from the built dist/ (npm run build).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const client = join(process.cwd(), 'dist', 'src', 'pypi', 'client.js');

/** toPypiProject and newest() over a page of `n` versions of one wheel each, in a child given `limitMs`. */
function chooseNewest(n: number, limitMs: number): { status: number | null; signal: NodeJS.Signals | null; stdout: string } {
  const program = `
    const { toPypiProject, PypiClient } = await import(${JSON.stringify(client)});
    const files = Array.from({ length: ${n} }, (_, i) => ({ filename: 'big-1.' + i + '-py3-none-any.whl', url: '/files/' + i + '.whl', hashes: { sha256: 'a'.repeat(64) } }));
    const page = toPypiProject({ meta: { 'api-version': '1.1' }, name: 'big', files }, 'big', 'http://127.0.0.1:1/simple/big/');
    process.stdout.write(String(new PypiClient({ indexUrl: 'http://127.0.0.1:1/simple/' }).newest(page)));
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', program], { encoding: 'utf8', timeout: limitMs, killSignal: 'SIGKILL' });
  return { status: run.status, signal: run.signal, stdout: run.stdout };
}

describe('a project page with many versions', () => {
  it('finds the newest of 4,000 one-file versions (a 600 KB page) in well under 20 s', () => {
    // linear work here takes a fraction of a second even on a loaded machine; the quadratic scan takes about a minute
    const run = chooseNewest(4000, 20_000);
    expect(run.signal, 'killed after 20 s: choosing a version is quadratic in the page size').toBeNull();
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('1.3999');
  }, 30_000);
});
