import { McsError } from '../../src/errors.js';
import type { Context } from '../context.js';
import { clean } from '../render.js';
import { loadFromArgs, readJsonObject, renderHost, type LoadArgs } from './load.js';

export interface CallArgs extends LoadArgs {
  tool: string;
  args?: string;
}

/** Runs one tool of a tool driver (through the host unless --isolation none) and prints its result. */
export default async function call(args: CallArgs, context: Context): Promise<number> {
  const toolArgs = readJsonObject(args.args, '--args');
  const { driver, receipt, close } = await loadFromArgs(args, context);
  try {
    if (!('execute_tool' in driver)) {
      throw new McsError('E_USAGE', `${receipt.package}@${receipt.version} is not a tool driver (it has no execute_tool); use mcs-pkg load to see what it tells a model`, { details: { package: receipt.package } });
    }
    const result = await driver.execute_tool(args.tool, toolArgs);
    if (context.json) {
      context.out(JSON.stringify({ receipt, tool: args.tool, result }, null, 2));
      return 0;
    }
    if (context.progress) for (const line of renderHost(receipt, context)) context.err(line);
    context.out(typeof result === 'string' ? clean(result, { lines: true }) : clean(JSON.stringify(result, null, 2), { lines: true }));
    return 0;
  } finally {
    await close();
  }
}
