import { defaultCacheDir, defaultDriverCacheDir } from '../../src/config.js';
import { McsError, wholeNumber } from '../../src/errors.js';
import type { LoadedDriver, LoadReceipt } from '../../src/loader/load.js';
import { readFileCapped } from '../../src/files.js';
import { parseJsonStrict } from '../../src/manifest/json.js';
import { indexOptions, trustFlags, warnIfExpired, type Context, type GlobalArgs } from '../context.js';
import { clean, paint } from '../render.js';

export interface LoadArgs extends GlobalArgs {
  query: string;
  config?: string;
  allowCommunity?: boolean;
  offline?: boolean;
  allowExpiredIndex?: boolean;
  registry?: string;
  trustedRoot?: string;
  registryKeys?: string;
  isolation?: 'process' | 'none';
  grantRead?: string[];
  grantWrite?: string[];
  grantEnv?: string[];
  allowNetwork?: boolean;
  callTimeout?: number;
  indexUrl?: string;
  python?: string;
}

/** A JSON object given on the command line, or @FILE holding one (--config, --args). */
export function readJsonObject(text: string | undefined, flag: string): Record<string, unknown> {
  if (text === undefined) return {};
  const file = text.startsWith('@') ? text.slice(1) : undefined;
  const raw = file !== undefined ? readFileCapped(file, 1024 * 1024, 'config file') : text;
  let value: unknown;
  try {
    value = parseJsonStrict(raw, { source: file ?? flag });
  } catch (cause) {
    throw new McsError('E_USAGE', `${flag} is not usable JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new McsError('E_USAGE', `${flag} must be a JSON object`, {});
  return value as Record<string, unknown>;
}

/** Loads the driver the flags name, through the host unless --isolation none. */
export async function loadFromArgs(args: LoadArgs, context: Context): Promise<LoadedDriver> {
  const { loadDriver } = await import('../../src/loader/load.js');
  const loaded = await loadDriver(args.query, {
    config: readJsonObject(args.config, '--config'),
    ...(args.allowCommunity ? { policy: { labels: ['verified', 'reference', 'community'] } } : {}),
    ...(args.offline ? { offline: true } : {}),
    ...(args.allowExpiredIndex ? { allowExpiredIndex: true } : {}),
    ...trustFlags(args),
    index: indexOptions(args, context),
    cacheDir: defaultDriverCacheDir(args.cacheDir ?? defaultCacheDir()),
    isolation: args.isolation ?? 'process',
    grants: { read: args.grantRead ?? [], write: args.grantWrite ?? [], env: args.grantEnv ?? [], network: !!args.allowNetwork },
    ...(args.indexUrl ? { pypi: { indexUrl: args.indexUrl } } : {}),
    ...(args.python ? { python: args.python } : {}),
    ...(args.callTimeout !== undefined ? { callTimeoutMs: wholeNumber(args.callTimeout, '--call-timeout', 1, 3_600_000) } : {}),
    ...(context.progress ? { onEvent: (e) => context.err(`${e.phase}${e.package ? ` ${e.package}@${e.version}` : ''}${e.warm ? ' (cached)' : ''}${e.pid ? ` pid ${e.pid}` : ''}`) } : {}),
  });
  warnIfExpired(loaded.receipt.index, context);
  return loaded;
}

/** How the driver runs, one line per confinement layer. */
export function renderHost(receipt: LoadReceipt, context: Context): string[] {
  const d = context.display;
  if (receipt.host.isolation === 'none') return [`${paint(d, 'yellow', 'in process')} ${receipt.host.detail}`];
  return [
    `${paint(d, 'dim', 'host')} pid ${receipt.host.pid}, protocol ${receipt.host.protocol}, declared: ${receipt.host.declared.join(', ') || 'nothing'}`,
    ...receipt.host.layers.map((l) => `  ${l.applied ? paint(d, 'green', 'applied') : l.detail.startsWith('MISSING') ? paint(d, 'red', 'missing') : paint(d, 'dim', 'not applied')} ${l.layer}: ${clean(l.detail)}`),
    ...receipt.host.ignored.map((i) => `  ${paint(d, 'yellow', 'ignored grant')} ${clean(i.grant)}: ${i.reason}`),
    ...(receipt.python
      ? [`${paint(d, 'dim', 'python')} ${receipt.python.version} (${clean(receipt.python.interpreter)})`, ...receipt.python.wheels.map((w) => `  ${paint(d, 'green', 'wheel')} ${clean(w.name)} ${clean(w.version)}: ${clean(w.filename)} sha256 ${w.sha256.slice(0, 16)}... ${w.warm ? 're-hashed in the cache' : 'fetched and verified'}${w.attested ? ', attested' : ''}`)]
      : []),
  ];
}

/** Loads a driver through the gate and prints what it would tell a model: a smoke test of a driver. */
export default async function load(args: LoadArgs, context: Context): Promise<number> {
  const { driver, receipt, close } = await loadFromArgs(args, context);
  try {
    return await show(driver, receipt, context);
  } finally {
    await close();
  }
}

async function show(driver: LoadedDriver['driver'], receipt: LoadReceipt, context: Context): Promise<number> {
  const hybrid = 'get_function_description' in driver;
  const description = hybrid ? await driver.get_function_description() : null;
  const systemMessage = hybrid ? await driver.get_driver_system_message() : null;
  const tools = 'list_tools' in driver ? await driver.list_tools() : null;
  if (context.json) {
    context.out(JSON.stringify({ receipt, meta: driver.meta, functionDescription: description, systemMessage, tools }, null, 2));
    return 0;
  }
  const d = context.display;
  context.out(`${paint(d, 'bold', `${clean(receipt.package)}@${clean(receipt.version)}`)}  ${paint(d, 'green', 'loaded')} ${receipt.warm ? '(from the cache, re-hashed against the pin)' : '(fetched and verified)'}`);
  for (const line of renderHost(receipt, context)) context.out(line);
  context.out(`${paint(d, 'dim', 'meta')} ${clean(JSON.stringify(driver.meta))}`);
  if (description !== null) context.out(`${paint(d, 'dim', 'function description')}\n${clean(description, { lines: true })}`);
  if (systemMessage !== null) context.out(`${paint(d, 'dim', 'system message')}\n${clean(systemMessage, { lines: true })}`);
  if (tools !== null) context.out(`${paint(d, 'dim', 'tools')} ${tools.map((t) => clean(t.name)).join(', ')}`);
  return 0;
}
