/**
 * Zip archives read defensively: the only importer of yauzl. Entries come
 * from the central directory (as Python's zipfile and pip read them); the
 * entry count and every declared size are checked against the caps before
 * any data is inflated, inflated bytes are counted as they arrive (an entry
 * that inflates past its declared size is a bomb), names are decoded here
 * (UTF-8 when the entry says so, else ASCII only) and never by guessing.
 * What the names and kinds mean is for the caller (wheel.ts) to decide.
 *
 * yauzl and Python's zipfile find the entries differently (yauzl counts the
 * end record's entries from the directory offset; zipfile reads records
 * until the directory size is used up, relative to where the end record
 * sits, and from the zip64 record whenever its locator is there), so the
 * layout is pinned down first: nothing before the first entry or after the
 * end record's comment, the directory ending where the end records begin,
 * the zip64 record (if any) agreeing with the classic one, and the entries
 * read using up exactly the directory's declared count and size. Each
 * entry's local header must name the same bytes with the same method as
 * its directory record (zipfile refuses a differing name). An archive two
 * readers could read as two different sets of files is refused.
 */
import yauzl from 'yauzl';
import { McsError } from '../errors.js';

export interface ZipLimits {
  /** Most entries (files and folders) an archive may hold. */
  maxEntries: number;
  /** Most bytes one entry may inflate to. */
  maxEntryBytes: number;
  /** Most bytes all entries together may inflate to. */
  maxTotalBytes: number;
}

export interface ZipEntryData {
  /** The entry name as stored, decoded. */
  name: string;
  /** The name ends in '/'. */
  directory: boolean;
  /** The Unix file type bits (S_IFMT) of the external attributes; 0 when none are set. */
  unixType: number;
  /** The inflated content (empty for a folder). */
  data: Buffer;
}

const UNICODE_PATH_EXTRA = 0x7075;
const END_SIGNATURE = 0x06054b50;
const END_SIZE = 22;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_END_SIGNATURE = 0x06064b50;
const ZIP64_END_SIZE = 56;
const LOCAL_SIGNATURE = 0x04034b50;
const CENTRAL_HEADER_SIZE = 46;
/** Flag bits that change how an entry is read (encrypted, patched data, strong encryption, UTF-8 name): local and central must agree. */
const READ_FLAGS = 0x0861;
const UTF8_FLAG = 0x800;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(code: 'E_WHEEL_INVALID' | 'E_WHEEL_LIMIT' | 'E_WHEEL_PATH', what: string, message: string, details: Record<string, unknown> = {}, cause?: unknown): never {
  throw new McsError(code, `${what}: ${message}; nothing was written`, { cause, details: { file: what, ...details } });
}

interface Directory {
  /** Entries the end record declares. */
  count: number;
  /** Where the central directory starts and how many bytes it takes. */
  offset: number;
  size: number;
}

/** A 64-bit little-endian field that must fit a JavaScript number (a wheel is a Buffer). */
function u64(bytes: Buffer, at: number, what: string): number {
  const value = bytes.readBigUInt64LE(at);
  if (value > BigInt(bytes.length) * 65536n) fail('E_WHEEL_INVALID', what, `its zip64 end record declares ${value}, far beyond the ${bytes.length} bytes of the file`);
  return Number(value);
}

/**
 * The central directory as both readers would find it, or E_WHEEL_INVALID
 * where they could disagree: bytes after the end record's comment, bytes
 * before the first entry (zipfile shifts every offset by them, yauzl does
 * not), a gap between the directory and the end records, a zip64 record
 * whose counts or sizes differ from the classic ones, several disks.
 */
