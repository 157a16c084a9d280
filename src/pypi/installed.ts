/**
 * `verify --installed --python`: every MCS distribution installed in a
 * Python environment compared, file by file, with the verified wheel it
 * claims to be. The environment's site-packages is found from a venv folder
 * or by asking the interpreter (`-I -S`: no site import, no user
 * environment variables). A distribution counts as MCS when the index lists
 * its name on PyPI, or when its name starts with `mcs-` (then it is reported
 * as not in the index). The wheel is the one the index pins (its sha256),
 * read from `--dist-dir` or downloaded from the PyPI index, and checked whole
 * (wheel.ts) before it vouches for anything.
 *
 * What an installer writes besides the wheel's files, and is therefore not
 * compared: the dist-info's RECORD (rewritten with the installed paths),
 * INSTALLER, REQUESTED and direct_url.json (PEP 376, PEP 610), bytecode in
 * `__pycache__/` (compiled at install; counted and named in the result, as a
 * changed .pyc is not detected), and the files of `.data/scripts`,
 * `.data/headers` and `.data/data` (installed outside site-packages).
 *
 * Startup files at the site-packages root (`*.pth`, sitecustomize,
 * usercustomize) run code at every interpreter start, before any driver: each
 * is listed, and one that no verified MCS distribution installs and that is
 * not allowed by name (`--allow-pth NAME`) fails the check.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { McsError, isMcsError } from '../errors.js';
import { readFileCapped } from '../files.js';
import { openIndex, type OpenIndexOptions } from '../index/store.js';
import type { DistributionFile, IndexEntry } from '../manifest/types.js';
import { PypiClient, type PypiClientOptions } from './client.js';
import { normalizeProjectName, parseDistFilename } from './filenames.js';
import { parseCoreMetadata, parseHeaders } from './metadata.js';
import { versionRecord } from './verify.js';
import { checkWheel, expandTags, parseCsv, type WheelContents } from './wheel.js';

/** dist-info files an installer writes that no wheel holds (RECORD is rewritten): not compared. */
export const INSTALLER_FILES: readonly string[] = ['RECORD', 'INSTALLER', 'REQUESTED', 'direct_url.json'];
const MAX_DIST_INFOS = 10_000;
const MAX_WALKED = 100_000;
const MAX_INSTALLED_FILE = 256 * 1024 * 1024;
const MAX_METADATA = 1024 * 1024;
const MAX_RECORD = 16 * 1024 * 1024;
const INTERPRETER_TIMEOUT_MS = 15_000;
/**
 * Without site (-S) a venv's interpreter reports its base installation's
 * paths: site.py is what finds pyvenv.cfg beside (or one folder above) the
 * executable and switches the prefix. The same rule is applied here, and
 * sysconfig asked for the purelib of that prefix, so no .pth file runs.
 */
const PURELIB_PROGRAM = [
  'import os, sys, sysconfig',
  'here = os.path.dirname(sys.executable)',
  'venv = next((d for d in (here, os.path.dirname(here)) if os.path.isfile(os.path.join(d, "pyvenv.cfg"))), None)',
  'paths = sysconfig.get_paths(vars={"base": venv, "platbase": venv}) if venv else sysconfig.get_paths()',
  'sys.stdout.write(paths["purelib"])',
].join('\n');

