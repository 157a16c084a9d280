/**
 * Safe extraction of a verified npm tarball into the content-addressed cache
 * (DESIGN.md §4 known gaps, §5 "malicious tarball"). node-tar only warns and
 * skips hostile entries, and pacote.extract writes before it checks the
 * integrity; so here the digest is checked first, the whole archive is read in
 * memory by node-tar itself in strict mode (src/tar/read.ts, the parser npm
 * installs with, so both see the same entries), judged entry by entry with
 * npm's own path rules (planExtraction, pure), and only a fully accepted
 * archive is written, by mcs-pkg, into a fresh staging folder that is renamed
 * into place. A refusal leaves nothing on disk.
 */
import { constants as bufferConstants } from 'node:buffer';
import { constants } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, rename } from 'node:fs/promises';
import { join, posix, resolve, win32 } from 'node:path';
import { makeDirs } from '../files.js';
import { McsError, isMcsError } from '../errors.js';
import { readTarball, type TarEntry } from '../tar/read.js';
import {
  DIR_MODE,
  DRIVERS_DIR,
  WHEELS_DIR,
  assertDriversDir,
  FILE_MODE,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  PACKAGE_DIR,
  STAGING_PREFIX,
  assertCacheLocation,
  cacheIoError,
  compareText,
  integrityFromHex,
  integrityHex,
  packageOfManifest,
  removeCacheTree,
  serializeManifest,
  sha512Hex,
  verifyCacheEntry,
  type CacheEntry,
  type CacheManifest,
  type CachedFile,
} from './cache.js';

/** Most entries (files and folders) accepted in one package tarball. */
export const DEFAULT_MAX_FILES = 5_000;
/** Most bytes of file content accepted once unpacked. */
export const DEFAULT_MAX_EXTRACTED_BYTES = 64 * 1024 * 1024;
/** Highest accepted ratio of unpacked file bytes to gzipped tarball bytes (real packages stay far below 20). */
export const DEFAULT_MAX_COMPRESSION_RATIO = 100;
/** Longest accepted path below the package folder, in UTF-8 bytes (the cache prefix must still fit in PATH_MAX). */
export const MAX_RELATIVE_PATH_BYTES = 1024;
/** Longest accepted file or folder name, in UTF-8 bytes (NAME_MAX on common file systems). */
export const MAX_NAME_BYTES = 255;

export interface ExtractionLimits {
  /** Most entries (files and folders). Default DEFAULT_MAX_FILES. */
  maxFiles?: number;
  /** Most bytes of file content once unpacked. Default DEFAULT_MAX_EXTRACTED_BYTES. */
  maxUnpackedBytes?: number;
  /** Highest ratio of unpacked file bytes to gzipped bytes. Default DEFAULT_MAX_COMPRESSION_RATIO. */
  maxCompressionRatio?: number;
}

export interface ExtractOptions extends ExtractionLimits {
  /** What the tarball is (for example "mcs-driver-csv@1.2.0"), for messages. */
  source?: string;
}

export interface ArchiveFacts {
  /** Size of the gzipped tarball; without it the compression ratio cannot be checked. */
  gzippedSize?: number;
  /** What the tarball is, for messages. */
  source?: string;
}

export interface PlannedFile {
  /** Path below the package folder (the tarball's first segment stripped), '/'-separated. */
  relativePath: string;
  data: Buffer;
  /** Always FILE_MODE: read-only, the tarball's executable bits dropped. */
  mode: number;
}

export interface PlannedDirectory {
  relativePath: string;
  /** Always DIR_MODE. */
  mode: number;
}

export interface ExtractionPlan {
  /** Sorted by path. */
  files: PlannedFile[];
  /** Every folder to create (declared or implied by a file), sorted so that parents come first. */
  directories: PlannedDirectory[];
  /** Sum of the file sizes. */
  unpackedBytes: number;
  /** A file kept beside PACKAGE_DIR, read-only: a wheel entry's verified wheel, under its file name. */
  kept?: { name: string; data: Buffer };
}

