/**
 * The maintainer's files for a signed index: a key pair (`index keygen`) and
 * an index root signed by a threshold of maintainers (`index root`). Each is
 * checked as clients will check it before anything is written, and an
 * existing file is never replaced.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { McsError, wholeNumber } from '../errors.js';
import { readFileCapped, readKey, writeNewFile } from '../files.js';
import { assertOutsideInstall } from '../maintain/target.js';
import { MAX_METADATA_BYTES, keyIdOf, makeRoot, publicKeyRecord, rotateRoot, signMetadata, trustInitialRoot, type KeylessIdentity, type KeyType, type PublicKeyRecord, type RootSigned, type Signed } from './metadata.js';

export const DEFAULT_ROOT_EXPIRES_DAYS = 365;

export interface MaintainerKeyOptions {
  /** Where the private key goes (PEM, mode 0600); the public key goes to `<out>.pub`. */
  out: string;
  /** Default ed25519. */
  type?: KeyType;
}

export interface MaintainerKey extends PublicKeyRecord {
  keyid: string;
  /** The files written. */
  privateKey: string;
  publicKey: string;
}

/** Writes a maintainer's key pair: both files or neither. */
export function generateMaintainerKey(options: MaintainerKeyOptions): MaintainerKey {
  const publicFile = `${options.out}.pub`;
  for (const file of [options.out, publicFile]) assertOutsideInstall(file, 'give --out a file of your own (outside the program\'s files)');
  for (const file of [options.out, publicFile]) if (existsSync(file)) throw new McsError('E_USAGE', `${file} already exists; give another --out, or move it aside`, { details: { file } });
  const { publicKey, privateKey } = options.type === 'ecdsa-p256' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('ed25519');
  writeNewFile(options.out, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
  try {
    writeNewFile(publicFile, publicKey.export({ type: 'spki', format: 'pem' }));
  } catch (error) {
    rmSync(options.out, { force: true }); // a private key without its public half is of no use
    throw error;
  }
  return { keyid: keyIdOf(publicKey), ...publicKeyRecord(publicKey), privateKey: options.out, publicKey: publicFile };
}

export interface IndexRootOptions {
  /** Where the signed root goes. */
  out: string;
  /** The maintainers' key files (public or private PEM), each optionally with the name the audit log records for it as `by`. */
  members: Array<string | { file: string; name?: string }>;
  /** The private key files that sign it: a threshold of members, and for a rotation also of the previous root. */
  signers: string[];
  /** Maintainer signatures a new root needs. */
  threshold: number;
  /** Signatures a snapshot needs (default: threshold). */
  snapshotThreshold?: number;
  /** Publishing workflows that may also sign snapshots keylessly. */
  keyless?: KeylessIdentity[];
  /** The root file this one replaces (a rotation). */
  previous?: string;
  /** Default: one more than the previous root's, else 1. */
  version?: number;
  /** Default DEFAULT_ROOT_EXPIRES_DAYS. */
  expiresDays?: number;
  now?: Date;
}

/** Makes, signs and writes an index root, after checking it (and for a rotation, the previous root's signatures) as clients will. */
export function writeIndexRoot(options: IndexRootOptions): Signed<RootSigned> {
  assertOutsideInstall(options.out, 'give --out a file of your own (outside the program\'s files), such as root.json in your index folder');
  const keyless = options.keyless ?? [];
  const members = options.members.map((m) => (typeof m === 'string' ? { file: m } : m));
  const previous = options.previous ? trustInitialRoot(readFileCapped(options.previous, MAX_METADATA_BYTES, 'previous index root'), options.previous) : undefined;
  const version = wholeNumber(options.version ?? (previous ? previous.version + 1 : 1), 'root-version', 1, 2 ** 31);
  if (version > 1 && !previous) throw new McsError('E_USAGE', `root version ${version} is a rotation: give the root it replaces with --previous FILE, so the new one is checked against its keys before it is written`, {});
  const signed = makeRoot({
    version,
    expires: new Date((options.now ?? new Date()).getTime() + wholeNumber(options.expiresDays ?? DEFAULT_ROOT_EXPIRES_DAYS, 'expires-days', 1, 3650) * 86_400_000).toISOString(),
    maintainers: members.map((m) => readKey(m.file, 'public')),
    names: members.map((m) => m.name),
    threshold: wholeNumber(options.threshold, 'threshold', 1, options.members.length),
    keyless,
    ...(options.snapshotThreshold !== undefined ? { snapshotThreshold: wholeNumber(options.snapshotThreshold, 'snapshot-threshold', 1, options.members.length + keyless.length) } : {}),
  });
  const root = signMetadata(signed, options.signers.map((file) => readKey(file, 'private')));
  const text = JSON.stringify(root, null, 1);
  // the shape, the thresholds and its own signatures, and for a rotation the previous root's, before anything is written
  const check = `${options.out} (not written)`;
  if (previous) rotateRoot(previous, Buffer.from(text), check);
  else trustInitialRoot(Buffer.from(text), check);
  writeNewFile(options.out, text);
  return root;
}
