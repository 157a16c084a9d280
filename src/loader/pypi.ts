/**
 * The wheels of a PyPI driver, verified and unpacked for the Python host:
 * the driver's pure wheel and one pure wheel of every dependency its version
 * records in its lock (markers evaluated for the local interpreter). Each is
 * fetched from the PyPI index (pip's configuration, or the caller's), checked
 * against its sha256 pin and, where the index expects one, its PEP 740
 * attestation (the driver's against its pinned publisher), checked as a whole
 * wheel (RECORD, paths, links) before anything is written, then unpacked
 * read-only into a content-addressed folder of the cache. A warm load
 * re-hashes the kept wheel against its pin and every unpacked file against
 * the wheel's RECORD before the folder is used. An sdist is never built.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { McsError } from '../errors.js';
import { makeDirs, readFileCapped } from '../files.js';
import type { DistributionFile, IndexEntry } from '../manifest/types.js';
import { PypiClient, type PypiClientOptions } from '../pypi/client.js';
import { parseDistFilename } from '../pypi/filenames.js';
import { evaluateMarker, linuxCpythonEnvironment } from '../pypi/pep508.js';
import { checkDist } from '../pypi/verify.js';
import { checkWheel, type CheckedWheel } from '../pypi/wheel.js';
import { provenanceEvidence, verifyDistribution, type AttestationEvidence, type DistributionTrust, type DistributionVerdict } from '../trust/pep740.js';
import { createTrustMaterial, resolveTrustedRoot, tufDefaults, type TufOptions } from '../trust/sigstore.js';
import { NO_REGISTRY_KEYS } from '../pypi/verify.js';
import { findPython, startPythonHost } from '../host/python.js';
import { declaredFor } from '../manifest/declarations.js';
import type { IndexFreshness } from '../snapshot/installed.js';
import type { LoadOptions, LoadedDriver } from './load.js';

/** Cap on a kept wheel when the index records no size. */
const MAX_WHEEL_BYTES = 64 * 1024 * 1024;

export interface PypiFetchOptions {
  /** The PyPI index (default: pip's configuration, else pypi.org). */
  pypi?: PypiClientOptions;
  trustedRoot?: string;
  tuf?: Partial<TufOptions>;
  offline?: boolean;
  signal?: AbortSignal;
}

export interface PreparedWheel {
  name: string;
  version: string;
  filename: string;
  sha256: string;
  /** The unpacked folder (what goes on sys.path). */
  path: string;
  warm: boolean;
  /** Whether a PEP 740 attestation was verified for it. */
  attested: boolean;
}

/** The pure wheel among a version's pinned files: py3 (or py2.py3), no ABI, any platform; an sdist is never built. */
function pureWheel(files: readonly DistributionFile[] | undefined, what: string): DistributionFile {
  const pinned = files ?? [];
  const wheel = pinned.find((file) => {
    if (!file.filename.toLowerCase().endsWith('.whl')) return false;
    const tags = parseDistFilename(file.filename).tags.split('-');
    return tags[0]!.split('.').includes('py3') && tags[1] === 'none' && tags[2] === 'any';
  });
  if (!wheel) {
    const kinds = pinned.map((file) => file.filename).join(', ') || 'none';
    throw new McsError('E_LOAD_REFUSED', `${what}: the index pins no pure-Python wheel (py3-none-any) to run (pinned: ${kinds}); an sdist is never built, because building runs the package's code`, { details: { package: what, pinned: pinned.map((f) => f.filename) } });
  }
  return wheel;
}

function sha256Hex(integrity: string, what: string): string {
  if (!integrity.startsWith('sha256-')) throw new McsError('E_INTEGRITY_MISMATCH', `${what}: the index pins ${integrity}, not a sha256`, { details: { package: what } });
  return Buffer.from(integrity.slice('sha256-'.length), 'base64').toString('hex');
}

/** Every regular file under a folder, relative; anything else (a link, a device) is reported as such. */
function walk(root: string, dir = root, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const stat = lstatSync(full);
    if (stat.isDirectory()) walk(root, full, out);
    else out.push(stat.isFile() ? relative(root, full).split(sep).join('/') : `${relative(root, full)} (not a regular file)`);
  }
  return out;
}

/** The cached wheel's folder, re-hashed: the kept wheel against its pin, every unpacked file against its RECORD, nothing more. */
async function checkCached(dir: string, pin: { sha256: string; size?: number }, filename: string): Promise<void> {
  const tampered = (why: string) => new McsError('E_CACHE_TAMPERED', `${filename}: the cached copy in ${dir} ${why}; remove the folder (mcs-pkg cache clean) and load again`, { details: { filename, dir } });
  const bytes = readFileCapped(join(dir, 'dist.whl'), pin.size ?? MAX_WHEEL_BYTES, `${filename} (cached)`, { code: 'E_CACHE_TAMPERED', noFollow: true });
  if (createHash('sha256').update(bytes).digest('hex') !== pin.sha256) throw tampered('is not the pinned wheel');
  const { wheel } = await checkWheel(bytes, filename);
  const site = join(dir, 'site');
  const expected = new Map(wheel.files.filter((f) => f.installPath !== null).map((f) => [f.installPath!, f]));
  const found = walk(site);
  if (found.length !== expected.size || found.some((path) => !expected.has(path))) throw tampered(`holds other files than the wheel installs (${found.filter((p) => !expected.has(p)).slice(0, 3).join(', ') || 'some are missing'})`);
  for (const [path, file] of expected) {
    const data = readFileCapped(join(site, path), file.size, `${filename}: ${path}`, { code: 'E_CACHE_TAMPERED', noFollow: true });
    if (createHash('sha256').update(data).digest('hex') !== file.sha256) throw tampered(`has ${path} changed`);
  }
}

