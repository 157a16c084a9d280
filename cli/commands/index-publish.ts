import { embeddedIndexDir } from '../../src/config.js';
import { McsError } from '../../src/errors.js';
import { tufFlags, type Context, type GlobalArgs } from '../context.js';

interface PublishArgs extends GlobalArgs {
  out?: string;
  root?: string;
  key?: string | string[];
  expiresDays?: number;
  snapshotVersion?: number;
  keyless?: boolean;
  identityToken?: string;
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  trustedRoot?: string;
}

export default async function indexPublish(args: PublishArgs, context: Context): Promise<number> {
  const keys = args.key === undefined ? [] : Array.isArray(args.key) ? args.key : [args.key];
  if (!args.out || !args.root || (keys.length === 0 && !args.keyless)) throw new McsError('E_USAGE', 'give --out FOLDER, --root root.json, and --key FILE (maintainer keys) and/or --keyless (Sigstore, as the publishing workflow the root pins)', {});
  const { publishSnapshot } = await import('../../src/snapshot/publish.js');
  const identityToken = args.identityToken ?? process.env.SIGSTORE_ID_TOKEN;
  const result = await publishSnapshot({
    indexDir: args.index ?? embeddedIndexDir(),
    outDir: args.out,
    root: args.root,
    keys,
    ...(args.expiresDays !== undefined ? { expiresDays: args.expiresDays } : {}),
    ...(args.snapshotVersion !== undefined ? { version: args.snapshotVersion } : {}),
    ...(args.trustedRoot ? { trustedRoot: args.trustedRoot } : {}),
    ...tufFlags(args),
    ...(args.keyless
      ? {
          keyless: {
            ...(identityToken ? { identityToken } : {}),
            ...(args.fulcioUrl ? { fulcioURL: args.fulcioUrl } : {}),
            ...(args.rekorUrl ? { rekorURL: args.rekorUrl } : {}),
            ...(args.tsaUrl ? { tsaServerURL: args.tsaUrl } : {}),
          },
        }
      : {}),
  });
  context.out(context.json ? JSON.stringify(result, null, 2) : `Published snapshot version ${result.version} (${result.entries} packages, expires ${result.expires}) to ${args.out}`);
  return 0;
}
