/**
 * A flag that takes one value, given twice, is a usage error naming the flag
 * and the command's --help, whichever parser reads the call: checked for
 * every such option in the command table, so one added later is covered too.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.js';
import { COMMANDS, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from '../../../cli/spec.js';

const BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url));

function callOf(spec: CommandSpec): string[] {
  return [...spec.path, ...spec.positionals.filter((p) => p.required).map(() => 'x')];
}

function value(option: OptionSpec, n: number): string {
  if (option.type === 'number') return String(n + 2);
  return option.choices ? option.choices[n % option.choices.length]! : `v${n}`;
}

const single = COMMANDS.flatMap((spec) =>
  Object.entries({ ...GLOBAL_OPTIONS, ...spec.options })
    .filter(([, option]) => option.type !== 'boolean' && !option.repeatable)
    .map(([flag, option]) => [`${spec.path.join(' ')} --${flag}`, spec, flag, option] as [string, CommandSpec, string, OptionSpec]),
);

function capture(): { streams: Parameters<typeof main>[1]; stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { streams: { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: {} }, stdout: () => out, stderr: () => err };
}

describe('an option that takes one value, given twice', () => {
  it('exist in the table', () => {
    expect(single.length).toBeGreaterThan(30);
  });

  it.each(single)('%s: E_USAGE naming the flag and the command\'s --help, exit 2', async (_, spec, flag, option) => {
    for (const argv of [
      [...callOf(spec), `--${flag}`, value(option, 0), `--${flag}`, value(option, 1)],
      [...callOf(spec), `--${flag}=${value(option, 0)}`, `--${flag}=${value(option, 1)}`],
      [...callOf(spec), `--${flag}`, value(option, 0), `--${flag}`, value(option, 0), '--json'],
    ]) {
      const io = capture();
      expect(await main(argv, io.streams)).toBe(2);
      if (argv.includes('--json')) {
        expect(JSON.parse(io.stdout()).error).toMatchObject({ code: 'E_USAGE', message: expect.stringContaining(`--${flag} given twice`), details: { flag: `--${flag}` } });
      } else {
        expect(io.stderr()).toMatch(new RegExp(`^error E_USAGE: --${flag} given twice`));
        expect(io.stderr()).toContain(`Run mcs-pkg ${spec.path.join(' ')} --help for usage.`);
      }
    }
  });

  it('through the real binary: the reviewed calls exit 2 with E_USAGE, never E_INTERNAL or a joined path', () => {
    for (const [argv, flag] of [
      [['search', 'csv', '--index', 'a', '--index', 'b'], '--index'],
      [['cache', 'ls', '--cache-dir', 'a', '--cache-dir', 'b'], '--cache-dir'],
      [['load', 'csv', '--config', '{}', '--config', '{}'], '--config'],
      [['index', 'quarantine', 'x', '--reason', 'x', '--reason', 'y'], '--reason'],
      [['index', 'yank', 'x@1.0.0', '--key', 'a', '--key', 'b'], '--key'],
      [['verify', 'x', '--trusted-root', 'shipped', '--trusted-root', 'shipped'], '--trusted-root'],
      [['update', '--root', 'a', '--root', 'b'], '--root'],
    ] as const) {
      const result = spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^error E_USAGE: ${flag} given twice`));
      expect(result.stderr).not.toContain('E_INTERNAL');
    }
  });
});
