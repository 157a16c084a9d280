/** The local playground: it serves signed drivers on loopback, and the walk-through it prints runs as printed with the real CLI. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/index-data.js';

const BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url));
const PLAYGROUND = fileURLToPath(new URL('../../../dist/examples/playground.js', import.meta.url));

/** Splits a printed command line into words, honouring single and double quotes. */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

describe('npm run playground', () => {
  it('prints --registry and --trusted-root flags and a walk-through that runs as printed (add, label, publish, update, load), then stops on SIGINT', async () => {
    const child = spawn(process.execPath, [PLAYGROUND, '--timeout', '240'], { env: { ...process.env, NO_PROXY: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!out.includes('Ctrl-C') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const flags = /^flags: --registry (http:\/\/127\.0\.0\.1:\d+\/?) --trusted-root (\S+)$/m.exec(out);
      expect(flags, out).not.toBeNull();
      expect(existsSync(flags![2]!)).toBe(true);
      const steps = out.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.replace(/\s+#.*$/, '').trim());
      expect(steps.some((s) => s.startsWith('mcs-pkg load csv'))).toBe(true);
      const dir = tempDir('mcs-playground-walk-');
      const env = { PATH: process.env.PATH ?? '', NO_PROXY: '127.0.0.1', XDG_CACHE_HOME: join(dir, 'cache') };
      for (const step of steps) {
        const argv = words(step);
        if (argv[0] === 'export') continue; // the env above
        if (argv[0] === 'mkdir') {
          mkdirSync(join(dir, argv[1]!));
          continue;
        }
        expect(argv[0], step).toBe('mcs-pkg');
        const run = spawnSync(process.execPath, [BIN, ...argv.slice(1)], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
        expect(run.status, `${step}\n${run.stdout}${run.stderr}`).toBe(0);
        if (argv[1] === 'load') expect(run.stdout).toContain('mcs-driver-csv');
      }
      expect(existsSync(join(dir, 'my-index/npm/mcs-driver-csv.json'))).toBe(true);
      expect(existsSync(join(dir, 'snapshot/snapshot.json'))).toBe(true);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 240_000);
});
