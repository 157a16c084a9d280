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
  const indexDir = args.index ?? embeddedIndexDir();
  const result = await publishSnapshot({
    indexDir,
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
  }).catch((error: unknown) => {
    // the shipped index's log is not signed by the maintainers of the root given: a log of one's own is started in a folder of one's own
    if (args.index !== undefined || !(error instanceof McsError) || !error.code.startsWith('E_LOG_')) throw error;
    throw new McsError(
      error.code,
      `${error.message}. No --index was given, so this was the index shipped with mcs-pkg (${indexDir}), which is never changed in place: copy it to a folder of your own (cp -r ${indexDir} my-index) and keep your root there as my-index/root.json, adopt its log there (mcs-pkg index log --upgrade --index my-index --key FILE --reason TEXT), and publish with --index my-index`,
      { cause: error, details: { ...error.details, indexDir } },
    );
  });
  context.out(context.json ? JSON.stringify(result, null, 2) : `Published snapshot version ${result.version} (${result.entries} packages, expires ${result.expires}) to ${args.out}`);
  return 0;
}
