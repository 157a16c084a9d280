/**
 * Wheels (the binary distribution format, PEP 427 and its living
 * specification) checked whole before anything is written: every entry's
 * path, kind and size, every file's hash and size against RECORD, the WHEEL
 * file's version, and METADATA's name and version against the file name.
 * A wheel is attacker-controlled input: the zip is read with caps (zip.ts),
 * and every check fails with a coded error naming the wheel and the entry.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { McsError, isMcsError } from '../errors.js';
import { FILE_MODE, DIR_MODE, WHEELS_DIR, assertCacheLocation, compareText, isPlainRelativePath, MANIFEST_FORMAT, serializeManifest, sha512Hex, tampered, verifyCacheEntry, wheelEntryPath, wheelIntegrity, type CacheEntry, type CacheManifest } from '../loader/cache.js';
import { writeCacheEntry, type ExtractionPlan } from '../loader/extract.js';
import { parseJsonStrict } from '../manifest/json.js';
import { normalizeProjectName, normalizeVersion, parseDistFilename } from './filenames.js';
import { parseCoreMetadata, parseHeaders, type WheelMetadata } from './metadata.js';
import { readZip, type ZipEntryData, type ZipLimits } from './zip.js';

export { evaluateMarker, linuxCpythonEnvironment, parseRequirement, type MarkerEnvironment, type Requirement } from './pep508.js';
export type { WheelMetadata } from './metadata.js';

export interface WheelFile {
  /** Path inside the wheel, '/'-separated. */
  path: string;
  /** sha256 of the content, hex. */
  sha256: string;
  size: number;
  /**
   * Where the file goes, relative to site-packages (a `.data/purelib/` or
   * `.data/platlib/` file moves to the root), or null for a file that is not
   * installed there and not unpacked: `.data/scripts/` (console scripts are
   * never run by mcs-pkg), `.data/headers/` and `.data/data/` (outside
   * site-packages).
   */
  installPath: string | null;
}

export interface CheckedWheel {
  filename: string;
  /** From the file name: PEP 503 normalized name and PEP 440 normalized version. */
  name: string;
  version: string;
  /** The wheel's tags, compressed tag sets expanded ("py2.py3-none-any" gives two). */
  tags: string[];
  metadata: WheelMetadata;
  /** Every file, sorted by path, each checked against RECORD. */
  files: WheelFile[];
  /** The top-level packages and modules the wheel installs (module files without their .py). */
  topLevel: string[];
  /** The `.dist-info` folder name. */
  distInfo: string;
  /** Paths of files the wheel holds but that are not unpacked (see WheelFile.installPath). */
  skipped: string[];
  /** The static MCS metadata of `<dist-info>/mcs.json`, when the wheel has one (parsed strictly, not interpreted here). */
  mcs?: unknown;
}

export interface WheelLimits extends ZipLimits {
  /** Most bytes of METADATA (and WHEEL). */
  maxMetadataBytes: number;
  /** Most bytes of RECORD. */
  maxRecordBytes: number;
}

export const DEFAULT_WHEEL_LIMITS: WheelLimits = {
  maxEntries: 10_000,
  maxEntryBytes: 64 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
  maxMetadataBytes: 1024 * 1024,
  maxRecordBytes: 4 * 1024 * 1024,
};

/** Longest path and path segment an entry may have. */
const MAX_PATH = 1024;
const MAX_SEGMENT = 255;
/** Most bytes of `<dist-info>/mcs.json`. */
const MAX_MCS_JSON = 1024 * 1024;
/** Hash algorithms RECORD may use (the format forbids md5 and sha1). */
const RECORD_ALGORITHMS: ReadonlySet<string> = new Set(['sha256', 'sha384', 'sha512']);
/** dist-info files a RECORD cannot (or need not) list: itself and its legacy signatures. */
const UNRECORDED = ['RECORD', 'RECORD.jws', 'RECORD.p7s'];
/** `.data/` subfolders: the ones installed into site-packages, and the ones skipped. */
const DATA_INSTALLED = new Set(['purelib', 'platlib']);
const DATA_SKIPPED = new Set(['scripts', 'headers', 'data']);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const S_IFMT_DIR = 0o040000;
const S_IFMT_REG = 0o100000;
const S_IFMT_LNK = 0o120000;

