import { McsError } from '../../src/errors.js';
import type { Context, GlobalArgs } from '../context.js';

/** Writes FILE (private, 0600) and FILE.pub, both or neither; an existing file is never replaced. */
export default async function indexKeygen(args: GlobalArgs & { out?: string; type?: 'ed25519' | 'ecdsa-p256' }, context: Context): Promise<number> {
  if (!args.out) throw new McsError('E_USAGE', 'give --out FILE for the private key', {});
  const { generateMaintainerKey } = await import('../../src/snapshot/maintainer.js');
  const result = generateMaintainerKey({ out: args.out, ...(args.type ? { type: args.type } : {}) });
  context.out(context.json ? JSON.stringify(result, null, 2) : `Wrote ${args.out} (keyid ${result.keyid}, ${result.keytype}); keep it private. Share ${result.publicKey} for index root --member`);
  return 0;
}
