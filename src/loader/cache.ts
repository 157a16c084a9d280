/**
 * The content-addressed driver cache (DESIGN.md §5, "TOCTOU between verify
 * and import"). The cache root (default `<cache>/loader`) holds:
 *   - `tarballs/<sha512 hex>.tgz`: the verified tarballs a warm load unpacks again;
 *   - `drivers/<sha512 hex of the tarball>/`: the unpacked entries, each holding
 *     exactly two things:
 *     - `package/`: the package's files, read-only; the only folder imported from;
 *     - `.mcs-files.json`: the manifest (the package it is, every file's sha512,
 *       size and mode, every folder), kept outside `package/` so it is never
 *       importable, and written with the entry, before the one rename that
 *       makes the entry visible.
 * Wheels (PyPI) are cached the same way under `wheels/<sha256 hex of the wheel>/`
 * (PyPI pins a wheel by its sha256): `package/` holds the files a wheel installs
 * into site-packages, so that exactly these folders go on a Python process's
 * sys.path, one per wheel (implicit namespace packages such as `mcs` merge
 * across them); the manifest records the project and version its verified
 * METADATA names, and its integrity is `sha256-<base64>`.
 * Nothing in an entry is trusted when it is read back: verifyCacheEntry
 * re-hashes the whole entry against the manifest just before import, and the
 * manifest itself is pinned by the folder name (its integrity) and, when the
 * caller holds it, by its own digest.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  rmSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, parse, resolve, sep } from 'node:path';
import { defaultDriverCacheDir } from '../config.js';
import { McsError, isMcsError } from '../errors.js';
import { parseJsonStrict } from '../manifest/json.js';
import { parseCoreMetadata } from '../pypi/metadata.js';

/** Folder under the cache root that holds the entries. */
export const DRIVERS_DIR = 'drivers';
/** Folder under the cache root that holds the unpacked wheels (PyPI). */
export const WHEELS_DIR = 'wheels';
/** Folder under the cache root that holds the verified tarballs. */
export const TARBALLS_DIR = 'tarballs';
/** Folder inside an entry holding the package's files. */
export const PACKAGE_DIR = 'package';
/** The manifest file inside an entry, beside (not inside) PACKAGE_DIR. */
export const MANIFEST_FILE = '.mcs-files.json';
export const MANIFEST_FORMAT = 'mcs-pkg/cache-entry@2';
/** Manifest formats earlier versions wrote: such an entry is replaced when its tarball is unpacked again. */
const OLDER_MANIFEST_FORMATS: readonly string[] = ['mcs-pkg/cache-entry@1'];
/** Longest package name and version a manifest records (npm's name limit is 214). */
const MAX_RECORDED_NAME = 214;
const MAX_RECORDED_VERSION = 256;
/** Mode of every cached file: read-only, and never executable (drivers are imported, not run). */
export const FILE_MODE = 0o444;
/** Mode of every cached folder, the entry folder included: read-only. */
export const DIR_MODE = 0o555;
/** Name prefix of the staging folders extractToCache writes into. */
export const STAGING_PREFIX = '.staging-';
/** A staging folder younger than this may belong to a running extraction; cleanCache leaves it alone. */
export const DEFAULT_STAGING_GRACE_MS = 60 * 60 * 1000;
/** Largest manifest read back (about 100,000 files). */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
/** Largest kept wheel read back (the wheel reader's cap on a whole wheel). */
export const MAX_KEPT_WHEEL_BYTES = 256 * 1024 * 1024;

const HEX_SHA512 = /^[0-9a-f]{128}$/;
const SRI_SHA512 = /^sha512-([A-Za-z0-9+/]{86}==)(\?[\x21-\x7e]*)?$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/;
const SRI_SHA256 = /^sha256-([A-Za-z0-9+/]{43}=)$/;
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_DIRECTORY = constants.O_DIRECTORY ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;
// Windows has no POSIX modes beyond the write bit, so there only the file hashes are compared
const CHECK_MODES = process.platform !== 'win32';
const HASH_CHUNK = 1024 * 1024;

export interface CachedFile {
  /** Path below PACKAGE_DIR, '/'-separated. */
  path: string;
  /** sha512 of the content, hex. */
  sha512: string;
  size: number;
  mode: number;
}

/** Which package an entry is: read from the package.json of the tarball (null where it names none). */
export interface CachedPackage {
  ecosystem: 'npm' | 'pypi';
  name: string | null;
  version: string | null;
}

/** What `.mcs-files.json` records. */
export interface CacheManifest {
  format: typeof MANIFEST_FORMAT;
  /** SRI sha512 of the tarball the entry was extracted from. */
  integrity: string;
  package: CachedPackage;
  /** Sorted by path. */
  files: CachedFile[];
  /** Every folder below PACKAGE_DIR, sorted. */
  directories: string[];
}

export interface CacheEntry {
  /** The entry folder, `<cacheRoot>/drivers/<hex>`. */
  path: string;
  /** The folder to import from, `<entry>/package`. */
  packageDir: string;
  /** SRI sha512 of the tarball (canonical form). */
  integrity: string;
  package: CachedPackage;
  files: CachedFile[];
  directories: string[];
  /** sha512 (hex) of the manifest bytes; pass it back to verifyCacheEntry to pin the manifest as well. */
  manifestDigest: string;
  /** A wheel entry's kept wheel (`<entry>/<wheel file name>`), its bytes checked against the folder's sha256; absent for npm entries. */
  keptWheel?: { filename: string; data: Buffer };
}