type WheelCode = 'E_WHEEL_INVALID' | 'E_WHEEL_PATH' | 'E_WHEEL_LINK' | 'E_WHEEL_DUPLICATE' | 'E_WHEEL_RECORD' | 'E_WHEEL_METADATA' | 'E_WHEEL_LIMIT';

function fail(code: WheelCode, filename: string, message: string, details: Record<string, unknown> = {}): never {
  throw new McsError(code, `${filename}: ${message}; nothing was written`, { details: { file: filename, ...details } });
}

const quote = (path: string): string => JSON.stringify(path.slice(0, 200));

/** Refuses an entry path that could leave its folder or name two places: absolute, drive letter, backslash, `..`, `.`, empty segment, control character, overlong. */
function checkPath(filename: string, path: string): void {
  const ok = isPlainRelativePath(path) && !/[\x00-\x1f\x7f]/.test(path) && path.length <= MAX_PATH && path.split('/').every((s) => s.length <= MAX_SEGMENT);
  if (!ok) fail('E_WHEEL_PATH', filename, `entry ${quote(path)} is not a plain relative path (absolute, a drive letter, a backslash, a "..", "." or empty segment, a control character, or too long)`, { path: path.slice(0, 200) });
}

/** Refuses links and special files by the Unix type bits of the external attributes (zip has no other way to say "link"). */
function checkKind(filename: string, entry: ZipEntryData): void {
  const expected = entry.directory ? S_IFMT_DIR : S_IFMT_REG;
  if (entry.unixType === 0 || entry.unixType === expected) return;
  const kind = entry.unixType === S_IFMT_LNK ? 'a symbolic link' : entry.unixType === S_IFMT_DIR ? 'a folder without a trailing "/"' : `a special file (mode type 0o${entry.unixType.toString(8)})`;
  fail(entry.unixType === S_IFMT_DIR ? 'E_WHEEL_PATH' : 'E_WHEEL_LINK', filename, `entry ${quote(entry.name)} is ${kind}; a wheel holds only files and folders`, { path: entry.name });
}

/** Splits Python csv module output (the default dialect RECORD is written in) into rows. */
export function parseCsv(text: string, filename: string, maxRows: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRow = (): void => {
    row.push(field);
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    if (rows.length > maxRows) fail('E_WHEEL_LIMIT', filename, `RECORD has more than ${maxRows} lines`, { limit: maxRows });
    row = [];
    field = '';
  };
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      endRow();
      if (c === '\r' && text[i + 1] === '\n') i++;
    } else field += c;
    i++;
  }
  if (quoted) fail('E_WHEEL_RECORD', filename, 'RECORD ends inside a quoted field');
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

interface RecordLine {
  algorithm: string;
  digest: string;
  size: number;
}

/** RECORD's lines by path: `path,algorithm=urlsafe-base64-digest,size`, RECORD's own line with both empty. */
function parseRecord(bytes: Buffer, filename: string, distInfo: string, maxRows: number): Map<string, RecordLine | null> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail('E_WHEEL_RECORD', filename, `${distInfo}/RECORD is not UTF-8`);
  }
  const lines = new Map<string, RecordLine | null>();
  const lowered = new Set<string>();
  for (const [n, row] of parseCsv(text, filename, maxRows).entries()) {
    if (row.length !== 3) fail('E_WHEEL_RECORD', filename, `RECORD line ${n + 1} has ${row.length} fields, expected path,hash,size`, { line: n + 1 });
    const [path, hash, size] = row as [string, string, string];
    checkPath(filename, path);
    if (lowered.has(path.toLowerCase())) fail('E_WHEEL_DUPLICATE', filename, `RECORD lists ${quote(path)} twice`, { path });
    lowered.add(path.toLowerCase());
    const unrecordable = UNRECORDED.some((name) => path === `${distInfo}/${name}`);
    if (hash === '' && size === '' && unrecordable) {
      lines.set(path, null);
      continue;
    }
    const m = /^([a-z0-9]+)=([A-Za-z0-9_-]+)$/.exec(hash);
    if (!m || !RECORD_ALGORITHMS.has(m[1]!)) fail('E_WHEEL_RECORD', filename, `RECORD line ${n + 1} (${quote(path)}) has hash ${quote(hash)}, expected sha256=<urlsafe base64> (or sha384, sha512)`, { path, line: n + 1 });
    if (!/^\d{1,15}$/.test(size)) fail('E_WHEEL_RECORD', filename, `RECORD line ${n + 1} (${quote(path)}) has size ${quote(size)}, expected a byte count`, { path, line: n + 1 });
    lines.set(path, { algorithm: m[1]!, digest: m[2]!, size: Number(size) });
  }
  return lines;
}