/** Fills the limits' defaults and refuses values that would disable a cap. */
export function resolveExtractionLimits(limits: ExtractionLimits = {}): Required<ExtractionLimits> {
  const resolved = {
    maxFiles: limits.maxFiles ?? DEFAULT_MAX_FILES,
    maxUnpackedBytes: limits.maxUnpackedBytes ?? DEFAULT_MAX_EXTRACTED_BYTES,
    maxCompressionRatio: limits.maxCompressionRatio ?? DEFAULT_MAX_COMPRESSION_RATIO,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (name !== 'maxCompressionRatio' && !Number.isSafeInteger(value))) {
      throw new McsError('E_USAGE', `extraction limit ${name} must be a positive ${name === 'maxCompressionRatio' ? 'number' : 'integer'}, got ${String(value)}`, {
        details: { [name]: value },
      });
    }
  }
  return resolved;
}

type TarRefusal = 'E_TAR_PATH' | 'E_TAR_LINK' | 'E_TAR_SPECIAL' | 'E_TAR_DUPLICATE' | 'E_TAR_LIMIT' | 'E_TARBALL_INVALID';

function tarError(code: TarRefusal, source: string, message: string, details: Record<string, unknown>): McsError {
  return new McsError(code, `${source}: ${message}; nothing was written`, { details: { source, ...details } });
}