export interface SitePackages {
  /** The site-packages folder (purelib). */
  path: string;
  /** How it was found. */
  from: 'venv' | 'interpreter' | 'folder';
  /** The interpreter asked, when one was. */
  python?: string;
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The site-packages of a venv folder (the one `lib/pythonX.Y/site-packages`
 * or `Lib/site-packages` beside its pyvenv.cfg), of a site-packages folder
 * given directly, or of an interpreter (default python3 on PATH), asked with
 * `-I -S` for sysconfig's purelib so that no site or .pth code runs.
 */
export function locateSitePackages(target = ''): SitePackages {
  if (target !== '' && isDirectory(target)) {
    const dir = resolve(target);
    if (lstatIfAny(join(dir, 'pyvenv.cfg'))?.isFile()) {
      const lib = join(dir, 'lib');
      const versions = isDirectory(lib) ? readdirSync(lib).filter((name) => /^python\d+\.\d+t?$/.test(name)) : [];
      const candidates = [...versions.map((name) => join(lib, name, 'site-packages')), join(dir, 'Lib', 'site-packages')].filter(isDirectory);
      if (candidates.length !== 1) throw new McsError('E_USAGE', `venv ${dir}: expected one site-packages folder, found ${candidates.length}${candidates.length ? ` (${candidates.join(', ')})` : ''}; give the interpreter instead (--python ${join(dir, 'bin', 'python')})`, { details: { venv: dir, found: candidates } });
      return { path: candidates[0]!, from: 'venv' };
    }
    if (basename(dir) === 'site-packages' || readdirSync(dir).some((name) => name.endsWith('.dist-info'))) return { path: dir, from: 'folder' };
    throw new McsError('E_USAGE', `${dir} is neither a venv (no pyvenv.cfg) nor a site-packages folder; give a venv, a site-packages folder or a Python interpreter`, { details: { path: dir } });
  }
  const python = target || 'python3';
  let purelib: string;
  try {
    purelib = execFileSync(python, ['-I', '-S', '-c', PURELIB_PROGRAM], {
      encoding: 'utf8',
      timeout: INTERPRETER_TIMEOUT_MS,
      maxBuffer: 64 * 1024,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (cause) {
    throw new McsError('E_USAGE', `cannot ask ${python} for its site-packages: ${(cause as Error).message.split('\n')[0]}; give a venv folder or a Python interpreter with --python`, { cause, details: { python } });
  }
  if (!isDirectory(purelib)) throw new McsError('E_USAGE', `${python} names ${JSON.stringify(purelib.slice(0, 300))} as its site-packages, which is not a folder`, { details: { python, purelib: purelib.slice(0, 300) } });
  return { path: purelib, from: 'interpreter', python };
}

function lstatIfAny(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

export interface InstalledDistribution {
  /** PEP 503 normalized name and PEP 440 normalized version, from the installed METADATA. */
  name: string;
  version: string;
  /** The .dist-info folder. */
  distInfo: string;
}

/** Every `*.dist-info` folder of a site-packages with the name and version its METADATA gives; unreadable ones reported. */
export function listDistributions(sitePackages: string): { distributions: InstalledDistribution[]; unreadable: Array<{ path: string; error: McsError }> } {
  const distributions: InstalledDistribution[] = [];
  const unreadable: Array<{ path: string; error: McsError }> = [];
  const names = readdirSync(sitePackages).filter((name) => name.endsWith('.dist-info')).sort();
  if (names.length > MAX_DIST_INFOS) throw new McsError('E_USAGE', `${sitePackages} holds ${names.length} .dist-info folders, more than the ${MAX_DIST_INFOS} read`, { details: { sitePackages } });
  for (const name of names) {
    const distInfo = join(sitePackages, name);
    try {
      const metadata = parseCoreMetadata(readFileCapped(join(distInfo, 'METADATA'), MAX_METADATA, 'installed METADATA', { noFollow: true, code: 'E_WHEEL_METADATA' }), join(distInfo, 'METADATA'));
      distributions.push({ name: metadata.name, version: metadata.version, distInfo });
    } catch (error) {
      // only an MCS-looking folder that cannot be read is worth reporting; any other is not ours to judge
      if (!isMcsError(error) || !normalizeProjectName(name).startsWith('mcs-')) continue;
      unreadable.push({ path: distInfo, error });
    }
  }
  return { distributions, unreadable };
}

/** The sha256 (hex) of a PyPI pin (`sha256-<base64>`), or undefined when the pin is not a sha256. */
function pinnedSha256(file: DistributionFile): string | undefined {
  const m = /^sha256-([A-Za-z0-9+/]{43}=)$/.exec(file.integrity.trim());
  return m ? Buffer.from(m[1]!, 'base64').toString('hex') : undefined;
}

/**
 * The pinned wheel an installed distribution came from: the one whose tags
 * the installed WHEEL file names (or the only pinned wheel, when it names none).
 */
function pinnedWheel(files: DistributionFile[], distInfo: string): DistributionFile | undefined {
  const wheels = files.filter((file) => {
    try {
      return parseDistFilename(file.filename).kind === 'wheel';
    } catch {
      return false;
    }
  });
  let installedTags: string[] = [];
  try {
    installedTags = (parseHeaders(readFileCapped(join(distInfo, 'WHEEL'), MAX_METADATA, 'installed WHEEL', { noFollow: true }), join(distInfo, 'WHEEL')).get('tag') ?? []).map((tag) => tag.toLowerCase());
  } catch {
    installedTags = [];
  }
  const matching = wheels.filter((file) => expandTags(parseDistFilename(file.filename).tags).some((tag) => installedTags.includes(tag)));
  if (matching.length === 1) return matching[0];
  return wheels.length === 1 ? wheels[0] : undefined;
}

export interface InstalledComparison {
  problems: string[];
  /** Files compared byte for byte. */
  compared: number;
  /** Bytecode files found under the wheel's folders and not compared. */
  bytecode: number;
}

/**
 * Compares an installed distribution with its checked wheel: every file the
 * wheel installs must be in site-packages at its place, a regular file (not a
 * link) with the wheel's bytes; nothing else may be in the wheel's own
 * folders or its .dist-info unless another verified MCS distribution's wheel
 * installs it (ownedByOther), an installer wrote it (INSTALLER_FILES) or it is
 * bytecode in `__pycache__/`.
 */
export function compareInstalled(checked: WheelContents, sitePackages: string, ownedByOther: (path: string) => boolean = () => false): InstalledComparison {
  const { wheel, contents } = checked;
  const problems: string[] = [];
  const expected = new Map<string, Buffer>();
  for (const file of wheel.files) if (file.installPath !== null) expected.set(file.installPath, contents.get(file.path)!);
  for (const installer of INSTALLER_FILES) expected.delete(`${wheel.distInfo}/${installer}`);
  let compared = 0;
  for (const [path, want] of expected) {
    const absolute = join(sitePackages, ...path.split('/'));
    const stats = lstatIfAny(absolute);
    if (!stats) problems.push(`${path}: missing`);
    else if (stats.isSymbolicLink()) problems.push(`${path}: a link, not a file`);
    else if (!stats.isFile()) problems.push(`${path}: not a regular file`);
    else {
      try {
        if (!readFileCapped(absolute, MAX_INSTALLED_FILE, 'installed file', { noFollow: true }).equals(want)) problems.push(`${path}: differs from the verified wheel`);
        else compared++;
      } catch (error) {
        problems.push(`${path}: cannot be read (${(error as Error).message})`);
      }
    }
  }
  // the folders holding the wheel's own files (a namespace folder such as mcs/ holds other wheels' files too, and is not walked)
  const folders = new Set<string>([wheel.distInfo]);
  for (const path of expected.keys()) if (path.includes('/') && !path.startsWith(`${wheel.distInfo}/`)) folders.add(path.slice(0, path.lastIndexOf('/')));
  const roots = [...folders].filter((folder) => ![...folders].some((other) => other !== folder && folder.startsWith(`${other}/`)));
  let bytecode = 0;
  let walked = 0;
  const walk = (relative: string): void => {
    let entries;
    try {
      entries = readdirSync(join(sitePackages, ...relative.split('/')), { withFileTypes: true });
    } catch (error) {
      problems.push(`${relative}: cannot be listed (${(error as Error).message})`);
      return;
    }
    for (const entry of entries) {
      if (++walked > MAX_WALKED) {
        problems.push(`${relative}: more files than any wheel installs`);
        return;
      }
      const path = `${relative}/${entry.name}`;
      if (entry.isDirectory() && !entry.isSymbolicLink()) {
        walk(path);
        continue;
      }
      if (expected.has(path) || ownedByOther(path)) continue;
      if (relative === wheel.distInfo && INSTALLER_FILES.includes(entry.name)) continue;
      if (entry.isFile() && (relative === '__pycache__' || relative.endsWith('/__pycache__')) && entry.name.endsWith('.pyc')) {
        bytecode++;
        continue;
      }
      problems.push(`${path}: not in the verified wheel`);
    }
  };
  for (const root of roots) if (lstatIfAny(join(sitePackages, ...root.split('/')))?.isDirectory()) walk(root);
  return { problems, compared, bytecode };
}

export type InstalledPythonStatus = 'verified' | 'failed' | 'unpinned' | 'not-in-index';

export interface InstalledPythonVerdict {
  package: string;
  version: string;
  distInfo: string;
  status: InstalledPythonStatus;
  /** The wheel compared with, when one was. */
  wheel?: string;
  /** What was found, in one sentence. */
  message: string;
  /** The coded failure, when it failed. */
  code?: string;
  problems?: string[];
  compared?: number;
  bytecode?: number;
}

export interface InstalledPythonReport {
  sitePackages: SitePackages;
  counts: Record<InstalledPythonStatus | 'error', number>;
  results: Array<InstalledPythonVerdict | { requested: string; error: McsError }>;
  /** The startup files at the site-packages root (.pth, sitecustomize, usercustomize): any not-verified one fails the check. */
  startup: StartupFile[];
}

export interface InstalledPythonOptions {
  /** The index whose pins say which wheel each version is. */
  index?: OpenIndexOptions;
  /** Offline: a folder holding the pinned wheel files (checked against the pins). Otherwise they are downloaded. */
  distDir?: string;
  /** The PyPI index to download from (default: pip's configuration). */
  pypi?: PypiClientOptions;
  /** Names of startup files at the site-packages root (.pth, sitecustomize.py, usercustomize.py) accepted as they are (`--allow-pth NAME`). */
  allowStartup?: string[];
}

/** The wheel's bytes: from --dist-dir, or the PyPI index, checked against the pin either way. */
async function wheelBytes(file: DistributionFile, sha256: string, name: string, options: InstalledPythonOptions, client: () => PypiClient): Promise<Buffer> {
  if (options.distDir !== undefined) {
    const path = join(options.distDir, file.filename);
    const bytes = readFileCapped(path, file.size ?? MAX_INSTALLED_FILE, 'wheel', { noFollow: true, tooLargeCode: 'E_SIZE_MISMATCH' });
    const found = createHash('sha256').update(bytes).digest('hex');
    if (found !== sha256) throw new McsError('E_INTEGRITY_MISMATCH', `${path}: expected the pinned sha256 ${sha256}, got ${found}`, { details: { file: path, expected: sha256, found } });
    return bytes;
  }
  const project = await client().project(name);
  const canonical = parseDistFilename(file.filename).canonical;
  const served = project.files.find((f) => {
    try {
      return parseDistFilename(f.filename).canonical === canonical;
    } catch {
      return false;
    }
  });
  if (!served) throw new McsError('E_VERSION_NOT_FOUND', `${name}: the PyPI index at ${client().index.indexUrl} does not serve ${file.filename}; give --dist-dir with the wheel`, { details: { filename: file.filename } });
  return client().download(served, { sha256, ...(file.size !== undefined ? { size: file.size } : {}) });
}

/** A distribution's pinned wheel, checked: or the verdict that ends its check early (not in the index, unpinned, not the pinned wheel). */
async function prepareOne(dist: InstalledDistribution, entry: IndexEntry | undefined, options: InstalledPythonOptions, client: () => PypiClient): Promise<InstalledPythonVerdict | { file: DistributionFile; checked: WheelContents }> {
  const base = { package: dist.name, version: dist.version, distInfo: dist.distInfo };
  if (!entry) return { ...base, status: 'not-in-index', message: `pypi:${dist.name}@${dist.version} is not in the index: nothing pins it, so it is not compared` };
  const file = pinnedWheel(versionRecord(entry, dist.version)?.files ?? [], dist.distInfo);
  const sha256 = file ? pinnedSha256(file) : undefined;
  if (!file || !sha256) return { ...base, status: 'unpinned', message: `the index pins no wheel (by sha256) for pypi:${dist.name}@${dist.version}, so the installed files cannot be compared` };
  try {
    return { file, checked: await checkWheel(await wheelBytes(file, sha256, dist.name, options, client), file.filename) };
  } catch (error) {
    if (!isMcsError(error)) throw error;
    if (!['E_INTEGRITY_MISMATCH', 'E_SIZE_MISMATCH'].includes(error.code) && !error.code.startsWith('E_WHEEL_')) throw error;
    return { ...base, status: 'failed', wheel: file.filename, code: error.code, message: error.message };
  }
}

function compareOne(dist: InstalledDistribution, file: DistributionFile, checked: WheelContents, site: SitePackages, ownedByOther: (path: string) => boolean): InstalledPythonVerdict {
  const base = { package: dist.name, version: dist.version, distInfo: dist.distInfo };
  const comparison = compareInstalled(checked, site.path, ownedByOther);
  const pyc = comparison.bytecode > 0 ? `; ${comparison.bytecode} bytecode file(s) in __pycache__ not compared` : '';
  if (comparison.problems.length > 0) {
    const shown = comparison.problems.slice(0, 5).join('; ') + (comparison.problems.length > 5 ? ` (and ${comparison.problems.length - 5} more)` : '');
    return { ...base, status: 'failed', wheel: file.filename, code: 'E_INSTALLED_MISMATCH', message: `pypi:${dist.name}@${dist.version}: the installed files are not the verified wheel's: ${shown}`, problems: comparison.problems, compared: comparison.compared, bytecode: comparison.bytecode };
  }
  return { ...base, status: 'verified', wheel: file.filename, message: `pypi:${dist.name}@${dist.version}: the ${comparison.compared} installed files are the verified wheel's${pyc}`, compared: comparison.compared, bytecode: comparison.bytecode };
}

/** The paths below site-packages a checked wheel installs. */
function installPaths(checked: WheelContents): string[] {
  return checked.wheel.files.flatMap((file) => (file.installPath === null ? [] : [file.installPath]));
}

/**
 * Whether a name at the site-packages root is run or imported by Python's
 * site module at every start without -S: a `.pth` file (its `import` lines
 * run), and the sitecustomize and usercustomize modules (a .py file, a
 * package folder, bytecode or an extension module).
 */
export function isStartupFile(name: string): boolean {
  return name.toLowerCase().endsWith('.pth') || /^(site|user)customize(\.|$)/i.test(name);
}

export interface StartupFile {
  /** Its name at the site-packages root. */
  name: string;
  path: string;
  /** sha256 (hex) of a regular file's bytes; absent for a folder, a link or an unreadable file. */
  sha256?: string;
  /** installed: a verified MCS distribution's wheel installs it (its bytes compared); allowed: named with --allow-pth; not-verified: neither. */
  status: 'installed' | 'allowed' | 'not-verified';
  /** The verified distribution that installs it. */
  by?: string;
}

/** The startup files at the site-packages root, each vouched for by a verified MCS distribution, allowed by name, or not verified. */
function startupFiles(sitePackages: string, installedBy: Map<string, string>, allowed: readonly string[]): StartupFile[] {
  return readdirSync(sitePackages).filter(isStartupFile).sort().map((name) => {
    const path = join(sitePackages, name);
    let sha256: string | undefined;
    try {
      if (lstatIfAny(path)?.isFile()) sha256 = createHash('sha256').update(readFileCapped(path, MAX_INSTALLED_FILE, 'startup file', { noFollow: true })).digest('hex');
    } catch {
      sha256 = undefined;
    }
    const by = installedBy.get(name);
    const status = by !== undefined ? 'installed' : allowed.includes(name) ? 'allowed' : 'not-verified';
    return { name, path, ...(sha256 !== undefined ? { sha256 } : {}), status, ...(by !== undefined ? { by } : {}) };
  });
}

/** Verifies every MCS distribution of a Python environment (a venv, a site-packages folder or an interpreter) against its pinned wheel. */
export async function verifyInstalledPython(target: string | undefined, options: InstalledPythonOptions = {}): Promise<InstalledPythonReport> {
  const site = locateSitePackages(target);
  const { distributions, unreadable } = listDistributions(site.path);
  const index = await openIndex(options.index ?? {});
  const chosen: Array<{ dist: InstalledDistribution; entry: IndexEntry | undefined }> = [];
  try {
    for (const dist of distributions) {
      let entry: IndexEntry | undefined;
      try {
        entry = index.getPackage(`pypi:${dist.name}`).entry;
      } catch (error) {
        if (!isMcsError(error, 'E_NOT_FOUND')) throw error;
      }
      if (entry || dist.name.startsWith('mcs-')) chosen.push({ dist, entry });
    }
  } finally {
    index.close();
  }
  let pypi: PypiClient | undefined;
  const client = (): PypiClient => (pypi ??= new PypiClient(options.pypi));
  // a compared distribution's slot is filled by the comparison rounds below
  const results: Array<InstalledPythonReport['results'][number] | undefined> = [];
  const pending: Array<{ at: number; dist: InstalledDistribution; file: DistributionFile; checked: WheelContents }> = [];
  for (const { dist, entry } of chosen) {
    try {
      const prepared = await prepareOne(dist, entry, options, client);
      if ('checked' in prepared) pending.push({ at: results.length, dist, ...prepared });
      results.push('checked' in prepared ? undefined : prepared);
    } catch (error) {
      if (!isMcsError(error)) throw error;
      results.push({ requested: `pypi:${dist.name}@${dist.version}`, error });
    }
  }
  // an extra file in a distribution's folders is excused only when another distribution that itself verifies installs it
  // (two wheels may share a folder): start from every compared one and drop those that fail until none does
  let standing = pending;
  const ownedBy = new Map<string, string>();
  for (;;) {
    ownedBy.clear();
    for (const item of standing) for (const path of installPaths(item.checked)) ownedBy.set(path, item.dist.distInfo);
    const verdicts = standing.map((item) => compareOne(item.dist, item.file, item.checked, site, (path) => (ownedBy.get(path) ?? item.dist.distInfo) !== item.dist.distInfo));
    for (const [n, item] of standing.entries()) results[item.at] = verdicts[n];
    const next = standing.filter((_, n) => verdicts[n]!.status === 'verified');
    if (next.length === standing.length) break;
    standing = next;
  }
  // the failed ones, told what the verified ones do not vouch for
  for (const item of pending) if (!standing.includes(item)) results[item.at] = compareOne(item.dist, item.file, item.checked, site, (path) => (ownedBy.get(path) ?? item.dist.distInfo) !== item.dist.distInfo);
  const installedBy = new Map([...ownedBy].filter(([path]) => !path.includes('/')).map(([path, distInfo]) => [path, basename(distInfo)]));
  const startup = startupFiles(site.path, installedBy, options.allowStartup ?? []);
  for (const u of unreadable) results.push({ requested: u.path, error: u.error });
  const done = results.filter((result) => result !== undefined);
  const counts = { verified: 0, failed: 0, unpinned: 0, 'not-in-index': 0, error: 0 };
  for (const result of done) counts['error' in result ? 'error' : result.status]++;
  return { sitePackages: site, counts, results: done, startup };
}