function directoryOf(bytes: Buffer, what: string): Directory {
  const floor = Math.max(0, bytes.length - END_SIZE - 0xffff);
  let end = -1;
  for (let at = bytes.length - END_SIZE; at >= floor; at--) {
    if (bytes.readUInt32LE(at) === END_SIGNATURE) {
      end = at;
      break;
    }
  }
  if (end < 0) fail('E_WHEEL_INVALID', what, 'not a zip archive (no end of central directory record)');
  const commentLength = bytes.readUInt16LE(end + 20);
  if (end + END_SIZE + commentLength !== bytes.length) {
    fail('E_WHEEL_INVALID', what, `its end record and comment end at byte ${end + END_SIZE + commentLength}, the file at ${bytes.length} (data after the archive, or a comment holding another end record)`);
  }
  const classic = { disk: bytes.readUInt16LE(end + 4), directoryDisk: bytes.readUInt16LE(end + 6), onDisk: bytes.readUInt16LE(end + 8), count: bytes.readUInt16LE(end + 10), size: bytes.readUInt32LE(end + 12), offset: bytes.readUInt32LE(end + 16) };
  let found = { ...classic, end };
  const locator = end - ZIP64_LOCATOR_SIZE;
  if (locator >= 0 && bytes.readUInt32LE(locator) === ZIP64_LOCATOR_SIGNATURE) {
    // zipfile reads the zip64 end record right before its locator whatever the locator says; yauzl goes where it points
    const record = locator - ZIP64_END_SIZE;
    if (record < 0 || bytes.readUInt32LE(locator + 4) !== 0 || bytes.readUInt32LE(locator + 16) > 1 || u64(bytes, locator + 8, what) !== record || bytes.readUInt32LE(record) !== ZIP64_END_SIGNATURE) {
      fail('E_WHEEL_INVALID', what, 'its zip64 locator does not point at a zip64 end record right before it');
    }
    if (u64(bytes, record + 4, what) !== ZIP64_END_SIZE - 12) fail('E_WHEEL_INVALID', what, 'its zip64 end record carries extensible data');
    const zip64 = { disk: bytes.readUInt32LE(record + 16), directoryDisk: bytes.readUInt32LE(record + 20), onDisk: u64(bytes, record + 24, what), count: u64(bytes, record + 32, what), size: u64(bytes, record + 40, what), offset: u64(bytes, record + 48, what) };
    const sentinel = { disk: 0xffff, directoryDisk: 0xffff, onDisk: 0xffff, count: 0xffff, size: 0xffffffff, offset: 0xffffffff };
    for (const key of Object.keys(classic) as Array<keyof typeof classic>) {
      if (classic[key] !== zip64[key] && classic[key] !== sentinel[key]) fail('E_WHEEL_INVALID', what, `its end record and zip64 end record disagree (${key} ${classic[key]} against ${zip64[key]})`);
    }
    found = { ...zip64, end: record };
  }
  if (found.disk !== 0 || found.directoryDisk !== 0 || found.onDisk !== found.count) fail('E_WHEEL_INVALID', what, 'it spans several disks');
  if (found.offset + found.size !== found.end) {
    fail('E_WHEEL_INVALID', what, `its central directory (${found.size} bytes at ${found.offset}) does not end where its end record begins (${found.end}): data before or inside the archive that readers place differently`);
  }
  return { count: found.count, offset: found.offset, size: found.size };
}

/** E_WHEEL_INVALID unless the entry's local header names the same bytes, with the same method and reading flags, as its directory record. */
function checkLocalHeader(bytes: Buffer, entry: yauzl.Entry, name: string, directory: Directory, what: string): void {
  const at = entry.relativeOffsetOfLocalHeader;
  const raw = entry.fileName as unknown as Buffer;
  const differ = (why: string): never => fail('E_WHEEL_INVALID', what, `entry ${JSON.stringify(name.slice(0, 200))}: its local header ${why} (readers that follow the local header see another file)`, { path: name.slice(0, 200) });
  if (at + 30 > directory.offset || bytes.readUInt32LE(at) !== LOCAL_SIGNATURE) differ(`at byte ${at} is missing`);
  const nameLength = bytes.readUInt16LE(at + 26);
  if (at + 30 + nameLength > directory.offset || !bytes.subarray(at + 30, at + 30 + nameLength).equals(raw)) differ(`names ${JSON.stringify(bytes.subarray(at + 30, Math.min(at + 30 + nameLength, at + 230)).toString('latin1'))}`);
  if (bytes.readUInt16LE(at + 8) !== entry.compressionMethod) differ(`says compression method ${bytes.readUInt16LE(at + 8)}, the directory ${entry.compressionMethod}`);
  if ((bytes.readUInt16LE(at + 6) & READ_FLAGS) !== (entry.generalPurposeBitFlag & READ_FLAGS)) differ('carries other flags than the directory');
}

