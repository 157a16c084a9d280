/**
 * The gated loader: a client asks for a driver by name or capability and
 * gets an instance, and no byte that failed verification is ever imported.
 *
 *   resolve (index + policy) -> bytes (cache, re-hashed against the pin; or
 *   registry, fully verified) -> unpack the verified bytes -> re-hash the
 *   entry -> entry point inside the package, ESM only -> module hooks hold
 *   every import to the verified files -> config against the package's
 *   schema -> import(file URL) -> construct -> contract check -> meta, as
 *   plain data, agrees with what the index records this version declares
 */
import { closeSync, fsyncSync, openSync, realpathSync, renameSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, sep } from 'node:path';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import ssri from 'ssri';
import { defaultDriverCacheDir } from '../config.js';
import { canonical, type MCSDriver, type MCSToolDriver } from '../contract/index.js';
import { McsError, isMcsError, type McsErrorCode } from '../errors.js';
import { makeDirs, readFileCapped, removeDeadLeftovers } from '../files.js';
import type { IndexFreshness } from '../snapshot/installed.js';
import { openIndex, type OpenIndexOptions } from '../index/store.js';
import { parseJsonStrict } from '../manifest/json.js';
import { declaredFor } from '../manifest/declarations.js';
import { comparableMeta, contractMeta } from '../manifest/driver-meta.js';
import { assertMatchesSchema } from '../manifest/validate.js';
import type { DeclaredDriver, IndexEntry, TrustPolicy } from '../manifest/types.js';
import type { RegistryClientOptions } from '../registry/client.js';
import { resolvePolicy, type ResolvedPolicy } from '../trust/policy.js';
import type { TufOptions } from '../trust/sigstore.js';
import type { Verdict } from '../trust/verifier.js';
import { assertCacheLocation, keptTarballPath, sha512Hex, verifyCacheEntry, type CacheEntry } from './cache.js';
import { extractToCache } from './extract.js';
import { instantiate } from './instantiate.js';
import { startHost, type HostEvent, type HostOptions, type HostReceipt } from '../host/proxy.js';
import type { PythonHostOptions } from '../host/python.js';
import type { PypiClientOptions } from '../pypi/client.js';
import type { PreparedWheel } from './pypi.js';
import type { GateData } from './gate-hooks.js';
import { resolveDriver, type DriverQuery, type Resolution } from './resolve.js';

export type LoadPhase = 'resolve' | 'fetch' | 'verify' | 'extract' | 'import' | 'ready' | HostEvent['phase'];

/** One step of a load, or (isolation 'process') of the host's life: spawn, ready, each call, exit. */
export interface LoadEvent extends Omit<Partial<HostEvent>, 'phase' | 'package' | 'version'> {
  phase: LoadPhase;
  package?: string;
  version?: string;
  /** True when the bytes came from the cache (no registry call). */
  warm?: boolean;
}

export interface LoadOptions extends HostOptions, PythonHostOptions {
  /** The PyPI index a PyPI driver's wheels come from (default: pip's configuration, else pypi.org). */
  pypi?: PypiClientOptions;
  /**
   * 'process' (the default): the driver runs in a confined child process and
   * the caller gets a proxy (see docs/host-protocol.md). 'none': the driver is
   * imported into this process and runs with its full power; the import gate
   * holds its imports to the verified files, nothing more.
   */
  isolation?: 'process' | 'none';
  /** Plain data given to the driver's constructor or factory. */
  config?: Record<string, unknown>;
  /** What to accept (default: Verified and Reference, provenance required for npm). */
  policy?: TrustPolicy;
  /** Registry access for a cold load. */
  registry?: RegistryClientOptions;
  /** The index to resolve in (default: the embedded one). */
  index?: OpenIndexOptions;
  /** Driver cache root; it may not lie under node_modules. Default <cache>/loader. */
  cacheDir?: string;
  /** Never use the network: only drivers verified and cached before can load. */
  offline?: boolean;
  /** Trust roots for a cold load (defaults as for `mcs-pkg verify`). */
  trustedRoot?: string;
  registryKeys?: string;
  tuf?: Partial<TufOptions>;
  /** The MCS contract version the host implements (for the contract rule). */
  contractVersion?: string;
  /** Packages the host provides that a driver may declare without bundling them. */
  hostPackages?: string[];
  /** Cancels the load between steps and aborts its network requests. */
  signal?: AbortSignal;
  /** Load even from an installed index whose snapshot has expired (default false: E_INDEX_EXPIRED; run `mcs-pkg update` instead). */
  allowExpiredIndex?: boolean;
  onEvent?: (event: LoadEvent) => void;
}