export interface VerifyCacheOptions {
  /** The integrity the caller expects (SRI); the entry folder must be named by it. */
  integrity?: string;
  /** The manifest digest the caller holds (from extractToCache); the manifest bytes must hash to it. */
  manifestDigest?: string;
  /**
   * The drivers folder holding the entry was checked by the caller (ownership,
   * mode) moments before: the host child re-hashes an entry it may read
   * without being allowed to read the folder beside it (other drivers).
   */
  driversDirChecked?: boolean;
}

export interface CacheListing {
  /** SRI sha512 the entry is named by (a wheel entry: `sha256-<base64>` of the wheel). */
  integrity: string;
  /** The package its manifest records; null when the manifest cannot be read (`cache verify` says why). */
  package: CachedPackage | null;
  path: string;
  /** Whether the verified tarball is kept beside it, or a wheel entry's wheel inside it (a warm load needs it). */
  tarball: boolean;
  /** Last change of the entry folder itself. */
  modified: Date;
}

export interface CleanCacheOptions {
  /** Integrities of entries to keep (SRI sha512 of a tarball, or `sha256-<base64>` of a wheel); every other entry is removed. Default: none. */
  keep?: string[];
  /** Staging folders younger than this are left alone (an extraction may be writing them). Default DEFAULT_STAGING_GRACE_MS. */
  stagingGraceMs?: number;
  /** The clock, for tests. */
  now?: Date;
}

export interface CleanCacheResult {
  /** Folders and files removed (entries, kept tarballs, leftovers of extractions and downloads). */
  removed: string[];
  /** Entries and tarballs kept. */
  kept: string[];
}

export function tampered(entry: string, reason: string, details: Record<string, unknown> = {}, cause?: unknown): McsError {

  return new McsError('E_CACHE_TAMPERED', `cache entry ${entry}: ${reason}; it is not imported (remove it with mcs-pkg cache clean; the next load fetches and verifies the package again)`, { cause, details: { entry, ...details } });
}

/**
 * Refuses a drivers folder that is a symbolic link (or not a folder), or that
 * another user owns or can write: the cache would then read, write and delete
 * entries wherever the link points, or someone else could swap them.
 */
export function assertDriversDir(driversDir: string): void {
  const stats = lstatIfAny(driversDir);
  if (!stats) return;
  if (!stats.isDirectory()) {
    throw new McsError('E_CACHE_TAMPERED', `${driversDir} is ${stats.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}; the cache does not follow it (remove it and load again)`, { details: { path: driversDir } });
  }
  // another account that can rename entries in it could swap verified folders
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) {
    throw new McsError('E_CACHE_TAMPERED', `${driversDir} belongs to another user (uid ${stats.uid}); use a cache folder of your own`, { details: { path: driversDir, uid: stats.uid } });
  }
  if (uid !== undefined && (stats.mode & 0o022) !== 0) {
    throw new McsError('E_CACHE_TAMPERED', `${driversDir} is writable by other users (mode ${(stats.mode & 0o777).toString(8)}); run chmod go-w ${driversDir}`, { details: { path: driversDir, mode: stats.mode & 0o777 } });
  }
}

/** Wraps a file-system failure as E_CACHE_IO; coded errors pass through. */
export function cacheIoError(what: string, cause: unknown): McsError {
  if (isMcsError(cause)) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);

  return new McsError('E_CACHE_IO', `driver cache: cannot ${what}: ${reason}`, { cause, details: { operation: what } });
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * The hex sha512 named by an SRI string. Exactly one sha512 digest is
 * accepted: the folder name is the only link between an entry and the pin,
 * so it must not depend on which of two digests a reader picks.
 */
export function integrityHex(integrity: string): string {
  const digests = new Set<string>();
  for (const token of integrity.trim().split(/\s+/)) {
    if (!token.startsWith('sha512-')) continue;
    const match = SRI_SHA512.exec(token);
    const digest = match ? Buffer.from(match[1]!, 'base64') : undefined;
    if (!digest || digest.length !== 64 || digest.toString('base64') !== match![1]) {
      throw new McsError('E_USAGE', `not an SRI sha512 digest: ${JSON.stringify(token.slice(0, 100))}`, { details: { integrity } });
    }
    digests.add(digest.toString('hex'));
  }
  if (digests.size !== 1) {
    throw new McsError('E_USAGE', `expected exactly one sha512 digest in the integrity ${JSON.stringify(integrity.slice(0, 200))}, found ${digests.size}`, {
      details: { integrity },
    });
  }
  return [...digests][0]!;
}

/** The integrity a wheel entry is named by: `sha256-<base64>` of the wheel's sha256 (hex). */
export function wheelIntegrity(sha256Hex: string): string {
  if (!HEX_SHA256.test(sha256Hex)) throw new McsError('E_USAGE', `not a sha256 hex digest: ${JSON.stringify(sha256Hex.slice(0, 80))}`, { details: { sha256: sha256Hex.slice(0, 80) } });
  return 'sha256-' + Buffer.from(sha256Hex, 'hex').toString('base64');
}

