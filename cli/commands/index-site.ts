import type { Context, GlobalArgs } from '../context.js';

export interface SiteArgs extends GlobalArgs {
  out: string;
}

export default async function indexSite(args: SiteArgs, context: Context): Promise<number> {
  const { writeSite } = await import('../../src/serve/site.js');
  const result = await writeSite(args.out, { ...(args.index !== undefined ? { indexDir: args.index } : {}), ...(args.cacheDir !== undefined ? { cacheDir: args.cacheDir } : {}) });
  context.out(context.json ? JSON.stringify(result, null, 2) : `wrote ${result.packages} package pages and the search page to ${result.outDir} (index state ${result.snapshot})`);
  return 0;
}
