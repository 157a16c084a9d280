import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { McsError } from '../../src/errors.js';
import { keyIdOf, publicKeyRecord } from '../../src/snapshot/metadata.js';
import type { Context, GlobalArgs } from '../context.js';

export default async function indexKeygen(args: GlobalArgs & { out?: string; type?: 'ed25519' | 'ecdsa-p256' }, context: Context): Promise<number> {
  if (!args.out) throw new McsError('E_USAGE', 'give --out FILE for the private key', {});
  const { publicKey, privateKey } = args.type === 'ecdsa-p256' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('ed25519');
  const publicFile = `${args.out}.pub`;
  writeFileSync(args.out, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }), { flag: 'wx' });
  const result = { keyid: keyIdOf(publicKey), ...publicKeyRecord(publicKey), privateKey: args.out, publicKey: publicFile };
  context.out(context.json ? JSON.stringify(result, null, 2) : `Wrote ${args.out} (keyid ${result.keyid}, ${result.keytype}); keep it private. Share ${publicFile} for index root --member`);
  return 0;
}