/** "py2.py3-none-any" → ["py2-none-any", "py3-none-any"]. */
export function expandTags(tags: string): string[] {
  const [pythons, abis, platforms] = tags.split('-').map((part) => part.split('.')) as [string[], string[], string[]];
  return pythons.flatMap((py) => abis.flatMap((abi) => platforms.map((platform) => `${py}-${abi}-${platform}`))).sort();
}

/**
 * Where a wheel file goes relative to site-packages, or null when it is
 * skipped; refuses anything outside the wheel's own top-level packages and
 * modules, its .dist-info and its .data (a `.pth` file, a second
 * `.dist-info`, a top-level file that is not a module).
 */
function installPathOf(filename: string, path: string, distInfo: string, dataDir: string): string | null {
  const [top, ...rest] = path.split('/');
  if (top === distInfo) return path;
  let target = path;
  if (top === dataDir) {
    const [kind, ...inner] = rest;
    if (inner.length > 0 && DATA_SKIPPED.has(kind!)) return null;
    if (inner.length === 0 || !DATA_INSTALLED.has(kind!)) fail('E_WHEEL_PATH', filename, `entry ${quote(path)} is not in ${dataDir}/purelib, platlib, scripts, headers or data`, { path });
    target = inner.join('/');
  }
  const segments = target.split('/');
  const first = segments[0]!;
  const module = segments.length === 1 && first.endsWith('.py') && IDENTIFIER.test(first.slice(0, -3));
  const pkg = segments.length > 1 && IDENTIFIER.test(first);
  if (!module && !pkg) fail('E_WHEEL_PATH', filename, `entry ${quote(path)} is outside the wheel's packages, modules, ${distInfo}/ and ${dataDir}/ (a top-level file must be NAME.py, a top-level folder a Python identifier)`, { path });
  return target;
}

/** Refuses two files at one install path (also differing in case only), and a file whose path is another file's folder. */
function checkInstallPaths(filename: string, files: WheelFile[]): void {
  const seen = new Map<string, string>();
  for (const file of files) {
    if (file.installPath === null) continue;
    const key = file.installPath.toLowerCase();
    const other = seen.get(key);
    if (other !== undefined) fail('E_WHEEL_DUPLICATE', filename, `entries ${quote(other)} and ${quote(file.path)} install to the same path`, { path: file.path, other });
    seen.set(key, file.path);
  }
  for (const file of files) {
    if (file.installPath === null) continue;
    const segments = file.installPath.toLowerCase().split('/');
    for (let i = 1; i < segments.length; i++) {
      const other = seen.get(segments.slice(0, i).join('/'));
      if (other !== undefined) fail('E_WHEEL_DUPLICATE', filename, `entry ${quote(file.path)} lies below the file ${quote(other)}`, { path: file.path, other });
    }
  }
}

/** A checked wheel and the bytes of each of its files (by wheel path), for unpacking. */
export interface WheelContents {
  wheel: CheckedWheel;
  contents: Map<string, Buffer>;
}

/**
 * Checks a whole wheel (binary distribution format, "Installing a wheel" and
 * "The .dist-info directory"): the file name, every entry's path and kind,
 * duplicates, RECORD against every file, WHEEL, METADATA against the name.
 */
