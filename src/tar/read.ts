/**
 * Reads npm package tarballs with node-tar, the parser `npm install` itself
 * unpacks them with (through pacote), so mcs-pkg sees the entries npm sees:
 * the same header decoding, the same way GNU long names, pax and global
 * headers combine, the same end of archive. This is the only importer of
 * `tar`. It lists entries and returns file contents without writing
 * anything, within byte and entry caps.
 *
 * node-tar runs in strict mode, so any warning (a bad checksum, a truncated
 * body, an invalid header) refuses the archive where npm would skip the entry
 * and go on. On top of that, archives whose meaning depends on the reader are
 * refused, so that `tar -t` and other npm versions cannot show something else
 * either: stacked extended headers for one entry (node-tar lets a later GNU
 * long name override a pax path, GNU tar the reverse), empty ones (GNU tar
 * names the next entry "" after an empty long name, node-tar skips it),
 * global headers, old-style 'N' and 'X' headers, long link names, pax size
 * records, extended headers node-tar ignores (over its 1 MiB cap), entries
 * after a lone zero block (GNU tar stops there, node-tar reads on), and
 * anything but zeros after the end of the archive. mcs-pkg reads only
 * gzipped tarballs, inflated once, as the registry serves them.
 */
import { gunzipSync } from 'node:zlib';
import { Header, Parser, type ReadEntry } from 'tar';
import { McsError } from '../errors.js';

export const DEFAULT_MAX_UNPACKED_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_ENTRIES = 20_000;

const BLOCK = 512;

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** The path as node-tar reads it (header, prefix, GNU long name or pax path), not normalized. */
  path: string;
  type: TarEntryType;
  /** node-tar's typeflag (a file named with a trailing slash is '5'), or 'Unsupported'; for messages. */
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

const TYPES: Record<string, TarEntryType> = { '0': 'file', '7': 'file', '5': 'directory', '2': 'symlink', '1': 'hardlink' };

/** A pax record that sets the size of the next entry ("<len> size=<n>"); readers parse its value differently. */
const PAX_SIZE = /(?:^|\n)\d+ size=/;

/** Lists every entry of a gzipped tarball with its content, within the caps. */
export function readTarball(gzipped: Uint8Array, options: ReadTarOptions = {}): TarEntry[] {
  const source = options.source ?? 'tarball';
  const maxBytes = options.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED_BYTES;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  if (gzipped[0] !== 0x1f || gzipped[1] !== 0x8b) throw invalid(source, 'it is not gzip-compressed');
  let tar: Buffer;
  try {
    tar = gunzipSync(gzipped, { maxOutputLength: maxBytes });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || (cause instanceof RangeError)) throw invalid(source, `unpacks to more than ${maxBytes} bytes`, cause);
    throw invalid(source, `gzip: ${(cause as Error).message}`, cause);
  }
  // node-tar sniffs its input for compression; npm hands it the tarball once, so it never inflates twice
  if ((tar[0] === 0x1f && tar[1] === 0x8b) || (tar[0] === 0x28 && tar[1] === 0xb5 && tar[2] === 0x2f && tar[3] === 0xfd)) {
    throw invalid(source, 'it is compressed twice');
  }
  return parseTar(tar, source, maxEntries);
}

/** Extended headers that only old or other tar writers produce, and readers disagree on. */
const REFUSED_META: Record<string, string> = {
  GlobalExtendedHeader: 'a global pax header (it changes how every later entry is read)',
  OldGnuLongPath: "an old GNU long-name header ('N'), which GNU tar reads differently",
  OldExtendedHeader: "an old extended header ('X'), which GNU tar reads differently",
  NextFileHasLongLinkpath: 'a GNU long link name (a package holds no links)',
};

/**
 * Feeds the archive to node-tar header by header (a body in one write) and
 * watches where each header falls: an entry header raises 'entry' (or 'ignoredEntry'), a zero
 * block 'nullBlock' or 'eof', and a block that raises nothing at a header
 * position is an extended header, decoded by node-tar's own Header to learn
 * its type and length. Watching only ever refuses; the entries are node-tar's.
 */
