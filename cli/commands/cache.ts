import { join } from 'node:path';
import { defaultCacheDir } from '../../src/config.js';
import { isMcsError } from '../../src/errors.js';
import type { Context, GlobalArgs } from '../context.js';
import { clean, paint } from '../render.js';

/** cache ls | verify | clean: verify exits 1 when any cached driver changed since it was verified. */
export default async function cache(args: GlobalArgs, context: Context, action: 'ls' | 'verify' | 'clean'): Promise<number> {
  const { cleanCache, listCache, verifyCacheEntry } = await import('../../src/loader/cache.js');
  const root = join(args.cacheDir ?? defaultCacheDir(), 'loader');
  if (action === 'clean') {
    const result = cleanCache(root);
    context.out(context.json ? JSON.stringify(result, null, 2) : `Removed ${result.removed.length} cached folder(s) from ${root}${result.kept.length > 0 ? `; kept ${result.kept.length}` : ''}.`);
    return 0;
  }
  const entries = listCache(root);
  if (action === 'ls') {
    context.out(context.json ? JSON.stringify(entries, null, 2) : entries.length === 0 ? 'The driver cache is empty.' : entries.map((e) => clean(`${e.integrity}  ${e.path}`)).join('\n'));
    return 0;
  }
  const results = entries.map((e) => {
    try {
      verifyCacheEntry(e.path, { integrity: e.integrity });
      return { integrity: e.integrity, ok: true as const };
    } catch (error) {
      if (!isMcsError(error)) throw error;
      return { integrity: e.integrity, ok: false as const, error: error.toJSON() };
    }
  });
  if (context.json) context.out(JSON.stringify(results, null, 2));
  else if (results.length === 0) context.out('The driver cache is empty: nothing to verify.');
  else for (const r of results) context.out(r.ok ? `${paint(context.display, 'green', 'ok')}       ${r.integrity}` : `${paint(context.display, 'red', 'CHANGED')}  ${r.integrity}  ${clean(r.error.message)}`);
  return results.every((r) => r.ok) ? 0 : 1;
}
