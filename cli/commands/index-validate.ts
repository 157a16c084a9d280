import type { Context, GlobalArgs } from '../context.js';
import { renderValidation } from '../render.js';

/** Exit 1 when the data has problems: validation is a check, and the check failed. */
export default async function indexValidate(args: GlobalArgs & { root?: string; published?: string }, context: Context): Promise<number> {
  const { validateIndex } = await import('../../src/index/api.js');
  const report = await validateIndex(args.index, { ...(args.root ? { root: args.root } : {}), ...(args.published ? { published: args.published } : {}) });
  context.out(context.json ? JSON.stringify(report, null, 2) : renderValidation(context.display, report));
  return report.problems.length === 0 ? 0 : 1;
}