/** A root node-tar would strip from a path on any platform (it parses paths as win32 everywhere): a drive, a UNC or device prefix. */
function hasRoot(path: string): boolean {
  return !/^\/*$/.test(win32.parse(path).root) || win32.parse(path.replace(/^\/+/, '')).root !== '';
}

/**
 * The path segments an entry lands on below the package folder, as npm
 * places it, or a refusal. npm (pacote) strips the first segment of the raw
 * path, whatever it is (`strip: 1`: `./package/x` lands on `package/x`), then
 * node-tar drops entries with a `..` segment and strips roots with only a
 * warning, and resolves `.` and empty segments. mcs-pkg refuses the whole
 * archive instead of skipping or moving an entry: an absolute path, a root
 * after the first segment, a backslash (a separator on Windows), a character
 * node-tar renames on Windows (<>:"|?*) below the first segment, a NUL or
 * another control character (names that display differently), a character
 * that was not valid UTF-8, or any `..` segment.
 */
function entrySegments(entry: TarEntry, source: string): string[] {
  const raw = entry.path;
  const refuse = (why: string): never => {
    throw tarError('E_TAR_PATH', source, `entry ${JSON.stringify(raw)} ${why}`, { path: raw });
  };
  if (raw === '') refuse('has an empty path');
  // checked before splitting, so a pathological pax path costs no more than its length
  if (raw.length > 4 * MAX_RELATIVE_PATH_BYTES) refuse(`is longer than ${4 * MAX_RELATIVE_PATH_BYTES} characters`);
  if (raw.includes('\0')) refuse('contains a NUL character');
  if (/[\u0001-\u001f\u007f]/.test(raw)) refuse('contains a control character');
  if (raw.includes('\ufffd')) refuse('is not valid UTF-8');
  if (raw.includes('\\')) refuse('contains a backslash');
  // node-tar on Windows writes these as other characters, so npm there installs another name
  if (/[<>:"|?*]/.test(raw.split('/').slice(1).join('/'))) refuse('has a character Windows does not allow in a file name (<>:"|?*)');
  if (raw.startsWith('/') || hasRoot(raw)) refuse('is an absolute path');
  const all = raw.split('/');
  if (all.includes('..')) refuse('has a ".." segment');
  const below = all.slice(1).join('/');
  if (hasRoot(below)) refuse('has a drive or network root below its first folder');
  const segments = below.split('/').filter((segment) => segment !== '' && segment !== '.');
  // defence in depth: the normalized form must be the same relative path
  const joined = segments.join('/');
  if (joined !== '' && (posix.isAbsolute(joined) || posix.normalize(joined) !== joined || joined.startsWith('../'))) refuse('leaves the package folder');
  if (segments.some((segment) => Buffer.byteLength(segment, 'utf8') > MAX_NAME_BYTES)) refuse(`has a name longer than ${MAX_NAME_BYTES} bytes`);
  return segments;
}

/** How a name looks to a case-insensitive, normalization-insensitive file system (macOS, Windows). */
function foldKey(path: string): string {
  return path.normalize('NFC').toUpperCase().toLowerCase();
}

/**
 * Judges a whole archive before anything is written and returns what to
 * write: only files ('0', NUL, '7') and folders ('5') are accepted — a link
 * could point outside the cache and a device or FIFO has no place in a
 * package; paths must stay inside the package folder; two entries landing on
 * one path (exactly, after normalization, or on a case-insensitive file
 * system) are refused, since the later one would silently replace the
 * reviewed one; the file count, the unpacked bytes and the compression ratio
 * are capped (bombs); and package.json must sit at the package root. The
 * files and folders planned are the ones npm installs: the first path
 * segment stripped whatever it is, a .gitignore named .npmignore, folder
 * entries only checked (npm creates the folders that hold files, no others).
 */
export function planExtraction(entries: TarEntry[], limits: ExtractionLimits = {}, archive: ArchiveFacts = {}): ExtractionPlan {
  const caps = resolveExtractionLimits(limits);
  const source = archive.source ?? 'tarball';
  if (entries.length > caps.maxFiles) {
    throw tarError('E_TAR_LIMIT', source, `it has ${entries.length} entries, more than the cap of ${caps.maxFiles}`, { limit: 'maxFiles', cap: caps.maxFiles, found: entries.length });
  }
  const files: PlannedFile[] = [];
  const fileKeys = new Map<string, string>();
  const directoryKeys = new Map<string, string>();
  const declaredDirectories = new Set<string>();
  let unpackedBytes = 0;

  const duplicate = (path: string, other: string, what: string): never => {
    throw tarError('E_TAR_DUPLICATE', source, `entry ${JSON.stringify(path)} ${what} ${JSON.stringify(other)}`, { path, conflictsWith: other });
  };
  // records the folders above a path; none of them may be a file, and each must be spelled one way
  const addParents = (segments: string[]) => {
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth).join('/');
      const key = foldKey(parent);
      const asFile = fileKeys.get(key);
      if (asFile !== undefined) duplicate(parent, asFile, 'is a folder and also the file');
      const spelled = directoryKeys.get(key);
      if (spelled !== undefined && spelled !== parent) duplicate(parent, spelled, 'is the same folder on a case-insensitive file system as');
      directoryKeys.set(key, parent);
    }
  };

  for (const entry of entries) {
    const typeflag = entry.typeflag;
    const isFile = typeflag === '0' || typeflag === '\0' || typeflag === '7';
    const isDirectory = typeflag === '5';
    if (typeflag === '1' || typeflag === '2') {
      const kind = typeflag === '2' ? 'symbolic link' : 'hard link';
      throw tarError('E_TAR_LINK', source, `entry ${JSON.stringify(entry.path)} is a ${kind} to ${JSON.stringify(entry.linkname)}`, { path: entry.path, typeflag, linkname: entry.linkname });
    }
    if (!isFile && !isDirectory) {
      const kinds: Record<string, string> = { '3': 'character device', '4': 'block device', '6': 'FIFO' };
      const kind = kinds[typeflag] ?? `entry of type ${JSON.stringify(typeflag)}`;
      throw tarError('E_TAR_SPECIAL', source, `entry ${JSON.stringify(entry.path)} is a ${kind}, neither a file nor a folder`, { path: entry.path, typeflag });
    }
    const segments = entrySegments(entry, source);
    // node-tar writes a '7' file named "x/" as "x"; a file must not look like a folder
    if (isFile && entry.path.endsWith('/')) throw tarError('E_TAR_PATH', source, `entry ${JSON.stringify(entry.path)} is a file named like a folder`, { path: entry.path });
    // npm installs a .gitignore as .npmignore (pacote); the same name here, so a second one is a duplicate
    if (isFile && segments.at(-1) === '.gitignore') segments[segments.length - 1] = '.npmignore';
    if (segments.length === 0) {
      if (isDirectory) continue; // the package folder itself
      throw tarError('E_TAR_PATH', source, `entry ${JSON.stringify(entry.path)} is a file outside the package folder`, { path: entry.path });
    }
    const relativePath = segments.join('/');
    if (Buffer.byteLength(relativePath, 'utf8') > MAX_RELATIVE_PATH_BYTES) {
      throw tarError('E_TAR_PATH', source, `entry ${JSON.stringify(entry.path)} is longer than ${MAX_RELATIVE_PATH_BYTES} bytes below the package folder`, { path: entry.path });
    }
    const key = foldKey(relativePath);
    const sameFile = fileKeys.get(key);
    if (sameFile !== undefined) {
      if (isDirectory) duplicate(relativePath, sameFile, 'is a folder and also the file');
      duplicate(relativePath, sameFile, sameFile === relativePath ? 'appears twice; first as' : 'is the same file on a case-insensitive file system as');
    }
    addParents(segments);
    if (isDirectory) {
      if (declaredDirectories.has(key)) duplicate(relativePath, directoryKeys.get(key) ?? relativePath, 'appears twice; first as');
      const spelled = directoryKeys.get(key);
      if (spelled !== undefined && spelled !== relativePath) duplicate(relativePath, spelled, 'is the same folder on a case-insensitive file system as');
      declaredDirectories.add(key);
      directoryKeys.set(key, relativePath);
      continue;
    }
    const asDirectory = directoryKeys.get(key);
    if (asDirectory !== undefined) duplicate(relativePath, asDirectory, 'is a file and also the folder');
    const data = entry.data;
    if (!data || data.length !== entry.size) {
      throw new McsError('E_TARBALL_INVALID', `${source}: entry ${JSON.stringify(entry.path)} declares ${entry.size} bytes but holds ${data?.length ?? 'no'} bytes; nothing was written`, {
        details: { source, path: entry.path },
      });
    }
    unpackedBytes += data.length;
    if (unpackedBytes > caps.maxUnpackedBytes) {
      throw tarError('E_TAR_LIMIT', source, `its files unpack to more than the cap of ${caps.maxUnpackedBytes} bytes`, { limit: 'maxUnpackedBytes', cap: caps.maxUnpackedBytes });
    }
    fileKeys.set(key, relativePath);
    files.push({ relativePath, data, mode: FILE_MODE });
  }

  if (archive.gzippedSize !== undefined) {
    const ratio = unpackedBytes / Math.max(1, archive.gzippedSize);
    if (ratio > caps.maxCompressionRatio) {
      throw tarError(
        'E_TAR_LIMIT',
        source,
        `its ${archive.gzippedSize} gzipped bytes unpack to ${unpackedBytes} (ratio ${ratio.toFixed(0)}, cap ${caps.maxCompressionRatio}): a decompression bomb`,
        { limit: 'maxCompressionRatio', cap: caps.maxCompressionRatio, found: ratio },
      );
    }
  }
  if (!fileKeys.has('package.json') || fileKeys.get('package.json') !== 'package.json') {
    throw new McsError('E_TARBALL_INVALID', `${source}: it has no package.json at its root; nothing was written`, { details: { source } });
  }
  // npm creates the folders that hold files and skips folder entries, so an empty folder is not installed
  const holding = new Set(files.flatMap((file) => file.relativePath.split('/').slice(0, -1).map((_, depth, parts) => parts.slice(0, depth + 1).join('/'))));
  return {
    files: files.sort((a, b) => compareText(a.relativePath, b.relativePath)),
    directories: [...holding].sort(compareText).map((relativePath) => ({ relativePath, mode: DIR_MODE })),
    unpackedBytes,
  };
}

