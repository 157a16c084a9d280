import { defaultCacheDir, defaultIndexStateDir } from '../../src/config.js';
import { McsError } from '../../src/errors.js';
import { tufFlags, type Context, type GlobalArgs } from '../context.js';

const ROOT_EXPIRY_WARNING_DAYS = 30;

/** Exit 1 when the snapshot is refused (signatures, rollback, expiry, mixed content): the working index is left as it was. */
export default async function update(args: GlobalArgs & { from?: string; root?: string; resetRoot?: boolean; trustedRoot?: string }, context: Context): Promise<number> {
  if (args.from === '') throw new McsError('E_USAGE', 'give --from FOLDER or --from URL', {});
  const { updateIndex } = await import('../../src/snapshot/publish.js');
  const result = await updateIndex({ ...(args.from ? { from: args.from } : {}), stateDir: defaultIndexStateDir(args.cacheDir ?? defaultCacheDir()), ...(args.root ? { root: args.root } : {}), ...(args.resetRoot ? { resetRoot: true } : {}), ...(args.trustedRoot ? { trustedRoot: args.trustedRoot } : {}), ...tufFlags(args), ...(context.count ? { onProgress: (done: number, total: number) => context.count!('unpacking packages', done, total) } : {}) });
  // an index root close to its expiry will soon stop every update: say so while there is time to rotate it
  const days = (Date.parse(result.expires.root) - Date.now()) / 86_400_000;
  if (days < ROOT_EXPIRY_WARNING_DAYS) context.err(`warning: index root version ${result.rootVersion} expires ${result.expires.root} (in ${Math.max(0, Math.floor(days))} days); after that updates are refused until the maintainers publish a new root`);
  context.out(context.json ? JSON.stringify(result, null, 2) : result.status === 'current' ? `The index is current (snapshot version ${result.version}).` : `Updated the index to snapshot version ${result.version}${result.previousVersion !== null ? ` (from ${result.previousVersion})` : ''}, index root version ${result.rootVersion}.`);
  return 0;
}
