import { wholeNumber } from '../../src/errors.js';
import type { Context, GlobalArgs } from '../context.js';

export interface ServeArgs extends GlobalArgs {
  host: string;
  port: number;
  rate?: number;
}

/** Serves until SIGINT or SIGTERM, then stops taking requests and exits 0. */
export default async function serve(args: ServeArgs, context: Context): Promise<number> {
  const { startServer } = await import('../../src/serve/server.js');
  const rate = args.rate === undefined ? undefined : wholeNumber(args.rate, 'rate', 1, 100_000);
  const running = await startServer({
    host: args.host,
    port: wholeNumber(args.port, 'port', 0, 65_535),
    ...(args.index !== undefined ? { indexDir: args.index } : {}),
    ...(args.cacheDir !== undefined ? { cacheDir: args.cacheDir } : {}),
    ...(rate !== undefined ? { ratePerSecond: rate, rateBurst: rate * 3 } : {}),
  });
  context.out(context.json ? JSON.stringify({ url: running.url }) : `serving the index at ${running.url} (API at ${running.url}api/v1/); Ctrl-C stops`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await running.close();
  return 0;
}
