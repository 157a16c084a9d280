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

function header(file: TarFile, size: number): Buffer {
  const block = Buffer.alloc(512, 0);
  const write = (text: string, offset: number, length: number) => block.write(text.slice(0, length), offset, length, 'utf8');
  const octal = (value: number, offset: number, length: number) => write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length);
  write(file.path, 0, 100);
  octal(file.mode ?? 0o644, 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  octal(size, 124, 12);
  octal(1_700_000_000, 136, 12);
  block.fill(0x20, 148, 156);
  write(file.type ?? '0', 156, 1);
  write(file.linkname ?? '', 157, 100);
  write('ustar\0', 257, 6);
  write('00', 263, 2);
  let sum = 0;
  for (const byte of block) sum += byte;
  write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return block;
}

/** The tar stream of these entries, in order, gzipped. */
export function makeTarball(files: TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    const data = file.type && file.type !== '0' ? Buffer.alloc(0) : Buffer.from(file.content ?? '');
    parts.push(header(file, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

/** A minimal npm package tarball: package/package.json plus the given files under package/. */
export function makePackage(manifest: Record<string, unknown>, files: Record<string, string> = {}): Buffer {
  return makeTarball([
    { path: 'package/package.json', content: JSON.stringify(manifest, null, 2) },
    ...Object.entries(files).map(([path, content]) => ({ path: `package/${path}`, content })),
  ]);
}
