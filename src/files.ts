/**
 * Files: every file mcs-pkg reads goes through readFileCapped (a regular
 * file, opened without blocking, read up to a cap); files are written so that
 * no reader (and no failure) ever sees half a file; folders are created one
 * level at a time, failing fast; and leftovers of killed runs are removed.
 * Every failure is a coded error naming the file.
 */
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { accessSync, closeSync, constants, fstatSync, linkSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { McsError, type McsErrorCode } from './errors.js';

export interface ReadOptions {
  /** The code of a file that cannot be read or is not a regular file (default E_USAGE). */
  code?: McsErrorCode;
  /** The code of a file over the cap (default: `code`). */
  tooLargeCode?: McsErrorCode;
  /** Refuse a link at the last component instead of following it. */
  noFollow?: boolean;
}

/** What a non-regular file is, for messages. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return stats.isFile() ? 'a regular file' : 'of an unknown kind';
}

/** First buffer for a file whose size fstat reports as (nearly) nothing, as /proc files do. */
const MIN_READ_BUFFER = 4096;

/**
 * Reads a file whole, refusing it unread when it is not a regular file (a
 * FIFO, a device, a folder: opened with O_NONBLOCK, so a FIFO cannot hang the
 * open) or when fstat says it is over `maxBytes`. A file whose size lies
 * (/proc) or grows while being read is read to at most maxBytes + 1 bytes
 * and then refused.
 */
export function readFileCapped(file: string, maxBytes: number, what: string, options: ReadOptions = {}): Buffer {
  const code = options.code ?? 'E_USAGE';
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | (options.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (cause) {
    throw new McsError(code, `cannot read ${what} ${file}: ${(cause as Error).message}`, { cause, details: { file } });
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new McsError(code, `${what} ${file} is ${kindOf(stats)}, not a regular file`, { details: { file, kind: kindOf(stats) } });
    if (stats.size > maxBytes) throw new McsError(options.tooLargeCode ?? code, `${what} ${file} is ${stats.size} bytes, over the limit of ${maxBytes}`, { details: { file, limit: maxBytes, found: stats.size } });
    // sized from fstat, grown when the size lies; one byte past the cap tells an over-cap file from one exactly at it
    let buffer = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(stats.size + 1, MIN_READ_BUFFER)));
    let total = 0;
    for (;;) {
      if (total === buffer.length) {
        if (total > maxBytes) break;
        const grown = Buffer.allocUnsafe(Math.min(maxBytes + 1, buffer.length * 2));
        buffer.copy(grown, 0, 0, total);
        buffer = grown;
      }
      const n = readSync(fd, buffer, total, buffer.length - total, null);
      if (n === 0) break;
      total += n;
    }
    if (total > maxBytes) throw new McsError(options.tooLargeCode ?? code, `${what} ${file} grew past the limit of ${maxBytes} bytes while being read`, { details: { file, limit: maxBytes } });
    return buffer.subarray(0, total);
  } catch (cause) {
    if (cause instanceof McsError) throw cause;
    throw new McsError(code, `cannot read ${what} ${file}: ${(cause as Error).message}`, { cause, details: { file } });
  } finally {
    closeSync(fd);
  }
}

export interface MakeDirsOptions {
  /** The code of a folder that cannot be created or written (default E_USAGE). */
  code?: McsErrorCode;
  /** Mode of the folders created. */
  mode?: number;
  /** The way out, added to the message. */
  hint?: string;
}

/**
 * Creates a folder and its missing parents one level at a time, then checks
 * that it can be written. Node's recursive mkdir loops forever where mkdir
 * answers ENOENT under a parent that exists (/proc/self), so it is not used;
 * a path under a file, under /proc, or in a read-only place fails at once
 * with a coded error naming it.
 */
export function makeDirs(dir: string, what: string, options: MakeDirsOptions = {}): void {
  const fail = (why: string, cause?: unknown) =>
    new McsError(options.code ?? 'E_USAGE', `${what} ${dir} cannot be created or used: ${why}${options.hint ? `; ${options.hint}` : ''}`, { cause, details: { path: dir } });
  const missing: string[] = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    let stats: Stats;
    try {
      stats = statSync(current);
    } catch (cause) {
      // ENOTDIR: some level is a file, which the walk up names
      const code = (cause as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(current) === current) throw fail((cause as Error).message, cause);
      missing.push(current);
      continue;
    }
    if (!stats.isDirectory()) throw fail(`${current} is ${kindOf(stats)}, not a folder`);
    break;
  }
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level, options.mode === undefined ? undefined : { mode: options.mode });
    } catch (cause) {
      // another process may have made it meanwhile
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') throw fail((cause as Error).message, cause);
    }
  }
  try {
    if (!statSync(dir).isDirectory()) throw fail('it is not a folder');
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (cause) {
    if (cause instanceof McsError) throw cause;
    throw fail(`it cannot be written (${(cause as Error).message})`, cause);
  }
}

/** Whether the process `pid` may still be running: only a definite "no such process" says it is not (0 and negative ids name process groups, so they count as alive). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The temporary files of writeAtomic and writeNewFile: <file>.<pid>.<8 hex>.tmp. */
export const TEMP_FILE_PID = /\.(\d+)\.[0-9a-f]{8}\.tmp$/;

/**
 * Removes the leftovers of killed runs from a folder: every name that matches
 * one of `patterns` (whose first capture group is the id of the process that
 * made it) and whose process no longer runs. Best effort: what cannot be
 * removed now is tried again next time.
 */
export function removeDeadLeftovers(dir: string, patterns: readonly RegExp[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = patterns.map((pattern) => pattern.exec(name)?.[1]).find((found) => found !== undefined);
    if (pid !== undefined && !processAlive(Number(pid))) {
      try {
        rmSync(join(dir, name), { recursive: true, force: true });
      } catch {
        // left for the next run
      }
    }
  }
}

function temporary(file: string, bytes: Uint8Array | string, mode: number): string {
  try {
    makeDirs(dirname(file), 'folder');
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
