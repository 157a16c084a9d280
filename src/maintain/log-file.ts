/**
 * The audit log on disk and its signers: the log is read a line at a time
 * (a cap per line and on the whole file, so its size never decides the
 * memory used), and its records are signed and checked with the maintainer
 * keys the index root lists. Where a check gets the root: `--root FILE`, or
 * the root.json kept in the index folder.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { McsError } from '../errors.js';
import { readFileCapped } from '../files.js';
import { KEYLESS_TYPE, MAX_METADATA_BYTES, keyIdOf, publicKeyRecord, rotateRoot, trustInitialRoot, type RootSigned } from '../snapshot/metadata.js';
import { readInstalledRoot } from '../snapshot/installed.js';
import { LOG_FILE, LogScan, type LogKeys, type LogRecord, type LogScanOptions, type RecordSigner } from './log.js';

/** The index root kept in an index folder: it lists the maintainer keys that sign the audit log. */
export const INDEX_ROOT_FILE = 'root.json';
/** Largest audit log read, in bytes. */
export const MAX_LOG_BYTES = 1024 * 1024 * 1024;
/** Longest record line read, in bytes. */
export const MAX_RECORD_BYTES = 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;

/**
 * Reads a log file a chunk at a time into a LogScan: only a regular file, at
 * most `maxBytes` in all and MAX_RECORD_BYTES a line (E_LOG_TOO_LARGE), in
 * UTF-8 (E_LOG_CHAIN otherwise).
 */
export function scanLogFile(file: string, options: Omit<LogScanOptions, 'source'> & { maxBytes?: number } = {}): LogScan {
  const { maxBytes = MAX_LOG_BYTES, ...scanOptions } = options;
  const scan = new LogScan({ source: file, ...scanOptions });
  const tooLarge = (why: string): McsError => new McsError('E_LOG_TOO_LARGE', `${file}:${scan.records + 1}: ${why}; the log is refused`, { details: { source: file, line: scan.records + 1 } });
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (cause) {
    throw new McsError('E_INDEX_IO', `cannot read the audit log ${file}: ${(cause as Error).message}`, { cause, details: { source: file } });
  }
  try {
    if (!fstatSync(fd).isFile()) throw new McsError('E_INDEX_IO', `${file}: the audit log is not a regular file`, { details: { source: file } });
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const take = (bytes: Buffer): void => {
      let text: string;
      try {
        text = decoder.decode(bytes);
      } catch (cause) {
        throw new McsError('E_LOG_CHAIN', `${file}:${scan.records + 1}: not a log record: not UTF-8`, { cause, details: { source: file, line: scan.records + 1 } });
      }
      scan.line(text);
    };
    const chunk = Buffer.alloc(CHUNK_BYTES);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let total = 0;
    for (;;) {
      const read = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (read === 0) break;
      total += read;
      if (total > maxBytes) throw tooLarge(`the log is over the limit of ${maxBytes} bytes`);
      const view = chunk.subarray(0, read);
      let start = 0;
      for (let end = view.indexOf(10, start); end !== -1; end = view.indexOf(10, start)) {
        if (pendingBytes + end - start > MAX_RECORD_BYTES) throw tooLarge(`a record over the limit of ${MAX_RECORD_BYTES} bytes`);
        take(pendingBytes > 0 ? Buffer.concat([...pending, view.subarray(start, end)]) : view.subarray(start, end));
        pending = [];
        pendingBytes = 0;
        start = end + 1;
      }
      if (pendingBytes + read - start > MAX_RECORD_BYTES) throw tooLarge(`a record over the limit of ${MAX_RECORD_BYTES} bytes`);
      pending.push(Buffer.from(view.subarray(start)));
      pendingBytes += read - start;
    }
    if (pendingBytes > 0) take(Buffer.concat(pending));
    scan.bytes = total;
    return scan.finish();
  } finally {
    closeSync(fd);
  }
}

/** The log of an index folder, read and checked; an empty scan when it keeps none. */
export function scanIndexLog(indexDir: string, options: Omit<LogScanOptions, 'source'> = {}): LogScan {
  const file = join(indexDir, LOG_FILE);
  return existsSync(file) ? scanLogFile(file, options) : new LogScan({ source: file, ...options });
}

/**
 * Who set a package's label, as the log of its index folder records it (its
 * last label record), or undefined where none does. Its signature is checked
 * against the folder's root.json (for an installed index, the root the update
 * verified the snapshot with): `signed` is the key only when it verified; a
 * bad signature or a key the root does not list fails (E_LOG_SIGNATURE);
 * without a root nothing is checked, and `unchecked` says so.
 */
