/**
 * The oracle for the tar differential tests: what `npm install` puts on disk
 * for a tarball, and how node-tar lists it. npm unpacks with node-tar's
 * Unpack and pacote's options (pacote lib/fetcher.js #tarxOptions: strip: 1,
 * links skipped, only files kept — folders come from the files they hold —
 * and a .gitignore renamed .npmignore unless one was seen); here the same
 * options unpack into a temporary folder, which is then read back.
 */
import { mkdtempSync, readdirSync, readFileSync, lstatSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect } from 'vitest';
import { Parser, Unpack, type ReadEntry } from 'tar';
import { isMcsError } from '../../../src/errors.js';
import { planTarball } from '../../../src/loader/extract.js';
import { readTarball } from '../../../src/tar/read.js';

export interface Installed {
  /** Installed files, path below the package folder → content (base64). */
  files: Record<string, string>;
  /** Installed folders, sorted. */
  directories: string[];
}

/** pacote's entry filter, as npm applies it on install. */
function pacoteFilter(): (path: string, entry: ReadEntry) => boolean {
  const sawIgnores = new Set<string>();
  return (_path, entry) => {
    if (/Link$/.test(entry.type)) return false;
    if (/File$/.test(entry.type)) {
      const base = basename(entry.path);
      if (base === '.npmignore') sawIgnores.add(entry.path);
      else if (base === '.gitignore') {
        const ni = entry.path.replace(/\.gitignore$/, '.npmignore');
        if (sawIgnores.has(ni)) return false;
        entry.path = ni;
      }
      return true;
    }
    return false;
  };
}

function readBack(dir: string): Installed {
  const files: Record<string, string> = {};
  const directories: string[] = [];
  const walk = (relative: string) => {
    for (const name of readdirSync(join(dir, relative)).sort()) {
      const child = relative ? `${relative}/${name}` : name;
      const stats = lstatSync(join(dir, child));
      if (stats.isDirectory()) {
        directories.push(child);
        walk(child);
      } else if (stats.isFile()) files[child] = readFileSync(join(dir, child)).toString('base64');
      else files[child] = `<not a regular file: mode ${stats.mode.toString(8)}>`;
    }
  };
  walk('');
  return { files, directories: directories.sort() };
}

/** What npm installs from these tarball bytes, or the error that makes `npm install` fail. */
export async function npmInstall(tgz: Buffer): Promise<Installed | { error: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mcs-npm-view-'));
  try {
    await new Promise<void>((resolve, reject) => {
      const unpack = new Unpack({ cwd: dir, strip: 1, noChmod: true, noMtime: true, preserveOwner: false, filter: pacoteFilter(), onwarn: () => {} });
      unpack.on('error', reject);
      unpack.on('close', () => resolve());
      unpack.end(tgz);
    });
    return readBack(dir);
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Listed {
  path: string;
  typeflag: string;
  size: number;
  data?: string;
}

/** node-tar's own listing (not strict: every entry it reads, as npm's parser sees them). */
export function nodeTarList(tgz: Buffer): Listed[] {
  const listed: Listed[] = [];
  const parser = new Parser({ onwarn: () => {} });
  parser.on('error', () => {});
  const add = (entry: ReadEntry) => {
    const item: Listed = { path: entry.path, typeflag: entry.header.typeKey, size: entry.size };
    listed.push(item);
    if (!/File$/.test(entry.type)) return entry.resume();
    const chunks: Buffer[] = [];
    entry.on('data', (chunk: Buffer) => chunks.push(chunk));
    entry.on('end', () => {
      item.data = Buffer.concat(chunks).toString('base64');
    });
  };
  parser.on('entry', add);
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    if (!entry.meta) add(entry);
  });
  parser.end(tgz);
  return listed;
}

export type Outcome = { refused: string } | { accepted: Installed };

/**
 * The rule: mcs-pkg lists exactly the entries node-tar lists and plans
 * exactly the files and folders npm installs, or it refuses the archive with
 * an E_TAR* code. Returns which of the two happened.
 */
export async function expectNpmParity(tgz: Buffer): Promise<Outcome> {
  let ours: Installed | undefined;
  let refusal: unknown;
  try {
    const plan = planTarball(tgz, {}, 'archive');
    ours = {
      files: Object.fromEntries(plan.files.map((file) => [file.relativePath, file.data.toString('base64')])),
      directories: plan.directories.map((directory) => directory.relativePath),
    };
  } catch (error) {
    refusal = error;
  }
  if (refusal !== undefined) {
    if (!isMcsError(refusal) || !refusal.code.startsWith('E_TAR')) throw refusal;
    return { refused: refusal.code };
  }
  const listed = readTarball(tgz).map((entry) => ({ path: entry.path, typeflag: entry.typeflag, size: entry.size, ...(entry.data ? { data: entry.data.toString('base64') } : {}) }));
  expect(listed).toEqual(nodeTarList(tgz));
  const installed = await npmInstall(tgz);
  expect(installed).toEqual(ours);
  return { accepted: ours! };
}