/** The hex digest an entry is named by: the sha256 of a wheel integrity, else the one sha512 of an SRI string. */
export function entryDigestHex(integrity: string): string {
  const wheel = SRI_SHA256.exec(integrity.trim());
  return wheel ? Buffer.from(wheel[1]!, 'base64').toString('hex') : integrityHex(integrity);
}

/** The entry folder of a wheel: `<cacheRoot>/wheels/<sha256 hex>`, named by the wheel's digest alone. */
export function wheelEntryPath(cacheRoot: string, sha256Hex: string): string {
  const root = resolve(cacheRoot);
  const lexical = nodeModulesAncestor(root);
  if (lexical) refuseNodeModules(root, lexical);
  return join(root, WHEELS_DIR, entryDigestHex(wheelIntegrity(sha256Hex)));
}

/** The canonical SRI string of a hex sha512 digest. */
export function integrityFromHex(hex: string): string {
  return 'sha512-' + Buffer.from(hex, 'hex').toString('base64');
}

function nodeModulesAncestor(path: string): string | undefined {
  const { root } = parse(path);
  const segments = path.slice(root.length).split(sep).filter(Boolean);
  // case-insensitive: on macOS or Windows "Node_Modules" is the same folder to the module resolver
  const index = segments.findIndex((segment) => segment.toLowerCase() === 'node_modules');
  return index === -1 ? undefined : root + segments.slice(0, index + 1).join(sep);
}

function refuseNodeModules(path: string, ancestor: string, real?: string): never {

  throw new McsError(
    'E_CACHE_IO',
    `driver cache ${path} is inside the node_modules folder ${ancestor}${real ? ` (it resolves to ${real})` : ''}: a cached driver's bare imports could resolve the host's packages; choose another cache folder`,
    { details: { path, nodeModules: ancestor, ...(real ? { realPath: real } : {}) } },
  );
}

/**
 * Refuses a cache location with a node_modules folder among its ancestors,
 * by name or through a symbolic link: Node resolves a module's bare imports
 * from the node_modules folders above its real path, so a driver cached there
 * could import the host's packages instead of failing.
 */
export function assertCacheLocation(path: string): void {
  const absolute = resolve(path);
  const lexical = nodeModulesAncestor(absolute);
  if (lexical) refuseNodeModules(absolute, lexical);
  let existing = absolute;
  for (;;) {
    try {
      const real = realpathSync(existing);
      const found = nodeModulesAncestor(real);
      if (found) refuseNodeModules(absolute, found, real);
      return;
    } catch (error) {
      if (isMcsError(error)) throw error;
      if (errno(error) !== 'ENOENT' && errno(error) !== 'ENOTDIR') throw cacheIoError(`resolve ${existing}`, error);
      const parent = dirname(existing);
      if (parent === existing) return;
      existing = parent;
    }
  }
}

/**
 * The entry folder of a tarball: named by the hex of its sha512 alone, so a
 * folder can only be found under the digest that was verified (content
 * addressing), never under a package name an attacker chooses.
 */
export function cacheEntryPath(cacheRoot: string, integrity: string): string {
  const root = resolve(cacheRoot);
  const lexical = nodeModulesAncestor(root);
  if (lexical) refuseNodeModules(root, lexical);
  return join(root, DRIVERS_DIR, integrityHex(integrity));
}

/** The manifest's bytes: one deterministic serialization, so the same tarball always gives the same manifest digest. */
export function serializeManifest(manifest: CacheManifest): Buffer {
  const ordered: CacheManifest = {
    format: manifest.format,
    integrity: manifest.integrity,
    package: { ecosystem: manifest.package.ecosystem, name: manifest.package.name, version: manifest.package.version },
    files: [...manifest.files]
      .sort((a, b) => compareText(a.path, b.path))
      .map((file) => ({ path: file.path, sha512: file.sha512, size: file.size, mode: file.mode })),
    directories: [...manifest.directories].sort(compareText),
  };
  return Buffer.from(JSON.stringify(ordered) + '\n', 'utf8');
}

/** sha512 hex of some bytes. */
export function sha512Hex(data: Uint8Array): string {
  return createHash('sha512').update(data).digest('hex');
}