export function labelRecord(indexDir: string, id: string): { seq: number; by: string; at: string; why: string; keyid?: string; signed?: string; unchecked?: 'no root' } | undefined {
  const root = readInstalledRoot(indexDir) ?? indexRootOf(indexDir)?.root;
  const note = scanIndexLog(indexDir, root ? { keys: logKeysOf(root) } : {}).labelNotes.get(id);
  if (!note) return undefined;
  return { seq: note.seq, by: note.by, at: note.at, why: note.why, ...(note.keyid ? { keyid: note.keyid } : {}), ...(note.verified ? { signed: note.keyid! } : note.keyid ? { unchecked: 'no root' as const } : {}) };
}

/** The name a root gives a maintainer key (`by` of the records it signs): its member name, else `key:` and the start of its id. */
export function memberName(root: RootSigned, keyid: string): string {
  const record = Object.hasOwn(root.keys, keyid) ? (root.keys[keyid] as { name?: unknown }) : undefined;
  return typeof record?.name === 'string' && record.name !== '' ? record.name : `key:${keyid.slice(0, 16)}`;
}

/** The maintainer keys of a root (keys of its root or snapshot role; a keyless workflow signs snapshots, not records). */
export function logKeysOf(root: RootSigned): LogKeys {
  const keys: LogKeys = new Map();
  for (const keyid of new Set([...root.roles.root.keyids, ...root.roles.snapshot.keyids])) {
    const record = Object.hasOwn(root.keys, keyid) ? root.keys[keyid] : undefined;
    if (!record || record.keytype === KEYLESS_TYPE) continue;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: Buffer.from(record.public, 'base64'), format: 'der', type: 'spki' });
      if (keyIdOf(key) !== keyid) continue;
    } catch {
      continue; // an unusable key signs nothing
    }
    const algorithm = record.keytype === 'ed25519' ? null : 'sha256';
    keys.set(keyid, {
      by: memberName(root, keyid),
      verify: (bytes, sig) => {
        try {
          return verify(algorithm, bytes, key, Buffer.from(sig, 'base64'));
        } catch {
          return false;
        }
      },
    });
  }
  return keys;
}

/** A signer of records for a maintainer's private key, which the root must list (E_LOG_SIGNATURE otherwise: nobody would accept its records). */
export function maintainerSigner(privateKey: KeyObject, root: RootSigned, rootSource: string): RecordSigner {
  const publicKey = createPublicKey(privateKey);
  const keyid = keyIdOf(publicKey);
  if (!logKeysOf(root).has(keyid)) {
    throw new McsError('E_LOG_SIGNATURE', `the key given (id ${keyid.slice(0, 16)}) is not a maintainer key of index root version ${root.version} (${rootSource}); nothing was changed. Sign with your own key, or have it added to the root (index root --member)`, { details: { keyid, root: rootSource } });
  }
  const algorithm = publicKeyRecord(publicKey).keytype === 'ed25519' ? null : 'sha256';
  return { keyid, by: memberName(root, keyid), sign: (bytes) => sign(algorithm, bytes, privateKey).toString('base64') };
}

/**
 * The maintainer keys of the roots an index root rotated from (the files
 * given, in any order): each must rotate to the next, the last to `current`,
 * by the client's own rotation check (the next root signed by a threshold of
 * the one before), so a root made up for the purpose vouches for nothing
 * (E_INDEX_ROOT).
 */
export function previousRootKeys(files: readonly string[], current: { root: RootSigned; source: string }): LogKeys {
  const roots = files.map((file) => ({ file, root: trustInitialRoot(readFileCapped(file, MAX_METADATA_BYTES, 'previous index root'), file) })).sort((a, b) => a.root.version - b.root.version);
  const keys: LogKeys = new Map();
  roots.forEach(({ root }, i) => {
    const next = roots[i + 1];
    rotateRoot(root, readFileCapped(next?.file ?? current.source, MAX_METADATA_BYTES, 'index root'), next?.file ?? current.source);
    for (const [keyid, key] of logKeysOf(root)) keys.set(keyid, key);
  });
  return keys;
}

/** The index root a log is checked against: the file given, else the root.json kept in the index folder, else none. */
export function indexRootOf(indexDir: string, rootFile?: string): { root: RootSigned; source: string } | undefined {
  const source = rootFile ?? join(indexDir, INDEX_ROOT_FILE);
  if (rootFile === undefined && !existsSync(source)) return undefined;
  return { root: trustInitialRoot(readFileCapped(source, MAX_METADATA_BYTES, 'index root', { code: 'E_INDEX_IO' }), source), source };
}