export interface LoadReceipt {
  package: string;
  version: string;
  integrity: string;
  /** The verification verdict of a cold load; null for a warm load (the bytes were re-hashed against the pin instead). */
  verdict: Verdict | null;
  /** True when nothing was fetched. */
  warm: boolean;
  cachePath: string;
  /** The declared driver that was instantiated. */
  driver: { kind: DeclaredDriver['kind']; id: string; name: string };
  /** The index it was resolved in: its snapshot and whether that had expired (only possible with allowExpiredIndex). */
  index: IndexFreshness;
  /** How the driver runs: in a host process, with every confinement layer applied or missing and why; or in this process. */
  host: HostReceipt | { isolation: 'none'; detail: string };
  /** A PyPI driver: the interpreter, and every wheel on its sys.path (the driver's first), each verified or re-hashed. */
  python?: { interpreter: string; version: string; wheels: PreparedWheel[] };
}

export interface LoadedDriver {
  driver: MCSDriver | MCSToolDriver;
  receipt: LoadReceipt;
  /** Ends the host process (isolation 'process'); nothing to do in process. */
  close(): Promise<void>;
}

interface Prepared {
  entry: CacheEntry;
  /** The package.json of the verified package. */
  manifest: Record<string, unknown>;
  /** The entry point, checked to lie inside the package. */
  file: string;
  verdict: Verdict | null;
  warm: boolean;
}

/** Loads in flight, by cache root and integrity: concurrent loads of one driver share one fetch, verification and import. */
const inflight = new Map<string, Promise<Prepared>>();
/** Cap on a package.json read from a verified package. */
const MAX_MANIFEST_BYTES = 1024 * 1024;
/** Cap on a kept tarball when the index records no size. */
const MAX_CACHED_TARBALL = 64 * 1024 * 1024;

/** Keeps the verified tarball, so that a later load can re-derive and re-check the cache entry with no network. */
function keepTarball(cacheRoot: string, integrity: string, bytes: Buffer): void {
  const file = keptTarballPath(cacheRoot, integrity);
  makeDirs(dirname(file), 'driver cache folder', { code: 'E_CACHE_IO', mode: 0o700 });
  removeDeadLeftovers(dirname(file), [/\.tgz\.(\d+)\.[0-9a-f]{8}$/]);
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const fd = openSync(temp, 'wx', 0o444);
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
}

/**
 * The cached tarball, if it is there and is exactly the pinned bytes; anything
 * else is ignored (and refetched). Opened without following links and without
 * blocking (a FIFO planted there cannot hang the load), and read only when it
 * is a regular file no larger than the pinned size.
 */
