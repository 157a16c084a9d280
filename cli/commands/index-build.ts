import { indexOptions, type Context, type GlobalArgs } from '../context.js';
import { renderBuild } from '../render.js';

export default async function indexBuild(args: GlobalArgs, context: Context): Promise<number> {
  const { buildIndex } = await import('../../src/index/store.js');
  const status = await buildIndex(indexOptions(args, context));
  context.out(context.json ? JSON.stringify(status, null, 2) : renderBuild(status));
  return 0;
}
