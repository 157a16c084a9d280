import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { McsError } from '../../src/errors.js';
import { ROOT_TYPE, keyIdOf, publicKeyRecord, signMetadata, type RootSigned } from '../../src/snapshot/metadata.js';
import type { Context, GlobalArgs } from '../context.js';

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

export default async function indexRoot(args: GlobalArgs & { out?: string; member?: string | string[]; sign?: string | string[]; threshold?: number; version?: number; expiresDays?: number }, context: Context): Promise<number> {
  const members = list(args.member);
  const signers = list(args.sign);
  if (!args.out || members.length === 0 || signers.length === 0 || args.threshold === undefined) {
    throw new McsError('E_USAGE', 'give --out root.json, --member KEY for each maintainer, --threshold K and --sign KEY (a threshold of members; for a rotation, also of the previous root)', {});
  }
  const keys = Object.fromEntries(members.map((file) => {
    const publicKey = createPublicKey(createPrivateKey(readFileSync(file, 'utf8')));
    return [keyIdOf(publicKey), publicKeyRecord(publicKey)];
  }));
  const signed: RootSigned = { _type: ROOT_TYPE, version: args.version ?? 1, expires: new Date(Date.now() + (args.expiresDays ?? 365) * 86_400_000).toISOString(), keys, threshold: args.threshold };
  writeFileSync(args.out, JSON.stringify(signMetadata(signed, signers.map((file) => readFileSync(file, 'utf8'))), null, 1));
  context.out(context.json ? JSON.stringify(signed, null, 2) : `Wrote ${args.out}: root version ${signed.version}, ${members.length} keys, threshold ${signed.threshold}`);
  return 0;
}
