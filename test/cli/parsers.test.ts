/**
 * The quick parser must never disagree with yargs: for every call it accepts,
 * it must hand the command the same arguments yargs would; everything else it
 * must leave to yargs.
 */
import { describe, expect, it } from 'vitest';
import { fastParse } from '../../cli/fast.js';
import { runYargs } from '../../cli/yargs.js';
import { COMMANDS, GLOBAL_OPTIONS, camelCase, type CommandSpec } from '../../cli/spec.js';

async function viaYargs(argv: string[]): Promise<{ spec: CommandSpec; args: Record<string, unknown> }> {
  let seen: { spec: CommandSpec; args: Record<string, unknown> } | undefined;
  await runYargs(argv, '0.0.0', async (spec, args) => {
    seen = { spec, args };
  });
  if (!seen) throw new Error('yargs ran no command');
  return seen;
}

/** The arguments a command reads: its positionals and the declared flags, in camelCase. */
function declared(spec: CommandSpec, args: Record<string, unknown>): Record<string, unknown> {
  const keys = [...spec.positionals.map((p) => p.name), ...[...Object.keys(GLOBAL_OPTIONS), ...Object.keys(spec.options)].map(camelCase)];
  return Object.fromEntries(keys.filter((k) => args[k] !== undefined).map((k) => [k, args[k]]));
}

describe('quick parser and yargs agree', () => {
  it.each([
    ['search', 'csv'],
    ['search', 'send', 'e-mail', '--json'],
    ['--json', 'search', 'csv', '--limit', '5'],
    ['search', '--capability', 'csv', '--capability', 'rest', '--label', 'reference'],
    ['search', 'csv', '--label=verified', '--no-color'],
    ['search', 'x', '--permission', 'filesystem:read', '--class', 'tool-only', '--ecosystem', 'npm', '--llm', 'gpt-4o', '--adapter', 'smb'],
    ['info', 'mcs-driver-csv'],
    ['info', 'pypi:mcs-driver-rest', '--ecosystem', 'pypi', '--index', '/tmp/x', '--cache-dir', '/tmp/c'],
    ['index', 'build', '--index', '/tmp/x'],
    ['index', 'validate', '--json'],
    ['search', '1e3', '0x10'],
    ['verify', '--tarball', 'x.tgz', '--package', 'a@1.0.0', '--source-repo', 'github.com/a/b', '--hosted-runner', '--offline'],
    ['info', '007'],
    ['index', 'permissions', 'mcs-driver-csv', '--permission', 'network', '--permission', 'secrets', '--reason', 'r', '--by', 'a', '--index', '/tmp/x'],
  ])('%j', async (...argv) => {
    const fast = fastParse(argv);
    expect(fast).not.toBeNull();
    const slow = await viaYargs(argv);
    expect(fast!.spec).toBe(slow.spec);
    expect(declared(fast!.spec, fast!.args)).toEqual(declared(slow.spec, slow.args));
  });

  it.each([
    [['--help']],
    [['search', '--help']],
    [['--version']],
    [['search', 'csv', '--label', 'trusted']],
    [['search', 'csv', '--unknown']],
    [['search', 'csv', '--limit', 'many']],
    [['search', 'csv', '--limit', '1', '--limit', '2']],
    [['info']],
    [['info', 'a', 'b']],
    [['index']],
    [['serch', 'csv']],
    [[]],
  ])('leaves %j to yargs', (argv) => {
    expect(fastParse(argv)).toBeNull();
  });

  it('keeps words that look like numbers as typed', () => {
    expect(fastParse(['search', '1e3', '0x10'])!.args.query).toEqual(['1e3', '0x10']);
  });

  it('gives no command an option named like a global flag yargs reserves (--version, --help)', () => {
    const clashes = COMMANDS.flatMap((c) => Object.keys(c.options).filter((name) => name === 'version' || name === 'help' || name === 'h').map((name) => `${c.path.join(' ')} --${name}`));
    expect(clashes).toEqual([]);
  });

  it('covers every command in the table', () => {
    expect(COMMANDS.map((c) => c.path.join(' '))).toEqual(['search', 'info', 'pins', 'verify', 'load', 'call', 'cache ls', 'cache verify', 'cache clean', 'update', 'serve', 'index site', 'index publish', 'index keygen', 'index root', 'index add', 'index discover', 'index sync', 'index label', 'index yank', 'index deprecate', 'index quarantine', 'index permissions', 'index log', 'index build', 'index validate']);
  });
});
