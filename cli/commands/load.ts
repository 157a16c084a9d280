import { defaultCacheDir, defaultDriverCacheDir } from '../../src/config.js';
import { McsError } from '../../src/errors.js';
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
}

/** --config is JSON, or @FILE holding JSON; either way plain data. */
function readConfig(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  const file = text.startsWith('@') ? text.slice(1) : undefined;
  const raw = file !== undefined ? readFileCapped(file, 1024 * 1024, 'config file') : text;
  let value: unknown;
  try {
    value = parseJsonStrict(raw, { source: file ?? '--config' });
  } catch (cause) {
    throw new McsError('E_USAGE', `--config is not usable JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new McsError('E_USAGE', '--config must be a JSON object', {});
  return value as Record<string, unknown>;
}

/** Loads a driver through the gate and prints what it would tell a model: a smoke test of a driver. */
export default async function load(args: LoadArgs, context: Context): Promise<number> {
  const { loadDriver } = await import('../../src/loader/load.js');
  const { driver, receipt } = await loadDriver(args.query, {
    config: readConfig(args.config),
    ...(args.allowCommunity ? { policy: { labels: ['verified', 'reference', 'community'] } } : {}),
    ...(args.offline ? { offline: true } : {}),
    ...(args.allowExpiredIndex ? { allowExpiredIndex: true } : {}),
    ...trustFlags(args),
    index: indexOptions(args, context),
    cacheDir: defaultDriverCacheDir(args.cacheDir ?? defaultCacheDir()),
    ...(context.progress ? { onEvent: (e) => context.err(`${e.phase}${e.package ? ` ${e.package}@${e.version}` : ''}${e.warm ? ' (cached)' : ''}`) } : {}),
  });
  warnIfExpired(receipt.index, context);
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
  context.out(`${paint(d, 'dim', 'meta')} ${clean(JSON.stringify(driver.meta))}`);
  if (description !== null) context.out(`${paint(d, 'dim', 'function description')}\n${clean(description, { lines: true })}`);
  if (systemMessage !== null) context.out(`${paint(d, 'dim', 'system message')}\n${clean(systemMessage, { lines: true })}`);
  if (tools !== null) context.out(`${paint(d, 'dim', 'tools')} ${tools.map((t) => clean(t.name)).join(', ')}`);
  return 0;
}
