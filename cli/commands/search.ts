import { FILTER_KEYS, type SearchFilters } from '../../src/index/search.js';
import { openCliIndex, warnIfExpired, type Context, type GlobalArgs } from '../context.js';
import { renderSearch } from '../render.js';

export interface SearchArgs extends GlobalArgs, SearchFilters {
  query: string[];
  limit?: number;
}

export default async function search(args: SearchArgs, context: Context): Promise<number> {
  const index = await openCliIndex(args, context);
  try {
    const filters: SearchFilters = {};
    for (const key of FILTER_KEYS) {
      if (args[key] !== undefined) (filters as Record<string, unknown>)[key] = args[key];
    }
    const result = index.search(args.query.join(' '), filters, args.limit !== undefined ? { limit: args.limit } : {});
    const freshness = warnIfExpired(index.freshness(), context);
    context.out(context.json ? JSON.stringify({ ...result, index: freshness }, null, 2) : renderSearch(context.display, result));
    return 0;
  } finally {
    index.close();
  }
}
