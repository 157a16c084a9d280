/**
 * Zip archives read defensively: the only importer of yauzl. Entries come
 * from the central directory (as Python's zipfile and pip read them); the
 * entry count and every declared size are checked against the caps before
 * any data is inflated, inflated bytes are counted as they arrive (an entry
 * that inflates past its declared size is a bomb), names are decoded here
 * (UTF-8 when the entry says so, else ASCII only) and never by guessing.
 * What the names and kinds mean is for the caller (wheel.ts) to decide.
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
const UTF8_FLAG = 0x800;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(code: 'E_WHEEL_INVALID' | 'E_WHEEL_LIMIT' | 'E_WHEEL_PATH', what: string, message: string, details: Record<string, unknown> = {}, cause?: unknown): never {
  throw new McsError(code, `${what}: ${message}; nothing was written`, { cause, details: { file: what, ...details } });
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
  const entries: ZipEntryData[] = [];
  let declaredTotal = 0;
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
  } finally {
    zipfile.close();
  }
  return entries;
}
