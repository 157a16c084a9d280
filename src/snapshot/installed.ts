/**
 * The signed snapshot an index folder was installed from, and whether it may
 * still be read. `update` leaves the verified metadata in the folder it
 * unpacks (.snapshot.json: hidden, so it is not index content); readers
 * decide from it and a clock. A snapshot past its expiry may be frozen
 * (TUF's freeze attack: a yank or a withdrawn label never arrives), so the
 * loader refuses it unless the caller opts in, and search and info say so.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { McsError } from '../errors.js';
import { readFileCapped, writeAtomic } from '../files.js';
import { parseJsonStrict } from '../manifest/json.js';
import { MAX_METADATA_BYTES, assertRootShape, type RootSigned } from './metadata.js';

export const INSTALLED_SNAPSHOT_FILE = '.snapshot.json';
export const INSTALLED_ROOT_FILE = '.root.json';
const MAX_INSTALLED_SNAPSHOT_BYTES = 64 * 1024;

/** What the client keeps of a verified snapshot. */
export interface InstalledSnapshot {
  version: number;
  /** ISO time after which the snapshot is expired. */
  expires: string;
  rootVersion: number;
}

/** Whether the index being read is still within its snapshot's validity. */
export interface IndexFreshness {
  /** The snapshot version the index was installed from; null for a folder `update` did not install (the shipped index, a maintainer's folder), which has no expiry. */
  snapshot: number | null;
  expires: string | null;
  expired: boolean;
}

/** Records, in a folder `update` unpacked, the verified snapshot it came from, and the trusted root it was verified with (which checks the log's signatures for info). */
export function writeInstalledSnapshot(indexDir: string, snapshot: InstalledSnapshot, root?: RootSigned): void {
  const { version, expires, rootVersion } = snapshot;
  writeAtomic(join(indexDir, INSTALLED_SNAPSHOT_FILE), JSON.stringify({ version, expires, rootVersion }) + '\n');
  if (root) writeAtomic(join(indexDir, INSTALLED_ROOT_FILE), JSON.stringify(root) + '\n');
}

/** The trusted index root an installed folder was verified with (hidden, not index content), or undefined for a folder update did not install. */
export function readInstalledRoot(indexDir: string): RootSigned | undefined {
  const file = join(indexDir, INSTALLED_ROOT_FILE);
  if (!existsSync(file)) return undefined;
  const root = parseJsonStrict(readFileCapped(file, MAX_METADATA_BYTES, 'installed index root', { code: 'E_INDEX_IO' }), { source: file, maxBytes: MAX_METADATA_BYTES }) as RootSigned;
  assertRootShape(root, file);
  return root;
}

/** The snapshot an index folder was installed from, or undefined when `update` did not install it. */
export function readInstalledSnapshot(indexDir: string): InstalledSnapshot | undefined {
  const file = join(indexDir, INSTALLED_SNAPSHOT_FILE);
  if (!existsSync(file)) return undefined;
  const value = parseJsonStrict(readFileCapped(file, MAX_INSTALLED_SNAPSHOT_BYTES, 'installed snapshot record', { code: 'E_INDEX_IO' }), { source: file, maxDepth: 4 }) as Partial<InstalledSnapshot> | null;
  if (typeof value !== 'object' || value === null || !Number.isSafeInteger(value.version) || typeof value.expires !== 'string' || !Number.isSafeInteger(value.rootVersion)) {
    throw new McsError('E_INDEX_IO', `${file}: not a record of an installed snapshot; run mcs-pkg update to write it again`, { details: { file } });
  }
  return { version: value.version!, expires: value.expires, rootVersion: value.rootVersion! };
}

/** Decides whether an index may still be read at `now`: expired once `now` reaches the snapshot's expiry (an expiry that does not parse counts as passed). */
export function indexFreshness(installed: InstalledSnapshot | undefined, now: Date): IndexFreshness {
  if (!installed) return { snapshot: null, expires: null, expired: false };
  const expires = Date.parse(installed.expires);
  return { snapshot: installed.version, expires: installed.expires, expired: Number.isNaN(expires) || expires <= now.getTime() };
}

/** What an expired index means and the ways out, for a warning or a refusal. */
export function expiredIndexMessage(freshness: IndexFreshness): string {
  return `the installed index (snapshot version ${freshness.snapshot}) expired at ${freshness.expires}, so it may be stale: a yanked version or a withdrawn label may be missing. Run mcs-pkg update to install a current snapshot`;
}

/** Refuses to load from an expired index unless the caller opted in (E_INDEX_EXPIRED, with both ways out). */
export function assertIndexFresh(freshness: IndexFreshness, allowExpired: boolean): void {
  if (!freshness.expired || allowExpired) return;
  throw new McsError('E_INDEX_EXPIRED', `${expiredIndexMessage(freshness)}, or load from it anyway with --allow-expired-index (allowExpiredIndex: true in loadDriver and resolveDriver)`, {
    details: { snapshot: freshness.snapshot, expires: freshness.expires },
  });
}

/** Where an installed index keeps the signed metadata it was verified with, as received (hidden: not index content). */
export const SIGNED_METADATA_DIR = '.signed';
/** The cap on metadata files (metadata.ts MAX_METADATA_BYTES, not imported: readers of this module load no signature code). */
const MAX_SIGNED_METADATA_BYTES = 1024 * 1024;
export type SignedMetadataFile = 'snapshot.json' | 'root.json';

/** Keeps, in a folder being unpacked, the verified snapshot.json and (when known) the signed root it was checked against, byte for byte. */
export function keepSignedMetadata(indexDir: string, snapshot: Buffer, root: Buffer | null): void {
  mkdirSync(join(indexDir, SIGNED_METADATA_DIR), { recursive: true });
  writeFileSync(join(indexDir, SIGNED_METADATA_DIR, 'snapshot.json'), snapshot, { flag: 'wx' });
  if (root) writeFileSync(join(indexDir, SIGNED_METADATA_DIR, 'root.json'), root, { flag: 'wx' });
}

/** The signed metadata an installed index was verified with, or undefined when it keeps none (an index `update` did not install). */
export function readSignedMetadata(indexDir: string, name: SignedMetadataFile): Buffer | undefined {
  const file = join(indexDir, SIGNED_METADATA_DIR, name);
  return existsSync(file) ? readFileCapped(file, MAX_SIGNED_METADATA_BYTES, 'signed index metadata', { code: 'E_INDEX_IO' }) : undefined;
}
