/** README's snapshot section runs as written, and publishing the shipped index says how to publish a copy of one's own. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/index-data.js';

const BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url));
const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

/** The commands of the first sh block after `heading`, continuation lines joined, comments dropped. */
function commandsUnder(heading: string): string[] {
  const section = README.slice(README.indexOf(heading));
  const block = section.slice(section.indexOf('```sh\n') + 6, section.indexOf('\n```', section.indexOf('```sh\n')));
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function mcsPkg(cwd: string, cache: string, args: string[]) {
  const run = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', XDG_CACHE_HOME: cache, NO_PROXY: '127.0.0.1' }, timeout: 60_000 });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("README's signed snapshot examples", () => {
  it('run as written, in an empty folder, each exiting 0 (the https update aside: tests stay on loopback)', () => {
    const dir = tempDir('mcs-readme-snapshot-');
    const cache = join(dir, '.cache');
    const commands = commandsUnder('### Signed index snapshots');
    expect(commands.some((c) => c.startsWith('mcs-pkg index publish --index my-index '))).toBe(true);
    for (const command of commands) {
      if (command.includes('https://')) continue;
      const words = command.split(/\s+/);
      if (words[0] === 'mkdir') {
        mkdirSync(join(dir, words.at(-1)!), { recursive: true });
        continue;
      }
      expect(words[0], command).toBe('mcs-pkg');
      const run = mcsPkg(dir, cache, words.slice(1));
      expect(run.code, `${command}\n${run.stdout}${run.stderr}`).toBe(0);
    }
    expect(existsSync(join(dir, 'snapshot/snapshot.json'))).toBe(true);
    expect(existsSync(join(dir, 'root2.json'))).toBe(true);
  });

  it('publishing without --index (the shipped index) fails E_LOG_UNSIGNED and says to copy it to a folder of ones own with its root and pass --index', () => {
    const dir = tempDir('mcs-readme-embedded-');
    const cache = join(dir, '.cache');
    expect(mcsPkg(dir, cache, ['index', 'keygen', '--out', 'alice.pem']).code).toBe(0);
    expect(mcsPkg(dir, cache, ['index', 'root', '--out', 'root.json', '--member', 'alice.pem', '--threshold', '1', '--sign', 'alice.pem']).code).toBe(0);
    const run = mcsPkg(dir, cache, ['index', 'publish', '--out', 'snapshot/', '--root', 'root.json', '--key', 'alice.pem', '--snapshot-version', '1', '--json']);
    expect(run.code).toBe(1);
    const error = (JSON.parse(run.stdout) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('E_LOG_UNSIGNED');
    expect(error.message).toMatch(/cp -r \S+index-data my-index/);
    expect(error.message).toContain('my-index/root.json');
    expect(error.message).toContain('--index my-index');
    expect(existsSync(join(dir, 'snapshot'))).toBe(false);
  });
});
