/** Builds npm-style package tarballs (gzip + ustar) at test time, including deliberately hostile ones. */
import { gzipSync } from 'node:zlib';

export interface TarFile {
  path: string;
  content?: string | Buffer;
  /** ustar typeflag: '0' file (default), '5' directory, '2' symlink, '1' hard link, '3'/'4' devices, '6' FIFO. */
  type?: string;
  linkname?: string;
  mode?: number;
}

/** Every field of one raw 512-byte header, for building archives no tar writer would produce. */
export interface HeaderFields {
  /** The name field (100 bytes): text, or raw bytes (NULs included). */
  name: string | Buffer;
  /** ustar typeflag, one character ('0' when omitted). */
  type?: string;
  /** The size field's value, or its raw text (for malformed numbers). */
  size: number | string;
  mode?: number;
  linkname?: string;
  /** The ustar prefix field (155 bytes). */
  prefix?: string;
  /** Store a wrong checksum. */
  badChecksum?: boolean;
}

/** One 512-byte ustar header block. */
export function tarHeader(fields: HeaderFields): Buffer {
  const block = Buffer.alloc(512, 0);
  const write = (text: string | Buffer, offset: number, length: number) =>
    typeof text === 'string' ? block.write(text.slice(0, length), offset, length, 'utf8') : text.copy(block, offset, 0, Math.min(length, text.length));
  const octal = (value: number, offset: number, length: number) => write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length);
  write(fields.name, 0, 100);
  octal(fields.mode ?? 0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  if (typeof fields.size === 'number') octal(fields.size, 124, 12);
  else write(fields.size, 124, 12);
  octal(1_700_000_000, 136, 12);
  block.fill(0x20, 148, 156);
  write(fields.type ?? '0', 156, 1);
  write(fields.linkname ?? '', 157, 100);
  write('ustar\0', 257, 6);
  write('00', 263, 2);
  write(fields.prefix ?? '', 345, 155);
  let sum = 0;
  for (const byte of block) sum += byte;
  write((sum + (fields.badChecksum ? 1 : 0)).toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return block;
}

/** Pads a body to whole 512-byte blocks. */
export function padBlocks(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** A header whose size field is the body's length, then the padded body. */
export function tarRecord(fields: Omit<HeaderFields, 'size'> & { size?: HeaderFields['size'] }, body: string | Buffer = Buffer.alloc(0)): Buffer {
  const data = Buffer.from(body);
  return Buffer.concat([tarHeader({ ...fields, size: fields.size ?? data.length }), padBlocks(data)]);
}

/** The body of a pax extended header: "<length> <key>=<value>\n" records, the length counting itself. */
export function paxBody(records: Array<[string, string]>): Buffer {
  return Buffer.concat(
    records.map(([key, value]) => {
      const rest = ` ${key}=${value}\n`;
      const restBytes = Buffer.byteLength(rest);
      let length = restBytes + 1;
      while (String(length).length + restBytes !== length) length++;
      return Buffer.from(`${length}${rest}`);
    }),
  );
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(1024);

/** The tar stream of these entries, in order, gzipped. */
export function makeTarball(files: TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    const data = file.type && file.type !== '0' ? Buffer.alloc(0) : Buffer.from(file.content ?? '');
    parts.push(tarRecord({ name: file.path, mode: file.mode, type: file.type, linkname: file.linkname }, data));
  }
  parts.push(END_OF_ARCHIVE);
  return gzipSync(Buffer.concat(parts));
}

/** A minimal npm package tarball: package/package.json plus the given files under package/. */
export function makePackage(manifest: Record<string, unknown>, files: Record<string, string> = {}): Buffer {
  return makeTarball([
    { path: 'package/package.json', content: JSON.stringify(manifest, null, 2) },
    ...Object.entries(files).map(([path, content]) => ({ path: `package/${path}`, content })),
  ]);
}
