/**
 * Full yargs, built from the command table: help, version, and the usual
 * diagnostics for calls the quick parser left to it.
 */
import yargs, { type Argv, type Options } from 'yargs';
import { McsError } from '../src/errors.js';
import { COMMANDS, GLOBAL_OPTIONS, GROUPS, type CommandSpec, type OptionSpec } from './spec.js';

function toYargsOption(option: OptionSpec, global: boolean): Options {
  return {
    type: option.type,
    describe: option.describe,
    global,
    ...(option.type !== 'boolean' ? { requiresArg: true } : {}),
    ...(option.choices ? { choices: [...option.choices] } : {}),
    ...(option.default !== undefined ? { default: option.default } : {}),
  };
}

function commandString(spec: CommandSpec): string {
  const last = spec.path[spec.path.length - 1]!;
  const positionals = spec.positionals.map((p) => (p.required ? `<${p.name}>` : `[${p.name}${p.variadic ? '..' : ''}]`));
  return [last, ...positionals].join(' ');
}

function addCommand(y: Argv, spec: CommandSpec, run: (spec: CommandSpec, args: Record<string, unknown>) => Promise<void>): Argv {
  return y.command(
    commandString(spec),
    spec.describe,
    (b: Argv) => {
      let builder = b;
      for (const p of spec.positionals) {
        builder = builder.positional(p.name, { type: 'string', describe: p.describe, ...(p.variadic ? { array: true, default: [] } : {}) });
      }
      for (const [name, option] of Object.entries(spec.options)) builder = builder.option(name, toYargsOption(option, false));
      for (const [example, meaning] of spec.examples ?? []) builder = builder.example(example, meaning);
      return builder;
    },
    (args) => run(spec, args as Record<string, unknown>),
  );
}

/** Parses with yargs and runs the command it names through `run`. */
export async function runYargs(argv: readonly string[], version: string, run: (spec: CommandSpec, args: Record<string, unknown>) => Promise<void>): Promise<void> {
  let parser = yargs([...argv])
    .parserConfiguration({ 'parse-positional-numbers': false })
    .scriptName('mcs-pkg')
    .usage('$0 <command> [options]\n\nDiscovery index and trust gate for MCS (Model Context Standard) drivers.');
  for (const [name, option] of Object.entries(GLOBAL_OPTIONS)) parser = parser.option(name, toYargsOption(option, true));
  const groups = new Map<string, CommandSpec[]>();
  for (const spec of COMMANDS) {
    if (spec.path.length === 1) parser = addCommand(parser, spec, run);
    else groups.set(spec.path[0]!, [...(groups.get(spec.path[0]!) ?? []), spec]);
  }
  for (const [group, specs] of groups) {
    parser = parser.command(group, `${GROUPS[group] ?? group}: ${specs.map((s) => s.path[1]).join(', ')}`, (y: Argv) => {
      let nested = y;
      for (const spec of specs) nested = addCommand(nested, spec, run);
      return nested.demandCommand(1, `name one of the ${group} commands: ${specs.map((s) => s.path[1]).join(', ')}`);
    });
  }
  await parser
    .demandCommand(1, 'name a command; see mcs-pkg --help')
    .strict()
    .recommendCommands()
    .version(version)
    .help()
    .alias('help', 'h')
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .exitProcess(false)
    .fail((message: string | null, error: Error | undefined) => {
      // yargs' own complaints (YError) are about the call; anything else came from a handler and is passed on as it is
      if (error && error.name !== 'YError') throw error;
      throw new McsError('E_USAGE', error?.message ?? message ?? 'invalid arguments', error ? { cause: error } : {});
    })
    .parseAsync();
}
