import type { Ecosystem } from '../../src/manifest/types.js';
import { openCliIndex, warnIfExpired, type Context, type GlobalArgs } from '../context.js';
import { renderInfo } from '../render.js';

export interface InfoArgs extends GlobalArgs {
  name: string;
  ecosystem?: Ecosystem;
}

export default async function info(args: InfoArgs, context: Context): Promise<number> {
  const index = await openCliIndex(args, context);
  try {
    const { labelRecord } = await import('../../src/maintain/log-file.js');
    const package_ = index.getPackage(args.name, args.ecosystem ? { ecosystem: args.ecosystem } : {});
    const record = labelRecord(index.status.indexDir, `${package_.entry.ecosystem}:${package_.entry.name}`);
    const found = record ? { ...package_, labelRecord: record } : package_;
    const freshness = warnIfExpired(index.freshness(), context);
    context.out(context.json ? JSON.stringify({ ...found, index: freshness }, null, 2) : renderInfo(context.display, found));
    return 0;
  } finally {
    index.close();
  }
}