function parseTar(tar: Buffer, source: string, maxEntries: number): TarEntry[] {
  const entries: TarEntry[] = [];
  let refusal: McsError | undefined;
  const refuse = (reason: string, cause?: unknown) => {
    refusal ??= invalid(source, reason, cause);
  };
  let metas = 0;
  let nullBlock = false;
  let eof = false;
  let headerEvent = false;
  let bodyBlocks = 0;
  let block: Buffer = Buffer.alloc(0);
  let metaBody = false;
  let metaEvents = 0;

  const parser = new Parser({ strict: true });
  parser.on('error', (error: Error) => refuse(error.message, error));
  parser.on('warn', (code: string, message: string) => refuse(`${code}: ${message}`));
  parser.on('nullBlock', () => {
    headerEvent = true;
    nullBlock = true;
  });
  parser.on('eof', () => {
    headerEvent = true;
    eof = true;
  });
  parser.on('meta', (text: string) => {
    metaEvents++;
    if (PAX_SIZE.test(text)) refuse('a pax header overrides an entry size (tar readers parse it differently)');
  });
  const begin = (entry: ReadEntry): TarEntry | undefined => {
    headerEvent = true;
    bodyBlocks = entry.startBlockSize / BLOCK;
    if (nullBlock) refuse(`entry ${JSON.stringify(entry.path)} after a lone zero block (GNU tar ends the archive there)`);
    if (entry.globalExtended) refuse('a global pax header (it changes how every later entry is read)');
    metas = 0;
    if (entries.length >= maxEntries) {
      refuse(`more than ${maxEntries} entries`);
      return undefined;
    }
    const typeflag = entry.header.typeKey;
    // node-tar reads a folder's body as empty whatever its size field says; other readers skip that many bytes
    if (typeflag === '5' && !/^[0 \0]*$/.test(block.toString('latin1', 124, 136))) refuse(`folder ${JSON.stringify(entry.path)} declares a size`);
    const record: TarEntry = { path: entry.path, type: TYPES[typeflag] ?? 'other', typeflag, size: entry.size, mode: entry.mode ?? 0, linkname: entry.linkpath ?? '' };
    entries.push(record);
    return record;
  };
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    if (entry.meta) {
      headerEvent = true;
      bodyBlocks = entry.startBlockSize / BLOCK;
      refuse(`an extended header of ${entry.size} bytes, more than node-tar reads (it would be ignored)`);
    } else begin(entry);
  });
  parser.on('entry', (entry: ReadEntry) => {
    const record = begin(entry);
    if (!record || record.type !== 'file') {
      entry.resume();
      return;
    }
    const chunks: Buffer[] = [];
    entry.on('data', (chunk: Buffer) => chunks.push(chunk));
    entry.on('end', () => {
      record.data = Buffer.concat(chunks);
    });
  });

  const extendedHeader = () => {
    let header: Header;
    try {
      header = new Header(block);
    } catch (cause) {
      return refuse('a header node-tar reads but cannot decode alone', cause);
    }
    bodyBlocks = Math.ceil((header.size ?? 0) / BLOCK);
    metaBody = bodyBlocks > 0;
    if (nullBlock) refuse('an extended header after a lone zero block (GNU tar ends the archive there)');
    const reason = REFUSED_META[header.type];
    if (reason) refuse(reason);
    // node-tar skips an empty one; GNU tar names the next entry "" after an empty long name
    if (!header.size) refuse(`an empty extended header (type ${JSON.stringify(header.typeKey)})`);
    if (++metas > 1) refuse('two extended headers (GNU long name or pax) for one entry: tar readers combine them differently');
  };

  // header by header, so that each header and the end of the archive are known to the byte
  let offset = 0;
  while (offset < tar.length && !eof && !refusal) {
    if (bodyBlocks > 0) {
      // a body in one write: node-tar takes exactly the blocks it announced, and a pax body decodes whole
      const whole = offset + bodyBlocks * BLOCK;
      const end = Math.min(tar.length, whole);
      const before = metaEvents;
      bodyBlocks = 0;
      parser.write(tar.subarray(offset, end));
      offset = end;
      // watching and node-tar must agree on where an extended header ends; if not, refuse rather than guess
      if (metaBody && end === whole && metaEvents === before) refuse('an extended header node-tar did not read as one');
      metaBody = false;
      continue;
    }
    block = tar.subarray(offset, offset + BLOCK);
    offset += BLOCK;
    headerEvent = false;
    parser.write(block);
    if (!headerEvent && !refusal && block.length === BLOCK) extendedHeader();
  }
  if (!refusal && offset < tar.length && tar.subarray(offset).some((b) => b !== 0)) refuse('data after the end-of-archive marker');
  if (!refusal && !eof && tar.length % BLOCK !== 0) refuse('it ends inside a 512-byte block');
  parser.end();
  if (!refusal && metas > 0) refuse('an extended header with no entry after it');
  if (refusal) throw refusal;
  for (const entry of entries) {
    if (entry.type === 'file' && entry.data?.length !== entry.size) throw invalid(source, `entry ${JSON.stringify(entry.path)} declares ${entry.size} bytes but holds ${entry.data?.length ?? 'no'}`);
  }
  return entries;
}