/**
 * The name of an entry: UTF-8 when the entry's flag says so, else it must be
 * ASCII (code page 437 beyond ASCII would be a guess). An Info-ZIP Unicode
 * Path field naming something else is refused: two readers would see two names.
 */
function entryName(entry: yauzl.Entry, what: string): string {
  const raw = entry.fileName as unknown as Buffer;
  let name: string;
  if ((entry.generalPurposeBitFlag & UTF8_FLAG) !== 0) {
    try {
      name = utf8.decode(raw);
    } catch {
      fail('E_WHEEL_PATH', what, `an entry name is not valid UTF-8 (${raw.subarray(0, 60).toString('hex')})`);
    }
  } else {
    if (raw.some((byte) => byte >= 0x80)) fail('E_WHEEL_PATH', what, `an entry name is not ASCII and not flagged UTF-8 (${raw.subarray(0, 60).toString('hex')})`);
    name = raw.toString('latin1');
  }
  for (const extra of entry.extraFields) {
    if (extra.id !== UNICODE_PATH_EXTRA || extra.data.length < 6) continue;
    let other: string | undefined;
    try {
      other = utf8.decode(extra.data.subarray(5));
    } catch {
      other = undefined;
    }
    if (other !== name) fail('E_WHEEL_PATH', what, `entry ${JSON.stringify(name.slice(0, 200))} carries a Unicode Path field naming another path`, { path: name.slice(0, 200) });
  }
  return name;
}

function readEntry(zipfile: yauzl.ZipFile, entry: yauzl.Entry, name: string, what: string, limits: ZipLimits): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zipfile.openReadStream(entry, (error, stream) => {
      if (error) return reject(new McsError('E_WHEEL_INVALID', `${what}: entry ${JSON.stringify(name)} cannot be read: ${error.message}; nothing was written`, { cause: error, details: { file: what, path: name } }));
      const chunks: Buffer[] = [];
      let total = 0;
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > entry.uncompressedSize || total > limits.maxEntryBytes) {
          stream.destroy();
          reject(new McsError('E_WHEEL_LIMIT', `${what}: entry ${JSON.stringify(name)} inflates past its declared ${entry.uncompressedSize} bytes (a zip bomb); nothing was written`, { details: { file: what, path: name, declared: entry.uncompressedSize } }));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('error', (cause: Error) => reject(new McsError('E_WHEEL_INVALID', `${what}: entry ${JSON.stringify(name)} is corrupt: ${cause.message}; nothing was written`, { cause, details: { file: what, path: name } })));
      stream.on('end', () => resolve(Buffer.concat(chunks, total)));
    });
  });
}

/**
 * Every entry of a zip archive with its inflated bytes, or a coded error:
 * E_WHEEL_INVALID (not a zip, encrypted, an unsupported method, corrupt data),
 * E_WHEEL_LIMIT (too many entries, too many bytes), E_WHEEL_PATH (a name that
 * cannot be decoded without guessing).
 */