export async function checkWheel(bytes: Buffer, filename: string, limits: Partial<WheelLimits> = {}): Promise<WheelContents> {
  const caps: WheelLimits = { ...DEFAULT_WHEEL_LIMITS, ...limits };
  const dist = parseDistFilename(filename);
  if (dist.kind !== 'wheel') fail('E_WHEEL_INVALID', filename, 'is an sdist, not a wheel (an sdist is never built: building runs the package\'s code)');
  const entries = await readZip(bytes, filename, caps);

  const names = new Map<string, string>();
  for (const entry of entries) {
    const path = entry.directory ? entry.name.slice(0, -1) : entry.name;
    checkPath(filename, path);
    checkKind(filename, entry);
    const key = path.toLowerCase();
    const other = names.get(key);
    if (other !== undefined) fail('E_WHEEL_DUPLICATE', filename, `entries ${quote(other)} and ${quote(entry.name)} name the same path`, { path: entry.name, other });
    names.set(key, entry.name);
  }

  const distInfos = [...new Set(entries.map((e) => e.name.split('/')[0]!).filter((top) => top.endsWith('.dist-info')))];
  if (distInfos.length === 0) fail('E_WHEEL_INVALID', filename, 'has no NAME-VERSION.dist-info folder');
  if (distInfos.length > 1) fail('E_WHEEL_PATH', filename, `has ${distInfos.length} .dist-info folders (${distInfos.map(quote).join(', ')}), expected one`, { distInfos });
  const distInfo = distInfos[0]!;
  const stem = distInfo.slice(0, -'.dist-info'.length);
  const dash = stem.lastIndexOf('-');
  if (dash <= 0 || normalizeProjectName(stem.slice(0, dash)) !== dist.project || normalizeVersion(stem.slice(dash + 1)) !== dist.version) {
    fail('E_WHEEL_INVALID', filename, `its ${quote(distInfo)} folder does not name ${dist.project} ${dist.version} as the file name does`, { distInfo });
  }
  const dataDir = `${stem}.data`;

  const contents = new Map<string, Buffer>();
  for (const entry of entries) if (!entry.directory) contents.set(entry.name, entry.data);
  const recordBytes = contents.get(`${distInfo}/RECORD`);
  if (!recordBytes) fail('E_WHEEL_RECORD', filename, `has no ${distInfo}/RECORD`);
  if (recordBytes.length > caps.maxRecordBytes) fail('E_WHEEL_LIMIT', filename, `${distInfo}/RECORD is ${recordBytes.length} bytes, over the limit of ${caps.maxRecordBytes}`, { limit: caps.maxRecordBytes });
  const record = parseRecord(recordBytes, filename, distInfo, caps.maxEntries + UNRECORDED.length);

  const files: WheelFile[] = [];
  for (const [path, data] of contents) {
    const line = record.get(path);
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (line === undefined) {
      if (UNRECORDED.some((name) => path === `${distInfo}/${name}`)) {
        files.push({ path, sha256, size: data.length, installPath: path });
        continue;
      }
      fail('E_WHEEL_RECORD', filename, `${quote(path)} is in the wheel but not in RECORD`, { path });
    }
    if (line !== null) {
      const digest = line.algorithm === 'sha256' ? Buffer.from(sha256, 'hex') : createHash(line.algorithm).update(data).digest();
      const found = digest.toString('base64url');
      if (found !== line.digest || data.length !== line.size) {
        fail('E_WHEEL_RECORD', filename, `${quote(path)} does not match RECORD: expected ${line.algorithm}=${line.digest} (${line.size} bytes), got ${line.algorithm}=${found} (${data.length} bytes)`, {
          path,
          expected: `${line.algorithm}=${line.digest}`,
          found: `${line.algorithm}=${found}`,
          expectedSize: line.size,
          foundSize: data.length,
        });
      }
    }
    files.push({ path, sha256, size: data.length, installPath: installPathOf(filename, path, distInfo, dataDir) });
  }
  for (const path of record.keys()) if (!contents.has(path)) fail('E_WHEEL_RECORD', filename, `RECORD lists ${quote(path)}, which the wheel does not hold`, { path });
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  checkInstallPaths(filename, files);

  const wheelFile = contents.get(`${distInfo}/WHEEL`);
  if (!wheelFile) fail('E_WHEEL_INVALID', filename, `has no ${distInfo}/WHEEL`);
  if (wheelFile.length > caps.maxMetadataBytes) fail('E_WHEEL_LIMIT', filename, `${distInfo}/WHEEL is over the limit of ${caps.maxMetadataBytes} bytes`, { limit: caps.maxMetadataBytes });
  const wheelVersion = parseHeaders(wheelFile, `${filename}: ${distInfo}/WHEEL`, 'E_WHEEL_INVALID').get('wheel-version');
  // "A wheel installer should ... fail if Wheel-Version's major version is greater than the version it supports"
  if (wheelVersion?.length !== 1 || !/^1\.\d+$/.test(wheelVersion[0]!)) fail('E_WHEEL_INVALID', filename, `${distInfo}/WHEEL says Wheel-Version ${quote(wheelVersion?.join(', ') ?? '(none)')}, expected 1.x`);

  const metadataBytes = contents.get(`${distInfo}/METADATA`);
  if (!metadataBytes) fail('E_WHEEL_METADATA', filename, `has no ${distInfo}/METADATA`);
  if (metadataBytes.length > caps.maxMetadataBytes) fail('E_WHEEL_LIMIT', filename, `${distInfo}/METADATA is ${metadataBytes.length} bytes, over the limit of ${caps.maxMetadataBytes}`, { limit: caps.maxMetadataBytes });
  const metadata = parseCoreMetadata(metadataBytes, `${filename}: ${distInfo}/METADATA`);
  if (metadata.name !== dist.project || metadata.version !== dist.version) {
    fail('E_WHEEL_METADATA', filename, `METADATA says ${metadata.name} ${metadata.version}, expected ${dist.project} ${dist.version} as the file name says`, {
      expected: `${dist.project}==${dist.version}`,
      found: `${metadata.name}==${metadata.version}`,
    });
  }

  let mcs: unknown;
  const mcsBytes = contents.get(`${distInfo}/mcs.json`);
  if (mcsBytes) {
    try {
      mcs = parseJsonStrict(mcsBytes, { source: `${filename}: ${distInfo}/mcs.json`, maxBytes: MAX_MCS_JSON, maxDepth: 32 });
    } catch (error) {
      fail('E_WHEEL_METADATA', filename, `${distInfo}/mcs.json is not acceptable JSON: ${(error as Error).message}`);
    }
  }

  const installed = files.filter((f) => f.installPath !== null && !f.path.startsWith(`${distInfo}/`));
  const topLevel = [...new Set(installed.map((f) => f.installPath!.split('/')[0]!.replace(/\.py$/, '')))].sort();
  const wheel: CheckedWheel = {
    filename,
    name: dist.project,
    version: dist.version,
    tags: expandTags(dist.tags),
    metadata,
    files,
    topLevel,
    distInfo,
    skipped: files.filter((f) => f.installPath === null).map((f) => f.path),
    ...(mcs !== undefined ? { mcs } : {}),
  };
  return { wheel, contents };
}