function cachedTarball(cacheRoot: string, integrity: string, maxBytes: number): Buffer | undefined {
  try {
    const bytes = readFileCapped(keptTarballPath(cacheRoot, integrity), maxBytes, 'cached tarball', { noFollow: true });
    return ssri.checkData(bytes, integrity) ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** The verified bytes of a version: from the cache when they match the pin, else fetched and verified in full. */
async function verifiedBytes(entry: IndexEntry, version: string, integrity: string, cacheRoot: string, options: LoadOptions, policy: ResolvedPolicy): Promise<{ bytes: Buffer; verdict: Verdict | null; warm: boolean }> {
  const cached = cachedTarball(cacheRoot, integrity, entry.versions[version]?.size ?? MAX_CACHED_TARBALL);
  if (cached) return { bytes: cached, verdict: null, warm: true };
  if (options.offline) {
    throw new McsError('E_OFFLINE_NOT_CACHED', `${entry.name}@${version} has not been verified and cached on this machine; load it once online`, { details: { package: entry.name, version } });
  }
  options.onEvent?.({ phase: 'fetch', package: entry.name, version, warm: false });
  const tarballs = new Map<string, Buffer>();
  // the verification stack (sigstore, the registry client) is loaded only when bytes must be fetched
  const { verifyFromRegistry } = await import('../verify.js');
  const [result] = await verifyFromRegistry([`${entry.name}@${version}`], {
    ...(options.registry || options.signal ? { registry: { ...options.registry, ...(options.signal ? { signal: options.signal } : {}) } } : {}),
    ...(options.trustedRoot ? { trustedRoot: options.trustedRoot } : {}),
    ...(options.registryKeys ? { registryKeys: options.registryKeys } : {}),
    ...(options.tuf ? { tuf: options.tuf } : {}),
    ...(options.index ? { index: options.index } : {}),
    policy,
    tarballs,
    concurrency: 1,
  });
  options.onEvent?.({ phase: 'verify', package: entry.name, version });
  if (!result || 'error' in result) throw result?.error ?? new McsError('E_LOAD_REFUSED', `${entry.name}@${version}: nothing was verified`);
  if (result.status === 'failed') {
    const failures = result.results.filter((r) => r.status === 'fail').map((r) => ({ check: r.check, code: r.code, message: r.message }));
    throw new McsError('E_LOAD_REFUSED', `${entry.name}@${version} failed verification, so it is not loaded: ${failures.map((f) => `${f.code} (${f.message})`).join('; ')}`, {
      details: { package: entry.name, version, failures },
    });
  }
  const bytes = tarballs.get(`${entry.name}@${version}`)!;
  keepTarball(cacheRoot, integrity, bytes);
  return { bytes, verdict: result, warm: false };
}

/** The package's ES module entry point, resolved inside the package folder (links followed and checked). */
function entryPoint(packageDir: string, manifest: Record<string, unknown>, spec: string): string {
  const exportsField = manifest.exports;
  let target: unknown = manifest.main ?? 'index.js';
  if (typeof exportsField === 'string') target = exportsField;
  else if (exportsField && typeof exportsField === 'object') {
    const root = (exportsField as Record<string, unknown>)['.'] ?? exportsField;
    target = typeof root === 'string' ? root : (root as Record<string, unknown>).import ?? (root as Record<string, unknown>).default;
  }
  if (typeof target !== 'string' || target === '') throw new McsError('E_DRIVER_ENTRY', `${spec}: package.json names no entry point`, { details: { spec } });
  const real = realpathSync(packageDir);
  let file: string;
  try {
    file = realpathSync(join(packageDir, target));
  } catch (cause) {
    throw new McsError('E_DRIVER_ENTRY', `${spec}: the entry point ${target} does not exist in the package`, { cause, details: { spec, target } });
  }
  if (!file.startsWith(real + sep) || !statSync(file).isFile()) {
    throw new McsError('E_DRIVER_ENTRY', `${spec}: the entry point ${target} resolves outside the package (${file})`, { details: { spec, target, resolved: file } });
  }
  const esm = manifest.type === 'module' ? !file.endsWith('.cjs') : file.endsWith('.mjs');
  if (!esm) throw new McsError('E_DRIVER_COMMONJS', `${spec}: ${target} is a CommonJS module; the loader imports ES modules only ("type": "module" or .mjs)`, { details: { spec, target } });
  return file;
}

/** A driver may depend only on what it bundles or on packages the host provides. */
function checkDependencies(packageDir: string, manifest: Record<string, unknown>, spec: string, hostPackages: readonly string[]): void {
  const declared = { ...(manifest.dependencies as Record<string, string> | undefined), ...(manifest.peerDependencies as Record<string, string> | undefined) };
  // npm allows `true` for "bundle every dependency"
  const bundleField = manifest.bundleDependencies ?? manifest.bundledDependencies;
  const bundled = new Set(bundleField === true ? Object.keys(declared) : Array.isArray(bundleField) ? bundleField.filter((n): n is string => typeof n === 'string') : []);
  for (const name of Object.keys(declared)) {
    if (hostPackages.includes(name)) continue;
    let present = false;
    try {
      present = bundled.has(name) && statSync(join(packageDir, 'node_modules', name, 'package.json')).isFile();
    } catch {
      present = false;
    }
    if (!present) {
      throw new McsError('E_DRIVER_DEPENDENCY', `${spec}: needs ${name}, which it does not bundle and the host does not provide; drivers are never installed with npm install`, { details: { spec, dependency: name } });
    }
  }
}

const gated = new Set<string>();

/**
 * Registers the module hooks that hold every import from this entry to its
 * verified files (see gate-hooks.ts); once per entry and process.
 */
function gateEntry(checked: CacheEntry, manifest: Record<string, unknown>, spec: string, hostPackages: readonly string[]): void {
  const packageURL = pathToFileURL(realpathSync(checked.packageDir) + sep).href;
  if (gated.has(packageURL)) return;
  const data: GateData = {
    packageURL,
    spec,
    files: Object.fromEntries(checked.files.map((f) => [f.path, f.sha512])),
    jsIsModule: manifest.type === 'module',
    hostPackages: [...hostPackages],
    // host packages resolve the way the host's own imports do: from the main script, else the working folder
    hostParentURL: pathToFileURL(process.argv[1] ?? join(process.cwd(), 'host.js')).href,
  };
  register(new URL('./gate-hooks.js', import.meta.url), { data });
  gated.add(packageURL);
}

/** Fetches or finds, verifies, unpacks and gates once per integrity and trust settings; the rest of a concurrent burst waits for it. */
function prepare(entry: IndexEntry, version: string, integrity: string, cacheRoot: string, options: LoadOptions, policy: ResolvedPolicy): Promise<Prepared> {
  // callers share the work only when it would come out the same for each: same trust settings, and no signal of their own
  const settings = canonical({ policy, trustedRoot: options.trustedRoot ?? null, registryKeys: options.registryKeys ?? null, registry: options.registry?.registry ?? null, offline: !!options.offline, hostPackages: [...(options.hostPackages ?? [])].sort() });
  const key = `${cacheRoot}\u0000${integrity}\u0000${settings}${options.signal ? `\u0000${randomBytes(8).toString('hex')}` : ''}`;
  let pending = inflight.get(key);
  if (!pending) {
    pending = (async (): Promise<Prepared> => {
      const spec = `${entry.name}@${version}`;
      const { bytes, verdict, warm } = await verifiedBytes(entry, version, integrity, cacheRoot, options, policy);
      options.onEvent?.({ phase: 'extract', package: entry.name, version, warm });
      const extracted = await extractToCache(bytes, integrity, cacheRoot, { source: spec });
      // the last look before code runs: every file re-hashed against the manifest the verified tarball produces
      const checked = verifyCacheEntry(extracted.path, { integrity, manifestDigest: extracted.manifestDigest });
      const manifestBytes = readFileCapped(join(checked.packageDir, 'package.json'), MAX_MANIFEST_BYTES, `${spec}: package.json`, { code: 'E_CACHE_TAMPERED', noFollow: true });
      if (sha512Hex(manifestBytes) !== checked.files.find((f) => f.path === 'package.json')?.sha512) {
        throw new McsError('E_CACHE_TAMPERED', `${spec}: package.json changed on disk after verification`, { details: { spec } });
      }
      const manifest = parseJsonStrict(manifestBytes, { source: `${spec}: package.json` }) as Record<string, unknown>;
      checkDependencies(checked.packageDir, manifest, spec, options.hostPackages ?? []);
      const file = entryPoint(checked.packageDir, manifest, spec);
      return { entry: checked, manifest, file, verdict, warm };
    })();
    inflight.set(key, pending);
    pending.finally(() => inflight.delete(key)).catch(() => undefined);
  }
  return pending;
}

/** Imports the gated entry point; Node evaluates a module once per process, however many callers import it. */
async function importDriver(prepared: Prepared, spec: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(prepared.file).href)) as Record<string, unknown>;
  } catch (cause) {
    const message = (cause as Error)?.message ?? String(cause);
    const gated = /^(E_DRIVER_DEPENDENCY|E_CACHE_TAMPERED|E_DRIVER_COMMONJS|E_DRIVER_ENTRY): ([\s\S]*)$/.exec(message);
    if (gated) throw new McsError(gated[1] as 'E_DRIVER_DEPENDENCY', gated[2]!, { cause, details: { spec } });
    throw new McsError('E_DRIVER_IMPORT', `${spec}: importing ${prepared.file} failed: ${message}`, { cause, details: { spec } });
  }
}

