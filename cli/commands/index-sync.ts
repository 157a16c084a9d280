import { trustFlags, writeTarget, type Context, type GlobalArgs } from '../context.js';
import { clean } from '../render.js';

interface SyncArgs extends GlobalArgs {
  names?: string[];
  accept?: string[];
  reason?: string;
  by?: string;
  key?: string;
  registry?: string;
  indexUrl?: string;
  trustedRoot?: string;
  registryKeys?: string;
  dryRun?: boolean;
}

/** index sync: a reviewable diff of new versions; exit 1 while findings are held. */
export default async function sync(args: SyncArgs, context: Context): Promise<number> {
  const { changeAuthor } = await import('./index-edit.js');
  const author = args.dryRun ? { why: 'dry run' } : changeAuthor(args);
  const { syncIndex } = await import('../../src/maintain/sync.js');
  const result = await syncIndex(await writeTarget(args, 'index sync'), args.names ?? [], author, {
    ...trustFlags(args),
    ...(args.accept ? { accept: args.accept } : {}),
    ...(args.dryRun ? { dryRun: true } : {}),
  });
  const held = result.findings.filter((f) => !f.accepted);
  if (context.json) {
    context.out(JSON.stringify(result, null, 2));
  } else {
    const lines = [
      ...result.added.map((a) => `+ ${a.package}@${a.version}${a.provenance ? '' : ' (no provenance)'}`),
      ...result.findings.map((f) => `${f.accepted ? '+ accepted' : f.acceptable ? '! held' : 'x refused'} ${f.package}@${f.version} ${f.code}: ${f.message}`),
      ...result.unmatched.map((u) => `? --accept ${u} matched no held finding`),
    ];
    context.out(lines.length > 0 ? lines.map((l) => clean(l)).join('\n') : 'Nothing new.');
    if (args.dryRun && lines.length > 0) context.out('Dry run: nothing was written.');
    if (held.some((f) => f.acceptable)) context.out('Held versions are added only with --accept NAME@VERSION and a reason.');
  }
  return held.length > 0 ? 1 : 0;
}