/** Reads and checks a whole wheel without writing anything (E_WHEEL_* codes, E_DIST_NAME for a bad file name). */
export async function readWheel(bytes: Buffer, filename: string, limits: Partial<WheelLimits> = {}): Promise<CheckedWheel> {
  return (await checkWheel(bytes, filename, limits)).wheel;
}

export interface UnpackOptions {
  /** The pinned sha256 (hex) the wheel's bytes must have; checked before anything else. */
  sha256?: string;
  limits?: Partial<WheelLimits>;
}

/** A wheel unpacked into the cache: the checked wheel and its entry (`entry.packageDir` is the folder to put on sys.path). */
export interface UnpackedWheel extends CheckedWheel {
  sha256: string;
  entry: CacheEntry;
}

/**
 * Unpacks a wheel into the content-addressed cache,
 * `<cacheRoot>/wheels/<sha256 of the wheel>/package/`, laid out as
 * site-packages would hold it (its packages, modules and .dist-info; `.data/`
 * purelib and platlib moved to the root; scripts, headers and data left out),
 * read-only. The bytes must match the pin when one is given, the whole wheel
 * is checked before anything is written, and the entry appears by one rename
 * (loader/extract.ts writeCacheEntry, as npm drivers are cached). An entry
 * already there is re-hashed, never trusted as found. One folder per wheel:
 * a Python process puts exactly these folders on sys.path and implicit
 * namespace packages (`mcs.driver.*` from several wheels) merge across them.
 */
