import { generateKeyPairSync } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { McsError } from '../../src/errors.js';
import { writeNewFile } from '../../src/files.js';
import { keyIdOf, publicKeyRecord } from '../../src/snapshot/metadata.js';
import type { Context, GlobalArgs } from '../context.js';

/** Writes FILE (private, 0600) and FILE.pub, both or neither; an existing file is never replaced. */
export default async function indexKeygen(args: GlobalArgs & { out?: string; type?: 'ed25519' | 'ecdsa-p256' }, context: Context): Promise<number> {
  if (!args.out) throw new McsError('E_USAGE', 'give --out FILE for the private key', {});
  const publicFile = `${args.out}.pub`;
  for (const file of [args.out, publicFile]) if (existsSync(file)) throw new McsError('E_USAGE', `${file} already exists; give another --out, or move it aside`, { details: { file } });
  const { publicKey, privateKey } = args.type === 'ecdsa-p256' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('ed25519');
  writeNewFile(args.out, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
  try {
    writeNewFile(publicFile, publicKey.export({ type: 'spki', format: 'pem' }));
  } catch (error) {
    rmSync(args.out, { force: true }); // a private key without its public half is of no use
    throw error;
  }
  const result = { keyid: keyIdOf(publicKey), ...publicKeyRecord(publicKey), privateKey: args.out, publicKey: publicFile };
  context.out(context.json ? JSON.stringify(result, null, 2) : `Wrote ${args.out} (keyid ${result.keyid}, ${result.keytype}); keep it private. Share ${publicFile} for index root --member`);
  return 0;
}