/** Bytes of tar framing (headers, pax records, padding, end blocks) allowed on top of the content cap. */
function tarFraming(entries: number): number {
  return entries * 2048 + 20 * 1024;
}

/**
 * Reads and plans a package tarball in one step, inflating no further than
 * the caps allow: the one way mcs-pkg looks inside a tarball, whether to
 * check its manifest or to unpack it.
 */
export function planTarball(gzipped: Uint8Array, limits: ExtractionLimits = {}, source = 'tarball'): ExtractionPlan {
  const caps = resolveExtractionLimits(limits);
  return planExtraction(readEntries(gzipped, caps, source), caps, { gzippedSize: gzipped.byteLength, source });
}

/**
 * Reads the archive with node-tar (src/tar/read.ts), its gunzip cap derived from the
 * byte and ratio caps so that a bomb stops inflating early; the reader's cap
 * errors become E_TAR_LIMIT.
 */
function readEntries(gzipped: Uint8Array, caps: Required<ExtractionLimits>, source: string): TarEntry[] {
  const contentCap = Math.min(caps.maxUnpackedBytes, Math.ceil(caps.maxCompressionRatio * Math.max(1, gzipped.byteLength)));
  // one entry past the cap, so that planExtraction reports the cap itself
  const maxEntries = caps.maxFiles + 1;
  const maxTarBytes = Math.min(contentCap + tarFraming(maxEntries), bufferConstants.MAX_LENGTH);
  try {
    return readTarball(gzipped, { maxUnpackedBytes: maxTarBytes, maxEntries, source });
  } catch (error) {
    if (isMcsError(error, 'E_TARBALL_INVALID')) {
      const cause = error.cause;
      if (cause instanceof RangeError || errno(cause) === 'ERR_BUFFER_TOO_LARGE') {
        throw tarError('E_TAR_LIMIT', source, `it unpacks to more than ${maxTarBytes} bytes of tar (caps: ${caps.maxUnpackedBytes} bytes, ratio ${caps.maxCompressionRatio})`, {
          limit: contentCap < caps.maxUnpackedBytes ? 'maxCompressionRatio' : 'maxUnpackedBytes',
          cap: maxTarBytes,
        });
      }
      if (error.message.endsWith(`more than ${maxEntries} entries`)) {
        throw tarError('E_TAR_LIMIT', source, `it has more than ${caps.maxFiles} entries`, { limit: 'maxFiles', cap: caps.maxFiles });
      }
    }
    throw error;
  }
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** The manifest a plan produces; deterministic, so its digest identifies the tarball's content. */
function manifestOf(plan: ExtractionPlan, integrity: string): CacheManifest {
  const files: CachedFile[] = plan.files.map((file) => ({ path: file.relativePath, sha512: sha512Hex(file.data), size: file.data.length, mode: file.mode }));
  const packageJson = plan.files.find((file) => file.relativePath === 'package.json')?.data;
  return { format: MANIFEST_FORMAT, integrity, package: packageOfManifest(packageJson), files, directories: plan.directories.map((d) => d.relativePath) };
}

/** Flushes and sets the mode of a folder through a descriptor that refuses links. */
async function sealDirectory(path: string, mode: number): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(path, constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NOFOLLOW ?? 0));
  try {
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes one file that must not exist yet (O_EXCL, no link followed), flushed and read-only. */
async function writeNewFile(path: string, data: Buffer, mode: number): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);
  const handle = await open(path, flags, 0o600);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeStaging(staging: string, plan: ExtractionPlan, manifestBytes: Buffer): Promise<void> {
  const packageDir = join(staging, PACKAGE_DIR);
  await mkdir(packageDir, { mode: 0o700 });
  // sorted, so each parent exists before its children; never recursive, so nothing pre-existing is reused
  for (const directory of plan.directories) await mkdir(join(packageDir, ...directory.relativePath.split('/')), { mode: 0o700 });
  for (const file of plan.files) await writeNewFile(join(packageDir, ...file.relativePath.split('/')), file.data, file.mode);
  await writeNewFile(join(staging, MANIFEST_FILE), manifestBytes, FILE_MODE);
  if (plan.kept) await writeNewFile(join(staging, plan.kept.name), plan.kept.data, FILE_MODE);
  // deepest first, the entry folder last
  for (const directory of [...plan.directories].reverse()) await sealDirectory(join(packageDir, ...directory.relativePath.split('/')), directory.mode);
  await sealDirectory(packageDir, DIR_MODE);
  await sealDirectory(staging, DIR_MODE);
}