/** Unpacks a checked wheel read-only into dir/site (and keeps the wheel as dir/dist.whl): written in a temporary folder, then renamed into place. */
async function unpack(bytes: Buffer, filename: string, dir: string): Promise<CheckedWheel> {
  const { wheel, contents } = await checkWheel(bytes, filename);
  makeDirs(dirname(dir), 'driver cache folder', { code: 'E_CACHE_IO', mode: 0o700 });
  const temp = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const folders = new Set<string>([temp, join(temp, 'site')]);
  try {
    makeDirs(join(temp, 'site'), 'wheel folder', { code: 'E_CACHE_IO' });
    writeFileSync(join(temp, 'dist.whl'), bytes, { mode: 0o444, flag: 'wx' });
    for (const file of wheel.files) {
      if (file.installPath === null) continue;
      const target = join(temp, 'site', ...file.installPath.split('/'));
      for (let parent = dirname(target); !folders.has(parent); parent = dirname(parent)) folders.add(parent);
      makeDirs(dirname(target), 'wheel folder', { code: 'E_CACHE_IO' });
      writeFileSync(target, contents.get(file.path)!, { mode: 0o444, flag: 'wx' });
    }
    for (const folder of [...folders].sort((a, b) => b.length - a.length)) chmodSync(folder, 0o555);
    renameSync(temp, dir);
  } catch (error) {
    for (const folder of folders) if (existsSync(folder)) chmodSync(folder, 0o755);
    rmSync(temp, { recursive: true, force: true });
    if (existsSync(dir)) return wheel; // a concurrent load put the same verified bytes there first
    throw error;
  }
  return wheel;
}

/** The failures of a verdict, as the error that refuses the load. */
function refuse(verdict: DistributionVerdict, what: string): McsError {
  const failures = verdict.results.filter((r) => r.status === 'fail').map((r) => ({ check: r.check, code: r.code, message: r.message }));
  return new McsError('E_LOAD_REFUSED', `${what} failed verification, so it is not loaded: ${failures.map((f) => `${f.code} (${f.message})`).join('; ')}`, { details: { package: what, failures } });
}

/**
 * The driver's wheel and its locked dependencies' wheels, verified and
 * unpacked; warm ones re-hashed. The driver's folder comes first.
 */