export async function readZip(bytes: Buffer, what: string, limits: ZipLimits): Promise<ZipEntryData[]> {
  if (bytes.length < END_SIZE) fail('E_WHEEL_INVALID', what, `not a zip archive (${bytes.length} bytes)`);
  const layout = directoryOf(bytes, what);
  let zipfile: yauzl.ZipFile;
  // sizes are checked here rather than by yauzl, so that an entry inflating past its header is reported as the bomb it is
  try {
    zipfile = await yauzl.fromBufferPromise(bytes, { lazyEntries: true, decodeStrings: false, validateEntrySizes: false, strictFileNames: true });
  } catch (cause) {
    fail('E_WHEEL_INVALID', what, `not a readable zip archive (${(cause as Error).message})`, {}, cause);
  }
  if (zipfile.entryCount > limits.maxEntries) {
    zipfile.close();
    fail('E_WHEEL_LIMIT', what, `${zipfile.entryCount} entries, over the limit of ${limits.maxEntries}`, { limit: limits.maxEntries, found: zipfile.entryCount });
  }
  if (zipfile.entryCount !== layout.count) {
    zipfile.close();
    fail('E_WHEEL_INVALID', what, `its end records declare ${layout.count} entries, the zip reader found ${zipfile.entryCount}`);
  }
  const entries: ZipEntryData[] = [];
  let declaredTotal = 0;
  let directoryRead = 0;
  try {
    for (;;) {
      const entry = await new Promise<yauzl.Entry | null>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry): void => {
          zipfile.off('end', onEnd).off('error', onError);
          resolve(e);
        };
        const onEnd = (): void => {
          zipfile.off('entry', onEntry).off('error', onError);
          resolve(null);
        };
        const onError = (error: Error): void => {
          zipfile.off('entry', onEntry).off('end', onEnd);
          reject(new McsError('E_WHEEL_INVALID', `${what}: not a readable zip archive (${error.message}); nothing was written`, { cause: error, details: { file: what } }));
        };
        zipfile.once('entry', onEntry).once('end', onEnd).once('error', onError);
        zipfile.readEntry();
      });
      if (entry === null) break;
      const name = entryName(entry, what);
      directoryRead += CENTRAL_HEADER_SIZE + entry.fileNameLength + entry.extraFieldLength + entry.fileCommentLength;
      checkLocalHeader(bytes, entry, name, layout, what);
      if (entry.isEncrypted()) fail('E_WHEEL_INVALID', what, `entry ${JSON.stringify(name)} is encrypted`, { path: name });
      if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) fail('E_WHEEL_INVALID', what, `entry ${JSON.stringify(name)} uses compression method ${entry.compressionMethod} (only stored and deflated are read)`, { path: name });
      if (entry.uncompressedSize > limits.maxEntryBytes) {
        fail('E_WHEEL_LIMIT', what, `entry ${JSON.stringify(name)} declares ${entry.uncompressedSize} bytes, over the per-entry limit of ${limits.maxEntryBytes}`, { path: name, limit: limits.maxEntryBytes, found: entry.uncompressedSize });
      }
      declaredTotal += entry.uncompressedSize;
      if (declaredTotal > limits.maxTotalBytes) fail('E_WHEEL_LIMIT', what, `its entries declare more than the total limit of ${limits.maxTotalBytes} bytes`, { limit: limits.maxTotalBytes });
      const directory = name.endsWith('/');
      const unixType = (entry.externalFileAttributes >>> 16) & 0o170000;
      if (directory && entry.uncompressedSize !== 0) fail('E_WHEEL_INVALID', what, `folder entry ${JSON.stringify(name)} has content`, { path: name });
      const data = directory ? Buffer.alloc(0) : await readEntry(zipfile, entry, name, what, limits);
      if (data.length !== entry.uncompressedSize) fail('E_WHEEL_INVALID', what, `entry ${JSON.stringify(name)} holds ${data.length} bytes, its header says ${entry.uncompressedSize}`, { path: name });
      entries.push({ name, directory, unixType, data });
    }
    // zipfile reads records until the directory's size is used up, yauzl only as many as the count: the two must meet
    if (entries.length !== layout.count || directoryRead !== layout.size) {
      fail('E_WHEEL_INVALID', what, `its central directory declares ${layout.size} bytes, its ${layout.count} counted entries take ${directoryRead} (entries hidden from the count, or junk inside the directory)`, { declared: layout.size, found: directoryRead });
    }
  } finally {
    zipfile.close();
  }
  return entries;
}
