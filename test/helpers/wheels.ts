/**
 * Builds wheels (zip archives in the binary distribution format) and sdists
 * at test time, including deliberately hostile ones: the zip writer below
 * writes whatever names, modes and sizes it is given, which no zip library
 * would, so every refusal of src/pypi/wheel.ts can be shown on real bytes.
 */
import { createHash } from 'node:crypto';
import { crc32, deflateRawSync } from 'node:zlib';
import { makeTarball } from './tarball.js';

export interface ZipEntrySpec {
  /** The stored name (a Buffer for raw bytes). A name ending in '/' is a folder. */
  name: string | Buffer;
  data?: string | Buffer;
  /** Deflate the data (default true for files). */
  deflate?: boolean;
  /** Unix mode in the external attributes (default 0o100644, folders 0o040755; 0 for none). */
  unixMode?: number;
  /** Set the UTF-8 name flag (default true). */
  utf8?: boolean;
  /** Store this uncompressed size instead of the real one (a lying header). */
  declaredSize?: number;
  /** Set the encryption flag. */
  encrypted?: boolean;
}

/** A zip archive of exactly these entries, in this order. */
export function zip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const spec of entries) {
    const name = typeof spec.name === 'string' ? Buffer.from(spec.name, 'utf8') : spec.name;
    const directory = name.at(-1) === 0x2f;
    const data = typeof spec.data === 'string' ? Buffer.from(spec.data, 'utf8') : (spec.data ?? Buffer.alloc(0));
    const deflate = !directory && (spec.deflate ?? true);
    const stored = deflate ? deflateRawSync(data) : data;
    const flags = (spec.utf8 ?? true ? 0x800 : 0) | (spec.encrypted ? 0x1 : 0);
    const size = spec.declaredSize ?? data.length;
    const mode = spec.unixMode ?? (directory ? 0o040755 : 0o100644);
    const crc = crc32(data);
    // the fields the local header (at 6) and the central directory header (at 8) share, in the same order
    const shared = (header: Buffer, at: number): Buffer => {
      header.writeUInt16LE(flags, at);
      header.writeUInt16LE(deflate ? 8 : 0, at + 2);
      header.writeUInt16LE(0, at + 4);
      header.writeUInt16LE(0x5821, at + 6);
      header.writeUInt32LE(crc, at + 8);
      header.writeUInt32LE(stored.length, at + 12);
      header.writeUInt32LE(size, at + 16);
      header.writeUInt16LE(name.length, at + 20);
      return header;
    };
    const local = shared(Buffer.alloc(30), 6);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    const central = shared(Buffer.alloc(46), 8);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(((mode & 0xffff) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, stored);
    centrals.push(central, name);
    offset += local.length + name.length + stored.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** The RECORD hash field of some bytes: sha256=<urlsafe base64, no padding>. */
export function recordHash(data: string | Buffer): string {
  return `sha256=${createHash('sha256').update(data).digest('base64url')}`;
}

/** `name_with_underscores-version-tag.whl`. */
export function wheelFilename(name: string, version: string, tag = 'py3-none-any'): string {
  return `${name.replace(/[-_.]+/g, '_')}-${version}-${tag}.whl`;
}

export interface WheelHostility {
  /** Extra raw zip entries (absolute or `..` paths, backslashes, links, duplicates), added to RECORD unless `inRecord` is false. */
  entries?: Array<ZipEntrySpec & { inRecord?: boolean }>;
  /** A symbolic link entry at this path (pointing at `target`). */
  symlink?: { path: string; target: string };
  /** RECORD records a wrong hash for this path. */
  recordMismatch?: string;
  /** RECORD records a wrong size for this path. */
  recordWrongSize?: string;
  /** This path is left out of RECORD. */
  omitFromRecord?: string;
  /** RECORD lists this path, which the wheel does not hold. */
  recordExtra?: string;
  /** No RECORD at all. */
  noRecord?: boolean;
  /** METADATA says this name / version instead. */
  metadataName?: string;
  metadataVersion?: string;
  /** METADATA's raw text instead of the generated one. */
  metadataText?: string;
  /** WHEEL's Wheel-Version (default 1.0). */
  wheelVersion?: string;
}

export interface WheelSpec {
  name: string;
  version: string;
  /** Files by path relative to the wheel root (packages, modules, `NAME-V.data/...`). */
  files?: Record<string, string | Buffer>;
  requiresDist?: string[];
  requiresPython?: string;
  summary?: string;
  /** Written to `<dist-info>/mcs.json`. */
  mcs?: unknown;
  /** Default py3-none-any. */
  tag?: string;
  hostile?: WheelHostility;
}

/** The `.dist-info` folder name of a project version. */
export function distInfoName(name: string, version: string): string {
  return `${name.replace(/[-_.]+/g, '_')}-${version}.dist-info`;
}

/** A wheel's bytes: the files, METADATA, WHEEL and RECORD (correct hashes unless `hostile` says otherwise). */
export function buildWheel(spec: WheelSpec): Buffer {
  const hostile = spec.hostile ?? {};
  const distInfo = distInfoName(spec.name, spec.version);
  const metadata =
    hostile.metadataText ??
    [
      'Metadata-Version: 2.1',
      `Name: ${hostile.metadataName ?? spec.name}`,
      `Version: ${hostile.metadataVersion ?? spec.version}`,
      ...(spec.summary ? [`Summary: ${spec.summary}`] : []),
      ...(spec.requiresPython ? [`Requires-Python: ${spec.requiresPython}`] : []),
      ...(spec.requiresDist ?? []).map((r) => `Requires-Dist: ${r}`),
      '',
      'A test wheel.',
      '',
    ].join('\n');
  const files: Array<[string, string | Buffer]> = [
    ...Object.entries(spec.files ?? {}),
    [`${distInfo}/METADATA`, metadata],
    [`${distInfo}/WHEEL`, `Wheel-Version: ${hostile.wheelVersion ?? '1.0'}\nGenerator: mcs-pkg-tests\nRoot-Is-Purelib: true\nTag: ${spec.tag ?? 'py3-none-any'}\n\n`],
  ];
  if (spec.mcs !== undefined) files.push([`${distInfo}/mcs.json`, JSON.stringify(spec.mcs)]);
  const entries: ZipEntrySpec[] = files.map(([name, data]) => ({ name, data }));
  const recorded: Array<[string, string | Buffer]> = [...files];
  if (hostile.symlink) {
    entries.push({ name: hostile.symlink.path, data: hostile.symlink.target, unixMode: 0o120777 });
    recorded.push([hostile.symlink.path, hostile.symlink.target]);
  }
  for (const extra of hostile.entries ?? []) {
    entries.push(extra);
    if (extra.inRecord !== false && !String(extra.name).endsWith('/')) recorded.push([String(extra.name), extra.data ?? '']);
  }
  const lines = recorded
    .filter(([path]) => path !== hostile.omitFromRecord)
    .map(([path, data]) => {
      const size = Buffer.byteLength(data) + (path === hostile.recordWrongSize ? 1 : 0);
      const hash = path === hostile.recordMismatch ? recordHash(Buffer.concat([Buffer.from(data), Buffer.from('!')])) : recordHash(data);
      return `${/[",\n]/.test(path) ? `"${path.replace(/"/g, '""')}"` : path},${hash},${size}`;
    });
  if (hostile.recordExtra) lines.push(`${hostile.recordExtra},${recordHash('gone')},4`);
  lines.push(`${distInfo}/RECORD,,`);
  if (!hostile.noRecord) entries.push({ name: `${distInfo}/RECORD`, data: lines.join('\n') + '\n' });
  return zip(entries);
}

export interface SdistSpec {
  name: string;
  version: string;
  files?: Record<string, string>;
}

/** An sdist (`name-version.tar.gz` with PKG-INFO and the files under `name-version/`). */
export function buildSdist(spec: SdistSpec): Buffer {
  const root = `${spec.name.replace(/[-_.]+/g, '_')}-${spec.version}`;
  const files = { 'PKG-INFO': `Metadata-Version: 2.1\nName: ${spec.name}\nVersion: ${spec.version}\n`, ...(spec.files ?? {}) };
  return makeTarball(Object.entries(files).map(([path, content]) => ({ path: `${root}/${path}`, content })));
}

/** `name_with_underscores-version.tar.gz`. */
export function sdistFilename(name: string, version: string): string {
  return `${name.replace(/[-_.]+/g, '_')}-${version}.tar.gz`;
}