/** Flushes a rename in a folder; a platform that cannot fsync folders only loses durability, not safety. */
async function syncDirectory(path: string): Promise<void> {
  try {
    const handle = await open(path, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}

/**
 * Extracts a tarball into `<cacheRoot>/drivers/<sha512 hex>/` and returns the
 * entry: the bytes must hash to the pinned integrity (a folder is never named
 * by a digest its content does not have), the whole archive is planned before
 * anything is written (nothing from a refused archive reaches the disk), the
 * files go into a fresh staging folder, are flushed and made read-only with a
 * manifest, and the folder is renamed into place in one step (a reader never
 * sees half an entry). An entry already there (a cache hit, or another
 * process that won the race) is verified against the manifest this tarball
 * produces, never trusted as found. Any failure removes the staging folder.
 */
export async function extractToCache(gzipped: Uint8Array, integrity: string, cacheRoot: string, options: ExtractOptions = {}): Promise<CacheEntry> {
  const caps = resolveExtractionLimits(options);
  const hex = integrityHex(integrity);
  const canonicalIntegrity = integrityFromHex(hex);
  const source = options.source ?? `tarball ${canonicalIntegrity.slice(0, 20)}…`;
  const root = resolve(cacheRoot);
  assertCacheLocation(root);
  const found = sha512Hex(gzipped);
  if (found !== hex) {
    throw new McsError('E_INTEGRITY_MISMATCH', `${source}: expected ${canonicalIntegrity}, got ${integrityFromHex(found)}; nothing was written`, {
      details: { source, expected: canonicalIntegrity, found: integrityFromHex(found) },
    });
  }

  const plan = planTarball(gzipped, caps, source);
  return writeCacheEntry(root, DRIVERS_DIR, hex, manifestOf(plan, canonicalIntegrity), plan);
}

/**
 * Writes a planned entry into `<root>/<folder>/<hex>/` (the npm drivers or
 * the PyPI wheels): into a fresh staging folder, flushed and made read-only
 * with its manifest, then renamed into place in one step. An entry already
 * there (a cache hit, or another process that won the race) is verified
 * against the manifest this plan produces, never trusted as found; an entry an
 * earlier mcs-pkg wrote is replaced. Any failure removes the staging folder.
 */
export async function writeCacheEntry(root: string, folder: typeof DRIVERS_DIR | typeof WHEELS_DIR, hex: string, manifest: CacheManifest, plan: ExtractionPlan): Promise<CacheEntry> {
  const manifestBytes = serializeManifest(manifest);
  const manifestDigest = sha512Hex(manifestBytes);
  const driversDir = join(root, folder);
  assertDriversDir(driversDir);
  const target = join(driversDir, hex);
  const existing = () => verifyCacheEntry(target, { integrity: manifest.integrity, manifestDigest });

  if (await pathExists(target)) {
    try {
      return existing();
    } catch (error) {
      // an entry an earlier mcs-pkg wrote records less; these verified bytes rewrite it
      if (!isMcsError(error, 'E_CACHE_TAMPERED') || error.details.olderFormat === undefined) throw error;
      removeCacheTree(target);
    }
  }

  let staging: string;
  try {
    makeDirs(driversDir, 'driver cache folder', { code: 'E_CACHE_IO', mode: 0o700 });
    staging = await mkdtemp(join(driversDir, STAGING_PREFIX));
  } catch (error) {
    throw cacheIoError(`create a staging folder in ${driversDir}`, error);
  }
  try {
    await writeStaging(staging, plan, manifestBytes);
    try {
      await rename(staging, target);
    } catch (error) {
      // another extraction renamed its staging folder first (ENOTEMPTY/EEXIST), or something else is in the way
      if (['ENOTEMPTY', 'EEXIST', 'ENOTDIR', 'EISDIR', 'EPERM', 'EACCES'].includes(errno(error) ?? '') && (await pathExists(target))) {
        removeCacheTree(staging);
        return existing();
      }
      throw error;
    }
  } catch (error) {
    try {
      removeCacheTree(staging);
    } catch {
      // the original failure is the one to report; cleanCache removes what is left
    }
    throw cacheIoError(`write the cache entry ${target}`, error);
  }
  await syncDirectory(driversDir);
  return {
    path: target,
    packageDir: join(target, PACKAGE_DIR),
    integrity: manifest.integrity,
    package: manifest.package,
    files: manifest.files,
    directories: manifest.directories,
    manifestDigest,
  };
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (errno(error) === 'ENOENT') return false;
    throw cacheIoError(`inspect ${path}`, error);
  }
}
