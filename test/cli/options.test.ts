/**
 * Every option in the command table, checked by the shared mechanism rather
 * than one by one: an option added later is covered without a new test.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main, parseCommandLine } from '../../cli/main.js';
import { runYargs } from '../../cli/yargs.js';
import { COMMANDS, GLOBAL_OPTIONS, camelCase, normalizeArgs, type CommandSpec, type OptionSpec } from '../../cli/spec.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

/** The words that name a command and fill its required positionals. */
function callOf(spec: CommandSpec): string[] {
  return [...spec.path, ...spec.positionals.filter((p) => p.required).map(() => 'x')];
}

function optionsOf(filter: (option: OptionSpec) => boolean): Array<[string, CommandSpec, string, OptionSpec]> {
  return COMMANDS.flatMap((spec) =>
    Object.entries({ ...GLOBAL_OPTIONS, ...spec.options })
      .filter(([, option]) => filter(option))
      .map(([flag, option]) => [`${spec.path.join(' ')} --${flag}`, spec, flag, option] as [string, CommandSpec, string, OptionSpec]),
  );
}

function sample(option: OptionSpec, n: number): string {
  return option.choices ? option.choices[n % option.choices.length]! : `name-${n}@1.0.${n}`;
}

async function viaYargs(argv: string[]): Promise<Record<string, unknown>> {
  let seen: Record<string, unknown> | undefined;
  await runYargs(argv, '0.0.0', async (spec, args) => void (seen = normalizeArgs(spec, args)));
  return seen!;
}

function capture(): { streams: Parameters<typeof main>[1]; stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    streams: { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env: {} },
    stdout: () => out,
    stderr: () => err,
  };
}

describe('repeatable options', () => {
  const repeatable = optionsOf((option) => option.repeatable === true);

  it('exist in the table (so the checks below check something)', () => {
    expect(repeatable.length).toBeGreaterThan(5);
  });

  it.each(repeatable)('%s: one value is a list of that value, several are a list of them, by both parsers', async (_, spec, flag, option) => {
    const key = camelCase(flag);
    const one = [...callOf(spec), `--${flag}`, sample(option, 0)];
    const two = [...one, `--${flag}`, sample(option, 1)];
    expect((await parseCommandLine(one))!.args[key]).toEqual([sample(option, 0)]);
    expect((await viaYargs(one))[key]).toEqual([sample(option, 0)]);
    expect((await parseCommandLine(two))!.args[key]).toEqual([sample(option, 0), sample(option, 1)]);
    expect((await viaYargs(two))[key]).toEqual([sample(option, 0), sample(option, 1)]);
  });
});

describe('an option that takes a value, given without one', () => {
  const valued = optionsOf((option) => option.type !== 'boolean');

  it.each(valued)('%s: E_USAGE naming the flag and the command\'s --help, exit 2', async (_, spec, flag) => {
    for (const argv of [[...callOf(spec), `--${flag}`], [...callOf(spec), `--${flag}`, '--json'], [...callOf(spec), `--${flag}=`]]) {
      const io = capture();
      const json = argv.includes('--json');
      expect(await main(argv, io.streams)).toBe(2);
      if (json) {
        expect(JSON.parse(io.stdout()).error).toMatchObject({ code: 'E_USAGE', message: expect.stringContaining(`--${flag} needs a value`) });
      } else {
        expect(io.stderr()).toContain(`error E_USAGE: --${flag} needs a value`);
        expect(io.stderr()).toContain(`Run mcs-pkg ${spec.path.join(' ')} --help for usage.`);
      }
    }
  });

  it('through the real binary: verify --trusted-root and search --limit exit 2 with E_USAGE, not E_INTERNAL', () => {
    for (const [argv, flag, command] of [[['verify', '--trusted-root'], '--trusted-root', 'verify'], [['search', '--limit'], '--limit', 'search']] as const) {
      const result = spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^error E_USAGE: ${flag} needs a value`));
      expect(result.stderr).toContain(`Run mcs-pkg ${command} --help for usage.`);
      expect(result.stderr).not.toContain('E_INTERNAL');
    }
  });

  it('a negative number is a value, and help still wins', async () => {
    expect((await parseCommandLine(['search', '--limit', '-1']))?.args.limit).toBe(-1);
    const io = capture();
    expect(await main(['search', '--limit', '--help'], io.streams)).toBe(0);
  });
});