export async function unpackWheel(bytes: Buffer, filename: string, cacheRoot: string, options: UnpackOptions = {}): Promise<UnpackedWheel> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (options.sha256 !== undefined && options.sha256.toLowerCase() !== sha256) {
    throw new McsError('E_INTEGRITY_MISMATCH', `${filename}: expected sha256 ${options.sha256}, got ${sha256}; nothing was written`, { details: { file: filename, expected: options.sha256, found: sha256 } });
  }
  const root = resolve(cacheRoot);
  assertCacheLocation(root);
  const { wheel, contents } = await checkWheel(bytes, filename, options.limits);
  const { manifest, plan } = entryOf(wheel, contents, sha256);
  const entry = await writeCacheEntry(root, WHEELS_DIR, sha256, manifest, { ...plan, kept: { name: filename, data: bytes } });
  return { ...wheel, sha256, entry };
}

/** The manifest and the extraction plan of a checked wheel: the one derivation both unpacking and re-checking a cached wheel use. */
function entryOf(wheel: CheckedWheel, contents: Map<string, Buffer>, sha256: string): { manifest: CacheManifest; plan: ExtractionPlan } {
  const installed = wheel.files.filter((file) => file.installPath !== null).sort((a, b) => compareText(a.installPath!, b.installPath!));
  const folders = new Set<string>();
  for (const file of installed) {
    const segments = file.installPath!.split('/');
    for (let i = 1; i < segments.length; i++) folders.add(segments.slice(0, i).join('/'));
  }
  const plan: ExtractionPlan = {
    files: installed.map((file) => ({ relativePath: file.installPath!, data: contents.get(file.path)!, mode: FILE_MODE })),
    directories: [...folders].sort(compareText).map((relativePath) => ({ relativePath, mode: DIR_MODE })),
    unpackedBytes: installed.reduce((sum, file) => sum + file.size, 0),
  };
  const manifest: CacheManifest = {
    format: MANIFEST_FORMAT,
    integrity: wheelIntegrity(sha256),
    package: { ecosystem: 'pypi', name: wheel.metadata.name, version: wheel.metadata.version },
    files: plan.files.map((file) => ({ path: file.relativePath, sha512: sha512Hex(file.data), size: file.data.length, mode: file.mode })),
    directories: plan.directories.map((d) => d.relativePath),
  };
  return { manifest, plan };
}

/**
 * The cached entry of a pinned wheel, checked just before use: every
 * unpacked file re-hashed against the manifest, the kept wheel against the
 * folder's sha256 (the pin), and the manifest against the one the kept wheel
 * gives when it is read and checked again (RECORD, paths, METADATA), so that
 * a file changed together with its manifest line is caught. Returns the entry
 * and the kept wheel as checked. E_CACHE_TAMPERED when anything changed,
 * E_CACHE_IO when there is no entry.
 */
export async function verifyWheelEntry(cacheRoot: string, sha256: string, manifestDigest?: string): Promise<CacheEntry & { wheel: CheckedWheel }> {
  const hex = sha256.toLowerCase();
  const entry = verifyCacheEntry(wheelEntryPath(cacheRoot, hex), { integrity: wheelIntegrity(hex), ...(manifestDigest ? { manifestDigest } : {}) });
  const kept = entry.keptWheel!;
  let derived: string;
  let checked: CheckedWheel;
  try {
    const { wheel, contents } = await checkWheel(kept.data, kept.filename);
    checked = wheel;
    derived = sha512Hex(serializeManifest(entryOf(wheel, contents, hex).manifest));
  } catch (error) {
    if (!isMcsError(error)) throw error;
    throw tampered(entry.path, `its kept wheel ${kept.filename} no longer passes the wheel checks (${error.code}: ${error.message})`, { path: kept.filename }, error);
  }
  if (derived !== entry.manifestDigest) {
    throw tampered(entry.path, `its manifest is not the one its kept wheel ${kept.filename} gives (sha512 ${entry.manifestDigest.slice(0, 16)}…, expected ${derived.slice(0, 16)}…): files and manifest were changed together`, { expected: derived, found: entry.manifestDigest });
  }
  return { ...entry, wheel: checked };
}
