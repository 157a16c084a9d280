/**
 * The quick parser for ordinary calls. Importing yargs costs about as much
 * as starting Node itself, so a call is parsed with yargs-parser (the parser
 * inside yargs) and run directly when it is unambiguous: a known command,
 * only declared flags, values of the declared types and choices. Anything
 * else (help, version, an unknown flag, a bad value) returns null and goes to
 * full yargs, which runs or rejects it with its usual messages.
 */
import parse from 'yargs-parser';
import { McsError } from '../src/errors.js';
import { COMMANDS, GLOBAL_OPTIONS, camelCase, type CommandSpec, type OptionSpec } from './spec.js';

export interface FastCall {
  spec: CommandSpec;
  args: Record<string, unknown>;
}

const YIELD_TO_YARGS = new Set(['--help', '-h', '--version', '--']);

function parserOptions(options: Record<string, OptionSpec>): parse.Options {
  const byType = (type: OptionSpec['type']): string[] => Object.keys(options).filter((k) => options[k]!.type === type);
  return { string: byType('string'), boolean: byType('boolean'), number: byType('number'), configuration: { 'camel-case-expansion': false, 'parse-positional-numbers': false } };
}

function acceptable(value: unknown, option: OptionSpec): boolean {
  const values = Array.isArray(value) ? value : [value];
  if (values.length > 1 && !option.repeatable) return false;
  return values.every((v) => {
    if (option.type === 'number') return typeof v === 'number' && Number.isFinite(v);
    if (option.type === 'boolean') return typeof v === 'boolean';
    return typeof v === 'string' && v !== '' && (!option.choices || option.choices.includes(v));
  });
}

/** The command the leading words of a call name, if any. */
export function commandOf(argv: readonly string[]): CommandSpec | undefined {
  const everything: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
  for (const command of COMMANDS) Object.assign(everything, command.options);
  const words = parse([...argv], parserOptions(everything))._.map(String);
  return COMMANDS.find((c) => c.path.every((word, i) => words[i] === word));
}

/**
 * Refuses a flag that takes a value but was given none (`--limit` last, or
 * followed by another flag, or `--limit=`), naming the flag: both parsers
 * would otherwise read it as empty, absent, or an internal failure.
 */
export function assertFlagValues(argv: readonly string[], spec: CommandSpec): void {
  const options: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS, ...spec.options };
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return;
    if (!word.startsWith('--')) continue;
    const equals = word.indexOf('=');
    const flag = equals < 0 ? word : word.slice(0, equals);
    const option = options[flag.slice(2)];
    if (!option) continue;
    if (option.type === 'boolean') {
      const value = equals < 0 ? undefined : word.slice(equals + 1);
      if (value !== undefined && value !== 'true' && value !== 'false') {
        throw new McsError('E_USAGE', `${flag} takes no value (it is on or off), so ${JSON.stringify(value)} would be lost: write ${flag} alone${spec.positionals.length > 0 ? `, and ${value} as an argument of its own (mcs-pkg ${spec.path.join(' ')} ${flag} ${value})` : ''}`, { details: { flag, command: spec.path.join(' ') } });
      }
      continue;
    }
    const next = argv[i + 1];
    const missing = equals >= 0 ? word.length === equals + 1 : next === undefined || (next.startsWith('-') && !(option.type === 'number' && /^-\d/.test(next)));
    if (missing) {
      const value = option.type === 'number' ? 'NUMBER' : option.choices ? option.choices.join('|') : 'VALUE';
      throw new McsError('E_USAGE', `${flag} needs a value (mcs-pkg ${spec.path.join(' ')} ${flag} ${value})`, { details: { flag, command: spec.path.join(' ') } });
    }
  }
}

/** Returns the command and its arguments, or null when full yargs must decide; E_USAGE for a flag without its value. */
export function fastParse(argv: readonly string[]): FastCall | null {
  if (argv.some((a) => YIELD_TO_YARGS.has(a))) return null;
  const spec = commandOf(argv);
  if (!spec) return null;
  assertFlagValues(argv, spec);

  const options: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS, ...spec.options };
  const parsed = parse([...argv], parserOptions(options));
  const positionals = parsed._.map(String).slice(spec.path.length);
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (key === '_') continue;
    const option = options[key];
    if (!option || !acceptable(value, option)) return null;
    args[camelCase(key)] = value;
  }
  for (const [key, option] of Object.entries(options)) {
    if (args[camelCase(key)] === undefined && option.default !== undefined) args[camelCase(key)] = option.default;
  }
  let rest = positionals;
  for (const positional of spec.positionals) {
    if (positional.variadic) {
      args[positional.name] = rest;
      rest = [];
    } else if (rest.length > 0) {
      args[positional.name] = rest[0];
      rest = rest.slice(1);
    } else if (positional.required) {
      return null;
    }
  }
  return rest.length === 0 ? { spec, args } : null;
}