/** Loads a driver by package name or capability; see the module comment for every step it takes before running code. */
export async function loadDriver(query: string | DriverQuery, options: LoadOptions = {}): Promise<LoadedDriver> {
  const aborted = () => {
    if (options.signal?.aborted) throw new McsError('E_ABORTED', `loading ${JSON.stringify(query)} was cancelled`, { cause: options.signal.reason });
  };
  aborted();
  const policy = resolvePolicy(options.policy);
  const cacheRoot = options.cacheDir ?? defaultDriverCacheDir();
  assertCacheLocation(cacheRoot);
  options.onEvent?.({ phase: 'resolve' });
  const index = await openIndex(options.index ?? {});
  const now = new Date();
  let freshness: IndexFreshness;
  let resolution: Resolution;
  try {
    freshness = index.freshness(now);
    resolution = resolveDriver(index, query, { policy, now, allowExpiredIndex: options.allowExpiredIndex ?? false, ...(options.contractVersion ? { contractVersion: options.contractVersion } : {}) });
  } finally {
    index.close();
  }
  const { chosen, rejected } = resolution;
  if (!chosen) {
    const pinnedQuery = resolution.query.version !== undefined ? rejected[0] : undefined;
    if (pinnedQuery) {
      // a client that pins a version is told why that version is refused, not that "no driver" matched
      throw new McsError(pinnedQuery.code as McsErrorCode, `${pinnedQuery.name}@${resolution.query.version} is not loadable: ${pinnedQuery.reason}`, { details: { query, rejected } });
    }
    const why = rejected.length > 0
      ? `; turned down: ${rejected.map((r) => `${r.name}${r.version ? '@' + r.version : ''} (${r.code})`).join(', ')}`
      : `: no ${resolution.query.ecosystem ?? 'npm or PyPI'} driver in the index matches it`;
    throw new McsError('E_DRIVER_NOT_FOUND', `no driver for ${JSON.stringify(query)} is acceptable${why}`, { details: { query, rejected } });
  }
  const { entry, version } = chosen;
  const spec = `${entry.name}@${version}`;
  if (entry.ecosystem === 'pypi') return (await import('./pypi.js')).loadPypiDriver(entry, version, freshness, cacheRoot, options);
  if (entry.ecosystem !== 'npm') {
    throw new McsError('E_DRIVER_ECOSYSTEM', `${entry.ecosystem}:${spec} is in the index and the policy accepts it, but the loader cannot load ${entry.ecosystem} drivers: it runs npm drivers (ES modules) and PyPI drivers (pure-Python wheels, in the Python host) only`, {
      details: { package: entry.name, ecosystem: entry.ecosystem, version },
    });
  }
  const record = entry.versions[version]!;
  if (!record.integrity) throw new McsError('E_LOAD_REFUSED', `${spec}: the index pins no tarball digest`, { details: { spec } });
  // the running driver is compared with what this version's own package declares, never with another version's
  const declared = declaredFor(entry, version)?.[0];
  if (!declared) {
    throw new McsError('E_DRIVER_META', `${spec}: the index records no driver declaration for this version, so its running driver cannot be checked; the index maintainers re-add or sync it (mcs-pkg index sync reads each version's declaration)`, { details: { spec } });
  }
  let prepared: Prepared;
  try {
    prepared = await prepare(entry, version, record.integrity, cacheRoot, options, policy);
  } catch (error) {
    aborted();
    if (isMcsError(error)) throw error;
    throw new McsError('E_INTERNAL', `${spec}: ${(error as Error).message}`, { cause: error });
  }
  aborted();
  // the config is checked against the verified package's schema before any of its code runs
  const config = options.config ?? {};
  const configSchema = (prepared.manifest.mcs as { configSchema?: unknown } | undefined)?.configSchema;
  if (configSchema !== undefined) assertMatchesSchema(configSchema, config, `${spec}: config`);
  const receiptBase = {
    package: entry.name,
    version,
    integrity: prepared.entry.integrity,
    verdict: prepared.verdict,
    warm: prepared.warm,
    cachePath: prepared.entry.packageDir,
    driver: { kind: declared.kind, id: declared.meta.id, name: declared.meta.name },
    index: freshness,
  };
  if ((options.isolation ?? 'process') === 'process') {
    const hosted = await startHost({
      spec,
      package: entry.name,
      version,
      permissions: entry.security?.permissions ?? [],
      init: { spec, entryDir: prepared.entry.path, integrity: prepared.entry.integrity, manifestDigest: prepared.entry.manifestDigest, file: prepared.file, declared, config },
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    }, options);
    return { driver: hosted.driver, receipt: { ...receiptBase, host: hosted.receipt }, close: hosted.close };
  }
  gateEntry(prepared.entry, prepared.manifest, spec, options.hostPackages ?? []);
  options.onEvent?.({ phase: 'import', package: entry.name, version, warm: prepared.warm });
  const module = await importDriver(prepared, spec);
  let driver: MCSDriver | MCSToolDriver;
  try {
    driver = instantiate(module, declared, config, spec);
  } catch (error) {
    if (isMcsError(error)) throw error;
    throw new McsError('E_DRIVER_SHAPE', `${spec}: the driver does not have the shape of an MCS driver: ${(error as Error)?.message ?? String(error)}`, { cause: error, details: { spec } });
  }
  options.onEvent?.({ phase: 'ready', package: entry.name, version, warm: prepared.warm });
  return {
    driver,
    receipt: { ...receiptBase, host: { isolation: 'none', detail: 'in process: the driver runs with the full power of this process; the import gate holds its imports to the verified files, and nothing confines what its code does' } },
    close: async () => undefined,
  };
}
