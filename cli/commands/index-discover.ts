import { embeddedIndexDir } from '../../src/config.js';
import type { Context, GlobalArgs } from '../context.js';
import { clean } from '../render.js';

interface DiscoverArgs extends GlobalArgs {
  all?: boolean;
  registry?: string;
}

/** index discover: the registry's search by naming convention, new packages first. */
export default async function discover(args: DiscoverArgs, context: Context): Promise<number> {
  const { discover: find } = await import('../../src/maintain/discover.js');
  const candidates = await find(args.index ?? embeddedIndexDir(), {
    ...(args.registry ? { registry: { registry: args.registry } } : {}),
    onPage: (prefix, read, total) => context.err(`searching ${prefix}*: ${read} of ${total}`),
  });
  const shown = args.all ? candidates : candidates.filter((c) => c.new);
  if (context.json) {
    context.out(JSON.stringify({ candidates: shown }, null, 2));
    return 0;
  }
  const fresh = candidates.filter((c) => c.new).length;
  context.out(shown.map((c) => clean(`${c.new ? 'NEW     ' : 'indexed '} ${c.name}@${c.version}${c.description ? `  ${c.description}` : ''}`)).join('\n') || 'Nothing new.');
  context.out(`${fresh} new of ${candidates.length} found; add one with mcs-pkg index add NAME`);
  return 0;
}
