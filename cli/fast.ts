/**
 * The quick parser for ordinary calls. Importing yargs costs about as much
 * as starting Node itself, so a call is parsed with yargs-parser (the parser
 * inside yargs) and run directly when it is unambiguous: a known command,
 * only declared flags, values of the declared types and choices. Anything
 * else (help, version, an unknown flag, a bad value) returns null and goes to
 * full yargs, which runs or rejects it with its usual messages.
 */
import parse from 'yargs-parser';
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

/** Returns the command and its arguments, or null when full yargs must decide. */
export function fastParse(argv: readonly string[]): FastCall | null {
  if (argv.some((a) => YIELD_TO_YARGS.has(a))) return null;
  const everything: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
  for (const command of COMMANDS) Object.assign(everything, command.options);
  const words = parse([...argv], parserOptions(everything))._.map(String);
  const spec = COMMANDS.find((c) => c.path.every((word, i) => words[i] === word));
  if (!spec) return null;

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
