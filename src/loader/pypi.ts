/**
 * The wheels of a PyPI driver, verified and unpacked for the Python host:
 * the driver's pure wheel and one pure wheel of every dependency its version
 * records in its lock (markers evaluated for the interpreter that runs it,
 * whose Python must meet each wheel's Requires-Python). Each is
 * fetched from the PyPI index (pip's configuration, or the caller's), checked
 * against its sha256 pin and, where the index expects one, its PEP 740
 * attestation (the driver's against its pinned publisher), checked as a whole
 * wheel (RECORD, paths, links) before anything is written, then unpacked
 * read-only into a content-addressed folder of the cache (unpackWheel). A
 * warm load fetches nothing and re-hashes every unpacked file against the
 * manifest written when it was verified (verifyWheelEntry) before the folder
 * is used. An sdist is never built.
 */
import { existsSync } from 'node:fs';
import { McsError, isMcsError } from '../errors.js';
import type { DistributionFile, IndexEntry } from '../manifest/types.js';
import { PypiClient, type PypiClientOptions } from '../pypi/client.js';
import { isPureWheel } from '../pypi/filenames.js';
import { evaluateMarker } from '../pypi/pep508.js';
import { versionSatisfies } from '../pypi/pep440.js';
import { NO_REGISTRY_KEYS, checkDist } from '../pypi/verify.js';
import { unpackWheel, verifyWheelEntry, type CheckedWheel } from '../pypi/wheel.js';
import { wheelEntryPath, type CacheEntry } from './cache.js';
import { provenanceEvidence, verifyDistribution, type AttestationEvidence, type DistributionTrust, type DistributionVerdict } from '../trust/pep740.js';
import { createTrustMaterial, resolveTrustedRoot, tufDefaults, type TufOptions } from '../trust/sigstore.js';
import { findPython, startPythonHost, type PythonInterpreter } from '../host/python.js';
import { declaredFor } from '../manifest/declarations.js';
import type { IndexFreshness } from '../snapshot/installed.js';
import type { LoadOptions, LoadedDriver } from './load.js';

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
  // the first pure wheel: the one the index read and checked, and the one `pins --format requirements` offers pip
  const wheel = pinned.find((file) => isPureWheel(file.filename));
  if (!wheel) {
    const kinds = pinned.map((file) => file.filename).join(', ') || 'none';
    throw new McsError('E_LOAD_REFUSED', `${what}: the index pins no pure-Python wheel (py3-none-any) to run (pinned: ${kinds}); an sdist is never built, because building runs the package's code; load a version whose wheel the index pins, or have the index's maintainers pin one (mcs-pkg index sync pypi:NAME)`, { details: { package: what, pinned: pinned.map((f) => f.filename) } });
  }
  return wheel;
}

function sha256Hex(integrity: string, what: string): string {
  if (!integrity.startsWith('sha256-')) throw new McsError('E_INTEGRITY_MISMATCH', `${what}: the index pins ${integrity}, not a sha256`, { details: { package: what } });
  return Buffer.from(integrity.slice('sha256-'.length), 'base64').toString('hex');
}

/** The failures of a verdict, as the error that refuses the load. */
function refuse(verdict: DistributionVerdict, what: string): McsError {
  const failures = verdict.results.filter((r) => r.status === 'fail').map((r) => ({ check: r.check, code: r.code, message: r.message }));
  return new McsError('E_LOAD_REFUSED', `${what} failed verification, so it is not loaded: ${failures.map((f) => `${f.code} (${f.message})`).join('; ')}`, { details: { package: what, failures } });
}

/**
 * The last look before code runs: the cached entry of a pinned wheel, every
 * unpacked file re-hashed and derived again from the kept wheel
 * (verifyWheelEntry). An entry an earlier mcs-pkg wrote (no kept wheel) is
 * fetched and verified again when online (undefined), refused offline.
 */
async function warmEntry(cacheRoot: string, sha256: string, offline: boolean): Promise<(CacheEntry & { wheel: CheckedWheel }) | undefined> {
  try {
    return await verifyWheelEntry(cacheRoot, sha256);
  } catch (error) {
    if (offline || !isMcsError(error, 'E_CACHE_TAMPERED') || error.details.olderFormat === undefined) throw error;
    return undefined;
  }
}

/**
 * The driver's wheel and its locked dependencies' wheels, verified and
 * unpacked; warm ones re-hashed. The driver's folder comes first.
 */
/**
 * Refuses a wheel whose Requires-Python (as the index pins it, or as its
 * verified METADATA says) the interpreter that will run it does not meet.
 */
function checkRequiresPython(specifier: string | undefined, interpreter: Pick<PythonInterpreter, 'executable' | 'markers'>, filename: string, where: string): void {
  if (specifier === undefined) return;
  const python = interpreter.markers.python_full_version;
  // a pre-release interpreter is judged by its version alone, as pip does
  if (versionSatisfies(python, specifier, { prereleases: true })) return;
  throw new McsError('E_PYTHON_VERSION', `${filename} requires Python ${specifier} (${where}), but ${interpreter.executable} is Python ${python}; run the driver with an interpreter that meets ${specifier} (the python option or MCS_PKG_PYTHON)`, {
    details: { file: filename, requiresPython: specifier, python, executable: interpreter.executable },
  });
}

export async function preparePypiWheels(entry: IndexEntry, version: string, cacheRoot: string, interpreter: Pick<PythonInterpreter, 'executable' | 'markers'>, options: PypiFetchOptions): Promise<PreparedWheel[]> {
  const spec = `pypi:${entry.name}@${version}`;
  const record = entry.versions[version]!;
  const driverWheel = pureWheel(record.files, spec);
  if (!record.lock) {
    throw new McsError('E_LOCK_MISSING', `${spec}: the index records no dependency lock for this version, so the wheels it runs with are not known; the index maintainers sync it (mcs-pkg index sync pypi:${entry.name})`, { details: { package: entry.name, version } });
  }
  // markers are evaluated for the machine and interpreter the driver will run on
  const environment = { ...interpreter.markers, extra: '' };
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
    const pin = { sha256, ...(want.file.size !== undefined ? { size: want.file.size } : {}) };
    const expectsProvenance = want.driver ? Boolean(entry.trust?.publisher ?? want.file.provenance ?? record.provenance) : want.file.provenance === true;
    checkRequiresPython(want.file.requiresPython, interpreter, want.file.filename, 'as the index pins it');
    const cached = existsSync(wheelEntryPath(cacheRoot, sha256)) ? await warmEntry(cacheRoot, sha256, options.offline === true) : undefined;
    if (cached) {
      checkRequiresPython(cached.wheel.metadata.requiresPython, interpreter, want.file.filename, 'its METADATA says');
      prepared.push({ name: want.name, version: want.version, filename: want.file.filename, sha256, path: cached.packageDir, warm: true, attested: expectsProvenance });
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
    const unpacked = await unpackWheel(bytes, want.file.filename, cacheRoot, { sha256 });
    checkRequiresPython(unpacked.metadata.requiresPython, interpreter, want.file.filename, 'its METADATA says');
    prepared.push({ name: want.name, version: want.version, filename: want.file.filename, sha256, path: unpacked.entry.packageDir, warm: false, attested: attestations.length > 0 });
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
  const wheels = await preparePypiWheels(entry, version, cacheRoot, interpreter, {
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
