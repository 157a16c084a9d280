import { embeddedIndexDir } from '../../src/config.js';
import { McsError } from '../../src/errors.js';
import type { Context, GlobalArgs } from '../context.js';

export default async function indexPublish(args: GlobalArgs & { out?: string; root?: string; key?: string | string[]; expiresDays?: number }, context: Context): Promise<number> {
  const keys = args.key === undefined ? [] : Array.isArray(args.key) ? args.key : [args.key];
  if (!args.out || !args.root || keys.length === 0) throw new McsError('E_USAGE', 'give --out FOLDER, --root root.json and --key FILE (a threshold of maintainer keys)', {});
  const { publishSnapshot } = await import('../../src/snapshot/publish.js');
  const result = publishSnapshot({ indexDir: args.index ?? embeddedIndexDir(), outDir: args.out, root: args.root, keys, ...(args.expiresDays !== undefined ? { expiresDays: args.expiresDays } : {}) });
  context.out(context.json ? JSON.stringify(result, null, 2) : `Published snapshot version ${result.version} (${result.entries} packages, expires ${result.expires}) to ${args.out}`);
  return 0;
}