export async function preparePypiWheels(entry: IndexEntry, version: string, cacheRoot: string, python: [number, number, number], options: PypiFetchOptions): Promise<PreparedWheel[]> {
  const spec = `pypi:${entry.name}@${version}`;
  const record = entry.versions[version]!;
  const driverWheel = pureWheel(record.files, spec);
  if (!record.lock) {
    throw new McsError('E_LOCK_MISSING', `${spec}: the index records no dependency lock for this version, so the wheels it runs with are not known; the index maintainers sync it (mcs-pkg index sync pypi:${entry.name})`, { details: { package: entry.name, version } });
  }
  const environment = linuxCpythonEnvironment(python.join('.'));
  const wanted = [
    { name: entry.name, version, file: driverWheel, driver: true },
    ...record.lock.dependencies
      .filter((dependency) => dependency.marker === undefined || evaluateMarker(dependency.marker, environment))
      .map((dependency) => ({ name: dependency.name, version: dependency.version, file: pureWheel(dependency.files, `${spec}: its dependency ${dependency.name} ${dependency.version}`), driver: false })),
  ];
  let client: PypiClient | undefined;
  let trustOnce: Promise<DistributionTrust> | undefined;
  const trust = (): Promise<DistributionTrust> =>
    (trustOnce ??= resolveTrustedRoot(options.trustedRoot, tufDefaults(options.tuf)).then((root) => ({ trustMaterial: createTrustMaterial(root.json), roots: { trustedRoot: root.source, registryKeys: NO_REGISTRY_KEYS } })));
  const noRoot: DistributionTrust = { roots: { trustedRoot: 'not needed (no attestations to verify)', registryKeys: NO_REGISTRY_KEYS } };

  const prepared: PreparedWheel[] = [];
  for (const want of wanted) {
    const sha256 = sha256Hex(want.file.integrity, want.file.filename);
    const dir = join(cacheRoot, 'pypi', sha256);
    const pin = { sha256, ...(want.file.size !== undefined ? { size: want.file.size } : {}) };
    const expectsProvenance = want.driver ? Boolean(entry.trust?.publisher ?? want.file.provenance ?? record.provenance) : want.file.provenance === true;
    if (existsSync(dir)) {
      await checkCached(dir, pin, want.file.filename);
      prepared.push({ name: want.name, version: want.version, filename: want.file.filename, sha256, path: join(dir, 'site'), warm: true, attested: expectsProvenance });
      continue;
    }
    if (options.offline) {
      throw new McsError('E_OFFLINE_NOT_CACHED', `${want.file.filename} (${spec}) has not been verified and cached on this machine; load it once online`, { details: { package: want.name, version: want.version } });
    }
    client ??= new PypiClient({ ...options.pypi, ...(options.signal ? { signal: options.signal } : {}) });
    const project = await client.project(want.name);
    const served = client.filesOf(project, want.version).find((file) => file.filename === want.file.filename);
    if (!served) {
      throw new McsError('E_LOAD_REFUSED', `${spec}: ${client.index.indexUrl} does not serve ${want.file.filename}, which the index pins`, { details: { package: want.name, version: want.version, filename: want.file.filename } });
    }
    const [bytes, provenance] = await Promise.all([
      client.download(served, pin),
      served.provenanceUrl || expectsProvenance ? client.provenance(want.name, want.version, served) : Promise.resolve(null),
    ]);
    let attestations: AttestationEvidence[] = [];
    if (provenance !== null) {
      const read = provenanceEvidence(provenance, client.provenanceUrlOf(want.name, want.version, served));
      if (!Array.isArray(read)) throw new McsError('E_LOAD_REFUSED', `${want.file.filename}: ${read.message}`, { details: { package: want.name, code: read.code } });
      attestations = read;
    }
    const verdictTrust = attestations.length ? await trust() : noRoot;
    const verdict = want.driver
      ? checkDist({ name: entry.name, version, filename: want.file.filename, bytes, attestations, entry, trust: verdictTrust })
      : verifyDistribution({ project: want.name, version: want.version, filename: want.file.filename, bytes, pinned: { integrity: want.file.integrity, ...(want.file.size !== undefined ? { size: want.file.size } : {}) }, attestations, provenanceExpected: expectsProvenance }, verdictTrust);
    if (verdict.status === 'failed') throw refuse(verdict, `${want.name} ${want.version} (${want.file.filename})`);
    await unpack(bytes, want.file.filename, dir);
    prepared.push({ name: want.name, version: want.version, filename: want.file.filename, sha256, path: join(dir, 'site'), warm: false, attested: attestations.length > 0 });
  }
  return prepared;
}

/**
 * Loads a resolved PyPI driver: its wheels verified and unpacked, then the
 * Python host started on exactly those folders, with the declared driver's
 * entry point (module:Class) and the caller's config. Python drivers run only
 * in the host: isolation 'none' is refused.
 */
export async function loadPypiDriver(entry: IndexEntry, version: string, freshness: IndexFreshness, cacheRoot: string, options: LoadOptions): Promise<LoadedDriver> {
  const spec = `pypi:${entry.name}@${version}`;
  if (options.isolation === 'none') {
    throw new McsError('E_DRIVER_ECOSYSTEM', `${spec}: a Python driver cannot run in this process; load it with isolation 'process' (the default), which runs it in the Python host`, { details: { package: entry.name, ecosystem: 'pypi', version } });
  }
  // an sdist-only release is refused first: nothing of it can ever run
  pureWheel(entry.versions[version]!.files, spec);
  const declared = declaredFor(entry, version)?.[0];
  if (!declared?.export) {
    throw new McsError('E_DRIVER_META', `${spec}: the index records no driver declaration with an entry point (module:Class) for this version, so it cannot be started or checked; the index maintainers re-add or sync it`, { details: { spec } });
  }
  const interpreter = findPython(options.python);
  options.onEvent?.({ phase: 'fetch', package: entry.name, version });
  const wheels = await preparePypiWheels(entry, version, cacheRoot, interpreter.version, {
    ...(options.pypi ? { pypi: options.pypi } : {}),
    ...(options.trustedRoot ? { trustedRoot: options.trustedRoot } : {}),
    ...(options.tuf ? { tuf: options.tuf } : {}),
    ...(options.offline ? { offline: true } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const warm = wheels.every((wheel) => wheel.warm);
  options.onEvent?.({ phase: 'verify', package: entry.name, version, warm });
  const hosted = await startPythonHost({
    spec,
    package: entry.name,
    version,
    permissions: entry.security?.permissions ?? [],
    paths: wheels.map((wheel) => wheel.path),
    declared,
    config: options.config ?? {},
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  }, { ...options, python: interpreter.command });
  const driverWheel = wheels[0]!;
  return {
    driver: hosted.driver,
    receipt: {
      package: entry.name,
      version,
      integrity: `sha256-${Buffer.from(driverWheel.sha256, 'hex').toString('base64')}`,
      verdict: null,
      warm,
      cachePath: driverWheel.path,
      driver: { kind: declared.kind, id: declared.meta.id, name: declared.meta.name },
      index: freshness,
      host: hosted.receipt,
      python: { interpreter: interpreter.executable, version: interpreter.version.join('.'), wheels },
    },
    close: () => hosted.close(),
  };
}
