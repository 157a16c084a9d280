/**
 * The mcs-pkg command line: picks the parser (quick path or full yargs, both
 * built from spec.ts), loads the one command module a call needs, and is the
 * single place where an error becomes a message and an exit code (0 ok,
 * 1 check failed, 2 usage or operational error).
 */
import { join } from 'node:path';
import { packageRoot } from '../src/config.js';
import { McsError, exitCodeFor, isMcsError } from '../src/errors.js';
import { readFileCapped } from '../src/files.js';
import { makeContext, type CliStreams, type Context, type GlobalArgs } from './context.js';
import { commandOf, fastParse } from './fast.js';
import { renderError } from './render.js';
import { normalizeArgs, type CommandSpec } from './spec.js';

function processStreams(): CliStreams {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** Runs one mcs-pkg invocation and returns its exit code; never throws. */
export async function main(argv: readonly string[], streams: CliStreams = processStreams()): Promise<number> {
  // until the arguments are parsed, errors are shown as JSON if --json (or --json=true) was given
  let context = makeContext(streams, { json: argv.some((a) => a === '--json' || a === '--json=true') });
  let command = '';
  try {
    command = commandOf(argv)?.path.join(' ') ?? '';
    const call = await parseCommandLine(argv);
    if (!call) return 0; // help or version, printed by yargs
    command = call.spec.path.join(' ');
    context = makeContext(streams, call.args as unknown as GlobalArgs);
    const module = await call.spec.load();
    return await module.default(call.args as never, context);
  } catch (error) {
    return report(error, context, streams, command);
  }
}

/**
 * The command a call names and its arguments as handlers see them, by the
 * quick parser or full yargs; undefined when yargs printed help or the version.
 */
export async function parseCommandLine(argv: readonly string[]): Promise<{ spec: CommandSpec; args: Record<string, unknown> } | undefined> {
  const fast = fastParse(argv);
  if (fast) return { spec: fast.spec, args: normalizeArgs(fast.spec, fast.args) };
  const { runYargs } = await import('./yargs.js');
  const version = (JSON.parse(readFileCapped(join(packageRoot(), 'package.json'), 1024 * 1024, 'package manifest', { code: 'E_INTERNAL' }).toString('utf8')) as { version: string }).version;
  let call: { spec: CommandSpec; args: Record<string, unknown> } | undefined;
  await runYargs(argv, version, async (spec, args) => void (call = { spec, args: normalizeArgs(spec, args) }));
  return call;
}

/** The one error boundary: a coded error is shown as code + message; anything else is an internal error. */
function report(error: unknown, context: Context, streams: CliStreams, command: string): number {
  const coded = isMcsError(error)
    ? error
    : new McsError('E_INTERNAL', `unexpected failure: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  if (context.json) {
    context.out(JSON.stringify({ error: coded.toJSON() }, null, 2));
  } else {
    context.err(renderError(context.display, coded));
    if (coded.code === 'E_USAGE') context.err(`Run mcs-pkg ${command ? `${command} ` : ''}--help for usage.`);
  }
  if (streams.env.MCS_PKG_DEBUG && error instanceof Error && error.stack) context.err(error.stack);
  return exitCodeFor(coded);
}
