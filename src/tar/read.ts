/**
 * A bounded reader for npm package tarballs (gzip + ustar/pax). It lists
 * entries and returns file contents without writing anything, and refuses
 * archives past its caps instead of reading them whole.
 */
import { gunzipSync } from 'node:zlib';
import { McsError } from '../errors.js';

export const DEFAULT_MAX_UNPACKED_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_ENTRIES = 20_000;

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** The path as stored (pax path or prefix/name), not normalized. */
  path: string;
  type: TarEntryType;
  /** Raw typeflag, for messages about unexpected types. */
  typeflag: string;
  size: number;
  mode: number;
  linkname: string;
  /** File content (files only). */
  data?: Buffer;
}

export interface ReadTarOptions {
  maxUnpackedBytes?: number;
  maxEntries?: number;
  /** Where the bytes came from, for messages. */
  source?: string;
}

function invalid(source: string, reason: string, cause?: unknown): McsError {
  return new McsError('E_TARBALL_INVALID', `${source}: not a readable package tarball: ${reason}`, { cause, details: { source } });
}

function cString(block: Buffer, start: number, length: number): string {
  const slice = block.subarray(start, start + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? slice.length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number, source: string): number {
  const field = block.subarray(start, start + length);
  if (field[0]! & 0x80) {
    // base-256: big-endian, first byte's high bit set
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    if (!Number.isSafeInteger(value)) throw invalid(source, 'a size field is out of range');
    return value;
  }
  const text = cString(block, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw invalid(source, `bad number field ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

interface PaxRecords {
  path?: string;
  linkpath?: string;
  size?: number;
}

/**
 * Reads a pax extended header ("<len> <key>=<value>\n" records). path,
 * linkpath and size override the next header, as node-tar and GNU tar apply
 * them: reading a different size than they do would make this reader see
 * other files than the ones npm installs.
 */
function paxRecords(data: Buffer, source: string): PaxRecords {
  const records: PaxRecords = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space === -1) break;
    const length = parseInt(data.subarray(offset, space).toString('ascii'), 10);
    if (!Number.isInteger(length) || length <= 0 || offset + length > data.length) throw invalid(source, 'a malformed pax header');
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    const key = eq > 0 ? record.slice(0, eq) : '';
    const value = record.slice(eq + 1);
    if (key === 'path') records.path = value;
    else if (key === 'linkpath') records.linkpath = value;
    else if (key === 'size') {
      if (!/^\d{1,15}$/.test(value)) throw invalid(source, `a pax size ${JSON.stringify(value)}`);
      records.size = Number(value);
    }
    offset += length;
  }
  return records;
}

const TYPES: Record<string, TarEntryType> = { '0': 'file', '\0': 'file', '': 'file', '7': 'file', '5': 'directory', '2': 'symlink', '1': 'hardlink' };

/** Lists every entry of a gzipped tarball with its content, within the caps. */
export function readTarball(gzipped: Uint8Array, options: ReadTarOptions = {}): TarEntry[] {
  const source = options.source ?? 'tarball';
  const maxBytes = options.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED_BYTES;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  let tar: Buffer;
  try {
    tar = gunzipSync(gzipped, { maxOutputLength: maxBytes });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || (cause instanceof RangeError)) throw invalid(source, `unpacks to more than ${maxBytes} bytes`, cause);
    throw invalid(source, `gzip: ${(cause as Error).message}`, cause);
  }
  const entries: TarEntry[] = [];
  let offset = 0;
  let pending: PaxRecords = {};
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) {
      // node-tar reads on after a zero block: anything but zeros from here on would be seen by it and not by us
      if (tar.subarray(offset).some((b) => b !== 0)) throw invalid(source, 'data after the end-of-archive marker');
      break;
    }
    let checksum = 0;
    for (let i = 0; i < 512; i++) checksum += i >= 148 && i < 156 ? 0x20 : header[i]!;
    if (checksum !== octal(header, 148, 8, source)) throw invalid(source, `bad header checksum at byte ${offset}`);
    const typeflag = String.fromCharCode(header[156]!);
    const size = pending.size ?? octal(header, 124, 12, source);
    const dataStart = offset + 512;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.length) throw invalid(source, 'an entry runs past the end of the archive');
    const data = tar.subarray(dataStart, dataEnd);
    offset = dataStart + Math.ceil(size / 512) * 512;
    if (typeflag === 'x') {
      pending = paxRecords(data, source);
      continue;
    }
    if (typeflag === 'g') throw invalid(source, 'a global pax header (it would change how every later entry is read)');
    if (typeflag === 'L') {
      pending = { ...pending, path: cString(data, 0, data.length) };
      continue;
    }
    if (typeflag === 'K') {
      pending = { ...pending, linkpath: cString(data, 0, data.length) };
      continue;
    }
    if (entries.length >= maxEntries) throw invalid(source, `more than ${maxEntries} entries`);
    const magic = cString(header, 257, 6);
    const prefix = magic.startsWith('ustar') ? cString(header, 345, 155) : '';
    const name = cString(header, 0, 100);
    const path = pending.path ?? (prefix ? `${prefix}/${name}` : name);
    const linkname = pending.linkpath ?? cString(header, 157, 100);
    pending = {};
    const type = TYPES[typeflag] ?? 'other';
    entries.push({
      path,
      type,
      typeflag,
      size,
      mode: octal(header, 100, 8, source),
      linkname,
      ...(type === 'file' ? { data: Buffer.from(data) } : {}),
    });
  }
  if (pending.path !== undefined || pending.linkpath !== undefined || pending.size !== undefined) throw invalid(source, 'a pax or GNU long-name header with no entry after it');
  return entries;
}
