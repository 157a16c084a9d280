/**
 * What every command gets: where output goes, how it looks, and the index
 * opened with the flags every command shares.
 */
import { join } from 'node:path';
import { McsError } from '../src/errors.js';
import type { BuildProgress } from '../src/index/build.js';
import type { TufOptions } from '../src/trust/sigstore.js';
import type { McsIndex, OpenIndexOptions } from '../src/index/store.js';
import { shown, type Display } from './render.js';
import { expiredIndexMessage, type IndexFreshness } from '../src/snapshot/installed.js';

export interface CliStreams {
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export interface GlobalArgs {
  json: boolean;
  color?: boolean;
  index?: string;
  cacheDir?: string;
}

export interface Context {
  display: Display;
  json: boolean;
  /** Writes a line to standard output. */
  out(text: string): void;
  /** Writes a line to standard error (warnings, progress). */
  err(text: string): void;
  /** Progress for long builds, shown only on an interactive terminal. */
  progress?: (progress: BuildProgress) => void;
  /** A one-line counter for other long work ("verified 3/10 packages"), only on an interactive terminal. */
  count?: (what: string, done: number, total: number) => void;
}

/** Colour only on a terminal, never with NO_COLOR set (no-color.org), TERM=dumb, or --no-color. */
export function wantsColor(streams: CliStreams, flag: boolean | undefined): boolean {
  if (flag !== undefined) return flag;
  if (streams.env.NO_COLOR !== undefined && streams.env.NO_COLOR !== '') return false;
  if (streams.env.TERM === 'dumb') return false;
  return Boolean(streams.stdout.isTTY);
}

/** Long cells are cut to the width of a terminal ($COLUMNS when set, else the terminal's own); output to a pipe or a file is never cut. */
export function outputWidth(streams: CliStreams): number {
  if (!streams.stdout.isTTY) return Infinity;
  const columns = Number(streams.env.COLUMNS);
  return Number.isSafeInteger(columns) && columns > 0 ? columns : (streams.stdout.columns ?? 80);
}

export function makeContext(streams: CliStreams, args: GlobalArgs): Context {
  const interactive = Boolean(streams.stderr.isTTY);
  const count = (what: string, done: number, total: number): void => void streams.stderr.write(`\r${what} ${done}/${total}${done === total ? '\n' : ''}`);
  return {
    display: { color: wantsColor(streams, args.color), width: outputWidth(streams) },
    json: args.json,
    out: (text) => void streams.stdout.write(shown(text, args.json) + '\n'),
    err: (text) => void streams.stderr.write(shown(text, false) + '\n'),
    ...(interactive
      ? {
          progress: ({ phase, done, total }: BuildProgress) => (phase === 'optimize' ? void streams.stderr.write('optimizing search index\n') : count('indexing packages', done, total)),
          count,
        }
      : {}),
  };
}

/** The registry and trust-root flags commands that reach the registry share, as library options. */
export function trustFlags(args: { registry?: string; trustedRoot?: string; registryKeys?: string; indexUrl?: string }): { registry?: { registry: string }; trustedRoot?: string; registryKeys?: string; pypi?: { indexUrl: string } } {
  return {
    ...(args.registry ? { registry: { registry: args.registry } } : {}),
    ...(args.indexUrl ? { pypi: { indexUrl: args.indexUrl } } : {}),
    ...(args.trustedRoot ? { trustedRoot: args.trustedRoot } : {}),
    ...(args.registryKeys ? { registryKeys: args.registryKeys } : {}),
  };
}

/** Where TUF metadata comes from and is cached: --tuf-mirror, --tuf-root, and the cache folder (<cache>/tuf), as library options. */
export function tufFlags(args: GlobalArgs & { tufMirror?: string; tufRoot?: string }): { tuf?: Partial<TufOptions> } {
  const tuf = {
    ...(args.cacheDir ? { cachePath: join(args.cacheDir, 'tuf') } : {}),
    ...(args.tufMirror ? { mirrorURL: args.tufMirror } : {}),
    ...(args.tufRoot ? { rootPath: args.tufRoot } : {}),
  };
  return Object.keys(tuf).length > 0 ? { tuf } : {};
}

/**
 * The index-data folder a command that changes an index writes to: always
 * given (--index DIR), never mcs-pkg's own embedded copy (E_USAGE saying how).
 */
export async function writeTarget(args: GlobalArgs, command: string): Promise<string> {
  if (args.index === undefined) {
    throw new McsError('E_USAGE', `${command} changes an index-data folder: say which with --index DIR (mcs-pkg never changes the index it is installed with)`, { details: { command } });
  }
  const { assertWritableIndexDir } = await import('../src/maintain/target.js');
  assertWritableIndexDir(args.index);
  return args.index;
}

export function indexOptions(args: GlobalArgs, context: Context): OpenIndexOptions {
  return {
    ...(args.index !== undefined ? { indexDir: args.index } : {}),
    ...(args.cacheDir !== undefined ? { cacheDir: args.cacheDir } : {}),
    ...(context.progress ? { onProgress: context.progress } : {}),
  };
}

/** Opens the index for a command and tells the user when it had to repair it. */
export async function openCliIndex(args: GlobalArgs, context: Context): Promise<McsIndex> {
  const { openIndex } = await import('../src/index/store.js');
  const index = await openIndex(indexOptions(args, context));
  if (index.status.setAside) {
    context.err(`warning: the index database was corrupt; it was moved to ${index.status.setAside} and rebuilt from ${index.status.indexDir}`);
  }
  return index;
}

/** Says on standard error when the index read is past its snapshot's expiry; returns the freshness for --json. */
export function warnIfExpired(freshness: IndexFreshness, context: Context): IndexFreshness {
  if (freshness.expired) context.err(`warning: ${expiredIndexMessage(freshness)}`);
  return freshness;
}

/** warnIfExpired for a command whose library call opens the index itself (verify): the freshness of the folder it reads. */
export async function warnIfIndexExpired(args: GlobalArgs, context: Context): Promise<IndexFreshness> {
  const { defaultCacheDir, defaultIndexDir } = await import('../src/config.js');
  const { indexFreshness, readInstalledSnapshot } = await import('../src/snapshot/installed.js');
  const indexDir = args.index ?? defaultIndexDir(args.cacheDir ?? defaultCacheDir());
  return warnIfExpired(indexFreshness(readInstalledSnapshot(indexDir), new Date()), context);
}
