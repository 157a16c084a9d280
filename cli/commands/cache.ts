import { defaultCacheDir, defaultDriverCacheDir } from '../../src/config.js';
import type { CacheListing } from '../../src/loader/cache.js';
import type { Context, GlobalArgs } from '../context.js';
import { clean, paint, table } from '../render.js';

/** How an entry is named to a person: ecosystem:name@version as its manifest records it. */
function packageOf(entry: CacheListing): string {
  return clean(entry.package ? `${entry.package.ecosystem}:${entry.package.name ?? '(no name)'}@${entry.package.version ?? '(no version)'}` : '(manifest unreadable)');
}

/**
 * cache ls | verify | clean, over the driver cache (<cache>/loader): clean
 * removes the unpacked drivers and kept tarballs, never the installed index,
 * the TUF metadata or the search databases; verify exits 1 when any cached
 * driver changed since it was verified.
 */
export default async function cache(args: GlobalArgs, context: Context, action: 'ls' | 'verify' | 'clean'): Promise<number> {
  const { cleanCache, listCache } = await import('../../src/loader/cache.js');
  const { verifyCache } = await import('../../src/loader/cache-verify.js');
  const root = defaultDriverCacheDir(args.cacheDir ?? defaultCacheDir());
  if (action === 'clean') {
    const result = cleanCache(root);
    context.out(
      context.json
        ? JSON.stringify(result, null, 2)
        : `Removed ${result.removed.length} cached driver folder(s) and tarball(s) from ${clean(root)}${result.kept.length > 0 ? `; kept ${result.kept.length}` : ''}; the next load fetches and verifies again. The installed index and the trust metadata are kept.`,
    );
    return 0;
  }
  if (action === 'ls') {
    const entries = listCache(root);
    // a warm load needs an npm entry's tarball, and a wheel entry's kept wheel
    const rows = entries.map((e) => [packageOf(e), e.integrity, `${clean(e.path)}${e.tarball ? '' : e.integrity.startsWith('sha256-') ? '  (wheel not kept)' : '  (tarball not kept)'}`]);
    context.out(context.json ? JSON.stringify(entries, null, 2) : entries.length === 0 ? 'The driver cache is empty.' : table(context.display, ['PACKAGE', 'DIGEST', 'FOLDER'], rows));
    return 0;
  }
  const results = await verifyCache(root);
  if (context.json) context.out(JSON.stringify(results, null, 2));
  else if (results.length === 0) context.out('The driver cache is empty: nothing to verify.');
  else {
    const rows = results.map((r) => [r.ok ? 'ok' : 'CHANGED', packageOf(r), r.integrity, r.ok ? '' : clean(r.error.message)]);
    const status = (cell: string): string => paint(context.display, cell.startsWith('ok') ? 'green' : 'red', cell);
    context.out(table(context.display, ['STATUS', 'PACKAGE', 'DIGEST', 'PROBLEM'], rows, [status]));
  }
  return results.every((r) => r.ok) ? 0 : 1;
}
