/**
 * Files the user names: read with a byte cap, written so that no reader (and
 * no failure) ever sees half a file, and keys read as keys. Every failure is
 * a coded error naming the file.
 */
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { McsError } from './errors.js';

/** Reads a file the user named, refusing it unread when it is over `maxBytes`. */
export function readFileCapped(file: string, maxBytes: number, what: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (cause) {
    throw new McsError('E_USAGE', `cannot read ${what} ${file}: ${(cause as Error).message}`, { cause, details: { file } });
  }
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new McsError('E_USAGE', `${what} ${file} is ${size} bytes, over the limit of ${maxBytes}`, { details: { file, limit: maxBytes, found: size } });
    const buffer = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      const n = readSync(fd, buffer, offset, size - offset, offset);
      if (n === 0) break;
      offset += n;
    }
    return buffer.subarray(0, offset);
  } catch (cause) {
    if (cause instanceof McsError) throw cause;
    throw new McsError('E_USAGE', `cannot read ${what} ${file}: ${(cause as Error).message}`, { cause, details: { file } });
  } finally {
    closeSync(fd);
  }
}

function temporary(file: string, bytes: Uint8Array | string, mode: number): string {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, bytes, { flag: 'wx', mode });
    return temp;
  } catch (cause) {
    throw new McsError('E_USAGE', `cannot write ${file}: ${(cause as Error).message}`, { cause, details: { file } });
  }
}

/** Writes a file so that readers see the old bytes or the new ones, never a part. */
export function writeAtomic(file: string, bytes: Uint8Array | string, mode = 0o666): void {
  const temp = temporary(file, bytes, mode);
  try {
    renameSync(temp, file);
  } catch (cause) {
    rmSync(temp, { force: true });
    throw new McsError('E_USAGE', `cannot write ${file}: ${(cause as Error).message}`, { cause, details: { file } });
  }
}

/** Writes a file that must not exist yet, whole or not at all (E_USAGE if it exists). */
export function writeNewFile(file: string, bytes: Uint8Array | string, mode = 0o666): void {
  const temp = temporary(file, bytes, mode);
  try {
    linkSync(temp, file);
  } catch (cause) {
    const exists = (cause as NodeJS.ErrnoException).code === 'EEXIST';
    throw new McsError('E_USAGE', exists ? `${file} already exists; give another file, or move it aside` : `cannot write ${file}: ${(cause as Error).message}`, { cause, details: { file } });
  } finally {
    rmSync(temp, { force: true });
  }
}

/** Reads a PEM key: `private` needs a private key; `public` takes either and gives its public half. */
export function readKey(file: string, kind: 'private' | 'public'): KeyObject {
  const pem = readFileCapped(file, 64 * 1024, `${kind} key`).toString('utf8');
  try {
    return kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (cause) {
    const hint = kind === 'private' ? ' (give the private .pem file index keygen wrote, not its .pub)' : '';
    throw new McsError('E_USAGE', `${file} is not a ${kind} key in PEM${hint}: ${(cause as Error).message}`, { cause, details: { file } });
  }
}