/** Code-unit order, the same everywhere (localeCompare is not). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A '/'-separated path that stays below its folder: no empty, '.' or '..' segment, no backslash, NUL or absolute form. */
export function isPlainRelativePath(path: string): boolean {
  if (path === '' || path.includes('\\') || path.includes('\0') || path.startsWith('/') || /^[A-Za-z]:/.test(path)) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/** Checks the manifest's shape field by field; anything unexpected means it was not written by extractToCache. */
function toManifest(value: unknown, entry: string): CacheManifest {
  const bad = (pointer: string, reason: string): never => {
    throw tampered(entry, `its manifest is malformed at ${pointer || '/'}: ${reason}`, { pointer });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('', 'not an object');
  const record = value as Record<string, unknown>;
  if (typeof record.format === 'string' && OLDER_MANIFEST_FORMATS.includes(record.format)) {
    throw tampered(entry, `it was written by an earlier mcs-pkg (manifest ${record.format}, expected ${MANIFEST_FORMAT}); load the driver again to rewrite it, or run mcs-pkg cache clean`, { olderFormat: record.format });
  }
  const keys = Object.keys(record).sort();
  if (keys.join(',') !== 'directories,files,format,integrity,package') bad('', `unexpected keys ${keys.join(', ')}`);
  if (record.format !== MANIFEST_FORMAT) bad('/format', `expected ${MANIFEST_FORMAT}`);
  const pkg = record.package as Record<string, unknown> | null;
  if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg) || Object.keys(pkg).sort().join(',') !== 'ecosystem,name,version') bad('/package', 'not an object of ecosystem, name and version');
  if (pkg!.ecosystem !== 'npm' && pkg!.ecosystem !== 'pypi') bad('/package/ecosystem', 'expected npm or pypi');
  if (recordedText(pkg!.name, MAX_RECORDED_NAME) !== pkg!.name) bad('/package/name', `not null or a string of at most ${MAX_RECORDED_NAME} characters`);
  if (recordedText(pkg!.version, MAX_RECORDED_VERSION) !== pkg!.version) bad('/package/version', `not null or a string of at most ${MAX_RECORDED_VERSION} characters`);
  if (typeof record.integrity !== 'string' || !(pkg!.ecosystem === 'pypi' ? SRI_SHA256 : SRI_SHA512).test(record.integrity)) bad('/integrity', `not an SRI ${pkg!.ecosystem === 'pypi' ? 'sha256' : 'sha512'} digest`);
  if (!Array.isArray(record.files)) bad('/files', 'not an array');
  if (!Array.isArray(record.directories)) bad('/directories', 'not an array');
  const files: CachedFile[] = [];
  const seen = new Set<string>();
  (record.files as unknown[]).forEach((item, index) => {
    const pointer = `/files/${index}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) bad(pointer, 'not an object');
    const file = item as Record<string, unknown>;
    if (Object.keys(file).sort().join(',') !== 'mode,path,sha512,size') bad(pointer, 'unexpected keys');
    if (typeof file.path !== 'string' || !isPlainRelativePath(file.path)) bad(`${pointer}/path`, 'not a plain relative path');
    if (typeof file.sha512 !== 'string' || !HEX_SHA512.test(file.sha512)) bad(`${pointer}/sha512`, 'not a sha512 hex digest');
    if (typeof file.size !== 'number' || !Number.isSafeInteger(file.size) || file.size < 0) bad(`${pointer}/size`, 'not a byte count');
    if (file.mode !== FILE_MODE) bad(`${pointer}/mode`, `expected ${FILE_MODE.toString(8)}`);
    if (seen.has(file.path as string)) bad(`${pointer}/path`, 'listed twice');
    seen.add(file.path as string);
    files.push({ path: file.path as string, sha512: file.sha512 as string, size: file.size as number, mode: FILE_MODE });
  });
  const directories: string[] = [];
  (record.directories as unknown[]).forEach((item, index) => {
    const pointer = `/directories/${index}`;
    if (typeof item !== 'string' || !isPlainRelativePath(item)) bad(pointer, 'not a plain relative path');
    if (seen.has(item as string)) bad(pointer, 'listed twice');
    seen.add(item as string);
    directories.push(item as string);
  });
  return { format: MANIFEST_FORMAT, integrity: record.integrity as string, package: pkg as unknown as CachedPackage, files, directories };
}

/** A wheel entry's `NAME-VERSION.dist-info/METADATA` path: the one file that says which project the entry is. */
function wheelMetadataPath(files: CachedFile[]): string | undefined {
  const found = files.filter((file) => /^[^/]+\.dist-info\/METADATA$/.test(file.path));
  return found.length === 1 ? found[0]!.path : undefined;
}

/** The project and version a wheel entry's verified METADATA names (null fields where it names none). */
function packageOfWheelMetadata(metadata: Buffer | undefined, source: string): CachedPackage {
  try {
    if (metadata) {
      const parsed = parseCoreMetadata(metadata, source);
      return { ecosystem: 'pypi', name: parsed.name, version: parsed.version };
    }
  } catch (error) {
    if (!isMcsError(error)) throw error;
  }
  return { ecosystem: 'pypi', name: null, version: null };
}

/** A name or version as a manifest records it: a non-empty string within the cap, else null. */
function recordedText(value: unknown, max: number): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= max ? value : null;
}

/**
 * The package a tarball says it is (its package.json name and version), as
 * the manifest records it; null fields where package.json is not an object
 * or does not name them. The loader only unpacks a tarball whose package.json
 * matched the request when it was verified (DESIGN.md §4 check 1).
 */
export function packageOfManifest(packageJson: Uint8Array | undefined): CachedPackage {
  let parsed: unknown;
  try {
    parsed = packageJson ? parseJsonStrict(Buffer.from(packageJson), { source: 'package.json', maxBytes: MAX_MANIFEST_BYTES, maxDepth: 64 }) : undefined;
  } catch {
    parsed = undefined;
  }
  const fields = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  return { ecosystem: 'npm', name: recordedText(fields.name, MAX_RECORDED_NAME), version: recordedText(fields.version, MAX_RECORDED_VERSION) };
}

/** lstat, or undefined when nothing is there. */
function lstatIfAny(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if (errno(error) === 'ENOENT') return undefined;
    throw cacheIoError(`inspect ${path}`, error);
  }
}

function checkMode(entry: string, path: string, stats: Stats, expected: number): void {
  if (CHECK_MODES && (stats.mode & 0o777) !== expected) {
    throw tampered(entry, `${path} has mode ${(stats.mode & 0o777).toString(8)}, expected ${expected.toString(8)}`, {
      path,
      expected: expected.toString(8),
      found: (stats.mode & 0o777).toString(8),
    });
  }
}

/**
 * Reads a regular file without following a link at its last component and
 * without blocking on a FIFO (the checks apply to the opened descriptor, so a
 * swap after lstat is caught),
 * hashing it in chunks; at most maxBytes are read.
 */
function hashFileNoFollow(entry: string, path: string, maxBytes: number, keep: boolean): { sha512: string; size: number; stats: Stats; data?: Buffer } {
  let fd: number;
  try {
    // non-blocking, so a FIFO planted in place of a file is refused below instead of hanging the open
    fd = openSync(path, constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    const code = errno(error);
    if (code === 'ELOOP' || code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw tampered(entry, `${path} is missing or not a regular file (${code})`, { path }, error);
    throw cacheIoError(`open ${path}`, error);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw tampered(entry, `${path} is not a regular file`, { path });
    if (stats.size > maxBytes) throw tampered(entry, `${path} changed: it is ${stats.size} bytes, more than the ${maxBytes} expected`, { path });
    const hash = createHash('sha512');
    const chunk = Buffer.alloc(Math.min(HASH_CHUNK, Math.max(1, maxBytes + 1)));
    const parts: Buffer[] = [];
    let size = 0;
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      size += read;
      if (size > maxBytes) throw tampered(entry, `${path} changed: it grew past the ${maxBytes} bytes expected`, { path });
      hash.update(chunk.subarray(0, read));
      if (keep) parts.push(Buffer.from(chunk.subarray(0, read)));
    }
    return { sha512: hash.digest('hex'), size, stats, ...(keep ? { data: Buffer.concat(parts) } : {}) };
  } catch (error) {
    if (isMcsError(error)) throw error;
    throw cacheIoError(`read ${path}`, error);
  } finally {
    closeSync(fd);
  }
}

/** Every file and folder below dir, by lstat, stopping once more than `budget` are seen. */
function walkPackage(entry: string, packageDir: string, budget: number): { files: Map<string, Stats>; directories: Map<string, Stats> } {
  const files = new Map<string, Stats>();
  const directories = new Map<string, Stats>();
  const pending: string[] = [''];
  let seen = 0;
  while (pending.length > 0) {
    const relative = pending.pop()!;
    const absolute = relative === '' ? packageDir : join(packageDir, ...relative.split('/'));
    let names: string[];
    try {
      names = readdirSync(absolute);
    } catch (error) {
      throw cacheIoError(`list ${absolute}`, error);
    }
    for (const name of names) {
      const childRelative = relative === '' ? name : `${relative}/${name}`;
      const childPath = join(absolute, name);
      if (++seen > budget) throw tampered(entry, `it holds more files and folders than its manifest records (first extra seen: ${childRelative})`, { path: childPath });
      const stats = lstatIfAny(childPath);
      if (!stats) throw tampered(entry, `${childPath} vanished while it was checked`, { path: childPath });
      if (stats.isSymbolicLink()) throw tampered(entry, `${childPath} is a symbolic link`, { path: childPath });
      if (stats.isDirectory()) {
        directories.set(childRelative, stats);
        pending.push(childRelative);
      } else if (stats.isFile()) {
        files.set(childRelative, stats);
      } else {
        throw tampered(entry, `${childPath} is neither a file nor a folder`, { path: childPath });
      }
    }
  }
  return { files, directories };
}

/**
 * Re-hashes a cache entry just before import (DESIGN.md §5, TOCTOU between
 * verify and import): the entry and everything in it must be real files and
 * folders (no link anywhere, every real path exactly where it is expected),
 * read-only, and exactly the files the manifest records with the recorded
 * sha512 — nothing added, nothing removed. The manifest must name the entry's
 * own folder (its integrity) and, when the caller holds its digest, hash to it.
 * A wheel entry must also hold its kept wheel, hashing to the folder's sha256;
 * deriving the manifest again from that wheel is async and done by
 * verifyWheelEntry (pypi/wheel.ts), which every wheel use goes through.
 */
export function verifyCacheEntry(entryDir: string, expected: VerifyCacheOptions = {}): CacheEntry {
  const entry = resolve(entryDir);
  assertCacheLocation(entry);
  const hex = basename(entry);
  const wheel = basename(dirname(entry)) === WHEELS_DIR;
  if (!(wheel ? HEX_SHA256 : HEX_SHA512).test(hex)) throw tampered(entry, `its folder name is not a ${wheel ? 'sha256' : 'sha512'} hex digest`);
  const namedBy = wheel ? wheelIntegrity(hex) : integrityFromHex(hex);
  if (expected.integrity !== undefined) {
    const expectedHex = entryDigestHex(expected.integrity);
    if (expectedHex !== hex) {
      throw new McsError('E_INTEGRITY_MISMATCH', `cache entry ${entry}: expected the entry of ${expected.integrity}, got the entry of ${namedBy}`, {
        details: { entry, expected: expected.integrity, found: namedBy },
      });
    }
  }
  if (!expected.driversDirChecked) assertDriversDir(dirname(entry));
  const entryStats = lstatIfAny(entry);

  if (!entryStats) throw new McsError('E_CACHE_IO', `cache entry ${entry} does not exist`, { details: { entry } });
  if (entryStats.isSymbolicLink()) throw tampered(entry, 'the entry folder is a symbolic link');
  if (!entryStats.isDirectory()) throw tampered(entry, 'the entry is not a folder');
  checkMode(entry, entry, entryStats, DIR_MODE);
  let realEntry: string;
  try {
    realEntry = realpathSync(entry);
  } catch (error) {
    throw cacheIoError(`resolve ${entry}`, error);
  }
  assertCacheLocation(realEntry);

  let names: string[];
  try {
    names = readdirSync(entry).sort(compareText);
  } catch (error) {
    throw cacheIoError(`list ${entry}`, error);
  }
  if (!names.includes(MANIFEST_FILE)) throw tampered(entry, `its manifest ${MANIFEST_FILE} is missing`);
  if (!names.includes(PACKAGE_DIR)) throw tampered(entry, `its ${PACKAGE_DIR}/ folder is missing`);
  const extra = names.filter((name) => name !== MANIFEST_FILE && name !== PACKAGE_DIR);
  // a wheel entry keeps the verified wheel beside its files, so that what was unpacked can be derived again from it
  const keptName = wheel && extra.length === 1 && isKeptWheelName(extra[0]!) ? extra[0]! : undefined;
  if (wheel && keptName === undefined && extra.length === 0) throw tampered(entry, `its kept wheel (NAME-VERSION-TAGS.whl beside ${PACKAGE_DIR}/) is missing, so what was unpacked cannot be checked against it (an entry an earlier mcs-pkg wrote keeps none)`, { olderFormat: 'wheel entry without its kept wheel' });
  if (extra.length > (keptName ? 1 : 0)) throw tampered(entry, `it holds ${extra.map((name) => JSON.stringify(name)).join(', ')} besides ${PACKAGE_DIR}/${wheel ? ', its kept wheel' : ''} and ${MANIFEST_FILE}`, { added: extra });
  let keptWheel: { filename: string; data: Buffer } | undefined;
  if (keptName !== undefined) {
    const keptPath = join(entry, keptName);
    const kept = hashFileNoFollow(entry, keptPath, MAX_KEPT_WHEEL_BYTES, true);
    checkMode(entry, keptPath, kept.stats, FILE_MODE);
    const sha256 = createHash('sha256').update(kept.data!).digest('hex');
    if (sha256 !== hex) throw tampered(entry, `its kept wheel ${keptPath} hashes to sha256 ${sha256}, expected ${hex} (the folder name)`, { path: keptPath, expected: hex, found: sha256 });
    keptWheel = { filename: keptName, data: kept.data! };
  }

  const manifestPath = join(entry, MANIFEST_FILE);
  const manifestStats = lstatIfAny(manifestPath);
  if (!manifestStats) throw tampered(entry, `its manifest ${manifestPath} vanished while it was checked`);
  if (manifestStats.isSymbolicLink()) throw tampered(entry, `its manifest ${manifestPath} is a symbolic link`);
  if (!manifestStats.isFile()) throw tampered(entry, `its manifest ${manifestPath} is not a regular file`);
  const read = hashFileNoFollow(entry, manifestPath, MAX_MANIFEST_BYTES, true);
  checkMode(entry, manifestPath, read.stats, FILE_MODE);
  let parsed: unknown;
  try {
    parsed = parseJsonStrict(read.data!, { source: manifestPath, maxBytes: MAX_MANIFEST_BYTES, maxDepth: 8 });
  } catch (error) {
    throw tampered(entry, `its manifest is not valid JSON: ${(error as Error).message}`, {}, error);
  }
  const manifest = toManifest(parsed, entry);
  // after the format is read, so that an entry an earlier mcs-pkg wrote is told apart from one that was changed
  if (expected.manifestDigest !== undefined && read.sha512 !== expected.manifestDigest) {
    throw tampered(entry, `its manifest hashes to ${read.sha512}, expected ${expected.manifestDigest}`, { expected: expected.manifestDigest, found: read.sha512 });
  }
  if ((manifest.package.ecosystem === 'pypi') !== wheel) throw tampered(entry, `its manifest records a ${manifest.package.ecosystem} package in the ${basename(dirname(entry))} folder`);
  if (entryDigestHex(manifest.integrity) !== hex) {
    throw tampered(entry, `its manifest records ${manifest.integrity}, but the folder is named by ${namedBy}`, {
      expected: namedBy,
      found: manifest.integrity,
    });
  }

  const packageDir = join(entry, PACKAGE_DIR);
  const packageStats = lstatIfAny(packageDir);
  if (!packageStats) throw tampered(entry, `${packageDir} vanished while it was checked`);
  if (packageStats.isSymbolicLink()) throw tampered(entry, `${packageDir} is a symbolic link`);
  if (!packageStats.isDirectory()) throw tampered(entry, `${packageDir} is not a folder`);
  checkMode(entry, packageDir, packageStats, DIR_MODE);
  const realPackageDir = join(realEntry, PACKAGE_DIR);
  const found = walkPackage(entry, packageDir, manifest.files.length + manifest.directories.length);

  const recordedFiles = new Set(manifest.files.map((file) => file.path));
  const recordedDirectories = new Set(manifest.directories);
  const removed = [...manifest.files.map((file) => file.path).filter((path) => !found.files.has(path)), ...manifest.directories.filter((path) => !found.directories.has(path))];
  if (removed.length > 0) throw tampered(entry, `${removed.length} recorded file(s) or folder(s) are missing or changed type: ${removed.slice(0, 5).join(', ')}`, { removed });
  const added = [...[...found.files.keys()].filter((path) => !recordedFiles.has(path)), ...[...found.directories.keys()].filter((path) => !recordedDirectories.has(path))];
  if (added.length > 0) throw tampered(entry, `${added.length} file(s) or folder(s) not in its manifest: ${added.slice(0, 5).join(', ')}`, { added });

  for (const [relative, stats] of found.directories) {
    const path = join(packageDir, ...relative.split('/'));
    checkMode(entry, path, stats, DIR_MODE);
  }
  // the file that says which package the entry is: package.json, or a wheel's METADATA
  const describing = wheel ? wheelMetadataPath(manifest.files) : 'package.json';
  let packageJson: Buffer | undefined;
  for (const file of manifest.files) {
    const path = join(packageDir, ...file.path.split('/'));
    const hashed = hashFileNoFollow(entry, path, file.size, file.path === describing);
    checkMode(entry, path, hashed.stats, file.mode);
    if (hashed.size !== file.size || hashed.sha512 !== file.sha512) {
      throw tampered(entry, `${path} changed: expected sha512 ${file.sha512.slice(0, 16)}… (${file.size} bytes), got ${hashed.sha512.slice(0, 16)}… (${hashed.size} bytes)`, {
        path,
        expected: file.sha512,
        found: hashed.sha512,
      });
    }
    let real: string;
    try {
      real = realpathSync(path);
    } catch (error) {
      throw tampered(entry, `${path} cannot be resolved`, { path }, error);
    }
    const expectedReal = join(realPackageDir, ...file.path.split('/'));
    if (real !== expectedReal) throw tampered(entry, `${path} resolves to ${real}, outside its place in the entry`, { path, realPath: real });
    if (file.path === describing) packageJson = hashed.data;
  }
  // what the entry is listed and loaded as must be what its verified package.json (or METADATA) says
  const described = wheel ? packageOfWheelMetadata(packageJson, `${entry}: ${describing ?? 'METADATA'}`) : packageOfManifest(packageJson);
  if (described.name !== manifest.package.name || described.version !== manifest.package.version) {
    const show = (p: CachedPackage): string => `${p.ecosystem}:${p.name ?? '(no name)'}@${p.version ?? '(no version)'}`;
    throw tampered(entry, `its manifest records ${show(manifest.package)}, but its verified package.json says ${show(described)}`, { expected: described, found: manifest.package });
  }
  return {
    path: entry,
    packageDir,
    integrity: manifest.integrity,
    package: manifest.package,
    files: manifest.files,
    directories: manifest.directories,
    manifestDigest: read.sha512,
    ...(keptWheel ? { keptWheel } : {}),
  };
}

/** A name a kept wheel may have: one plain file name ending in `.whl` (the wheel reader checks the rest). */
function isKeptWheelName(name: string): boolean {
  return name.toLowerCase().endsWith('.whl') && isPlainRelativePath(name) && !name.includes('/') && !name.startsWith('.');
}

/** The names in <cacheRoot>/drivers (or wheels), after the location and folder checks; none when it does not exist yet. */
function driverFolderNames(cacheRoot: string, folder: typeof DRIVERS_DIR | typeof WHEELS_DIR = DRIVERS_DIR): { driversDir: string; names: string[] } {
  const root = resolve(cacheRoot);
  assertCacheLocation(root);
  const driversDir = join(root, folder);
  assertDriversDir(driversDir);
  return { driversDir, names: listNames(driversDir) };
}

/** The kept tarball of an integrity: `<cacheRoot>/tarballs/<sha512 hex>.tgz`. */
export function keptTarballPath(cacheRoot: string, integrity: string): string {
  return join(resolve(cacheRoot), TARBALLS_DIR, `${integrityHex(integrity)}.tgz`);
}

/** The package an entry's manifest records, or null when the manifest cannot be read as one (listing verifies nothing). */
function recordedPackage(entry: string): CachedPackage | null {
  try {
    const read = hashFileNoFollow(entry, join(entry, MANIFEST_FILE), MAX_MANIFEST_BYTES, true);
    return toManifest(parseJsonStrict(read.data!, { source: entry, maxBytes: MAX_MANIFEST_BYTES, maxDepth: 8 }), entry).package;
  } catch (error) {
    if (isMcsError(error)) return null;
    throw error;
  }
}

/**
 * The entries under a cache root with the package each records and whether
 * its tarball is kept. Listing verifies nothing (verifyCacheEntry does): what
 * it shows is what the entry says it is.
 */
export function listCache(cacheRoot: string = defaultDriverCacheDir()): CacheListing[] {
  const { driversDir, names } = driverFolderNames(cacheRoot);
  const listings: CacheListing[] = [];
  for (const name of names.filter((n) => HEX_SHA512.test(n)).sort(compareText)) {
    const path = join(driversDir, name);
    const stats = lstatIfAny(path);
    if (!stats) continue;
    const integrity = integrityFromHex(name);
    listings.push({ integrity, package: stats.isDirectory() ? recordedPackage(path) : null, path, tarball: lstatIfAny(keptTarballPath(cacheRoot, integrity))?.isFile() ?? false, modified: stats.mtime });
  }
  // wheels: the verified wheel is kept inside its entry (a warm load derives the unpacked files from it again)
  const wheels = driverFolderNames(cacheRoot, WHEELS_DIR);
  for (const name of wheels.names.filter((n) => HEX_SHA256.test(n)).sort(compareText)) {
    const path = join(wheels.driversDir, name);
    const stats = lstatIfAny(path);
    if (!stats) continue;
    let kept = false;
    try {
      kept = stats.isDirectory() && listNames(path).some((n) => isKeptWheelName(n) && lstatIfAny(join(path, n))?.isFile());
    } catch (error) {
      if (!isMcsError(error)) throw error;
    }
    listings.push({ integrity: wheelIntegrity(name), package: stats.isDirectory() ? recordedPackage(path) : null, path, tarball: kept, modified: stats.mtime });
  }
  return listings;
}

/** The result of re-hashing one entry: ok, or the coded error that says what changed. */
export type CacheCheck = CacheListing & ({ ok: true } | { ok: false; error: { code: string; message: string; details: Record<string, unknown> } });

/**
 * Removes a folder this cache wrote, read-only folders included. Links are
 * removed, never followed: modes are changed through descriptors opened with
 * O_NOFOLLOW, so a folder swapped for a link cannot redirect the chmod.
 */
export function removeCacheTree(path: string): void {
  const top = lstatIfAny(path);
  if (!top) return;
  if (top.isDirectory()) {
    const pending = [path];
    while (pending.length > 0) {
      const dir = pending.pop()!;
      makeWritable(dir);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch (error) {
        if (errno(error) === 'ENOENT') continue;
        throw cacheIoError(`list ${dir}`, error);
      }
      for (const name of names) {
        const child = join(dir, name);
        if (lstatIfAny(child)?.isDirectory()) pending.push(child);
      }
    }
  }
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (error) {
    throw cacheIoError(`remove ${path}`, error);
  }
}

function makeWritable(dir: string): void {
  if (process.platform === 'win32') {
    chmodSync(dir, 0o755);
    return;
  }
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (error) {
    if (errno(error) === 'ENOENT' || errno(error) === 'ELOOP' || errno(error) === 'ENOTDIR') return;
    throw cacheIoError(`open ${dir}`, error);
  }
  try {
    fchmodSync(fd, 0o700);
  } catch (error) {
    throw cacheIoError(`chmod ${dir}`, error);
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes everything the driver cache holds except the entries kept: every
 * unpacked entry (read-only folders made writable first), every kept tarball,
 * and the leftovers of extractions and downloads that died (older than the
 * grace period, so a running one is not cut short), so that the next load
 * fetches and verifies again and a crashed run never leaves bytes that could
 * later pass for an entry. Names it did not write are left alone.
 */
export function cleanCache(cacheRoot: string = defaultDriverCacheDir(), options: CleanCacheOptions = {}): CleanCacheResult {
  const keep = new Set((options.keep ?? []).map(entryDigestHex));
  const grace = options.stagingGraceMs ?? DEFAULT_STAGING_GRACE_MS;
  if (!Number.isFinite(grace) || grace < 0) throw new McsError('E_USAGE', `stagingGraceMs must be a non-negative number, got ${grace}`, { details: { stagingGraceMs: grace } });
  const now = (options.now ?? new Date()).getTime();
  const removed: string[] = [];
  const kept: string[] = [];
  const leftoverDied = (path: string): boolean => {
    const stats = lstatIfAny(path);
    return stats !== undefined && now - stats.mtimeMs >= grace;
  };
  for (const [folder, entryName] of [[DRIVERS_DIR, HEX_SHA512], [WHEELS_DIR, HEX_SHA256]] as const) {
    const { driversDir, names } = driverFolderNames(cacheRoot, folder);
    for (const name of names.sort(compareText)) {
      const path = join(driversDir, name);
      if (entryName.test(name)) {
        if (keep.has(name)) {
          kept.push(path);
          continue;
        }
      } else if (!name.startsWith(STAGING_PREFIX) || !leftoverDied(path)) {
        continue;
      }
      removeCacheTree(path);
      removed.push(path);
    }
  }
  const tarballsDir = join(resolve(cacheRoot), TARBALLS_DIR);
  assertDriversDir(tarballsDir);
  for (const name of listNames(tarballsDir).sort(compareText)) {
    const path = join(tarballsDir, name);
    // <hex>.tgz is a kept tarball; <hex>.tgz.<pid>.<random> one being written
    const match = /^([0-9a-f]{128})\.tgz(\..+)?$/.exec(name);
    if (!match) continue;
    if (match[2] === undefined && keep.has(match[1]!)) {
      kept.push(path);
      continue;
    }
    if (match[2] !== undefined && !leftoverDied(path)) continue;
    removeCacheTree(path);
    removed.push(path);
  }
  return { removed, kept };
}

function listNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if (errno(error) === 'ENOENT') return [];
    throw cacheIoError(`list ${dir}`, error);
  }
}
