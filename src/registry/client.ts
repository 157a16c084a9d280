/**
 * The npm registry as mcs-pkg uses it: packuments, the registry's signing
 * keys, attestation documents and tarball bytes. Wire data becomes domain
 * data in toPackument(), which trusts nothing about its shape.
 */
import { McsError } from '../errors.js';
import { parseJsonStrict } from '../manifest/json.js';
import { parseRegistryKeys, type RegistryKey } from '../trust/roots.js';
import { authHeaders, registryFor, resolveRegistryConfig, type RegistryConfig, type RegistryConfigOptions } from './config.js';
import { assertSameOrigin, getBytes, type RequestLimits } from './http.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_MAX_PACKUMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_TARBALL_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

export interface RegistryClientOptions extends RegistryConfigOptions {
  /** Deadline for one request, in ms. Default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Retries after a 5xx answer or a dropped connection. Default DEFAULT_RETRIES. */
  retries?: number;
  maxPackumentBytes?: number;
  maxTarballBytes?: number;
  signal?: AbortSignal;
}

export interface VersionDist {
  tarball: string;
  integrity: string;
  signatures: unknown;
  /** Where the registry serves this version's attestations, when it has any. */
  attestationsUrl?: string;
}

export interface PackumentVersion {
  version: string;
  dist: VersionDist;
  deprecated?: string;
}

export interface SearchResult {
  name: string;
  version: string;
  description?: string;
}

export interface Packument {
  name: string;
  distTags: Record<string, string>;
  versions: Record<string, PackumentVersion>;
  /** Publish time per version. */
  time: Record<string, Date>;
}

const MAX_VERSIONS = 100_000;

/** Turns a packument as served into domain data, refusing one that is not for `name` or is not shaped like a packument. */
export function toPackument(value: unknown, name: string, source: string): Packument {
  const bad = (why: string) => new McsError('E_REGISTRY_MALFORMED', `${source}: not a usable packument for ${name}: ${why}`, { details: { source, name } });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not a JSON object');
  const doc = value as Record<string, unknown>;
  if (doc.name !== name) throw bad(`it is for ${JSON.stringify(doc.name ?? null)}`);
  const rawVersions = doc.versions;
  if (typeof rawVersions !== 'object' || rawVersions === null || Array.isArray(rawVersions)) throw bad('no versions');
  const entries = Object.entries(rawVersions as Record<string, unknown>);
  if (entries.length > MAX_VERSIONS) throw bad(`more than ${MAX_VERSIONS} versions`);
  // null-prototype maps: a version or tag named "constructor" or "__proto__" is just a key
  const versions: Record<string, PackumentVersion> = Object.create(null) as Record<string, PackumentVersion>;
  for (const [version, raw] of entries) {
    const manifest = raw as { version?: unknown; deprecated?: unknown; dist?: Record<string, unknown> } | null;
    const dist = manifest?.dist;
    if (!dist || typeof dist.tarball !== 'string' || typeof dist.integrity !== 'string' || manifest.version !== version) continue;
    const attestations = dist.attestations as { url?: unknown } | undefined;
    versions[version] = {
      version,
      dist: {
        tarball: dist.tarball,
        integrity: dist.integrity,
        signatures: dist.signatures,
        ...(typeof attestations?.url === 'string' ? { attestationsUrl: attestations.url } : {}),
      },
      ...(typeof manifest.deprecated === 'string' ? { deprecated: manifest.deprecated } : {}),
    };
  }
  const distTags: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [tag, version] of Object.entries((doc['dist-tags'] as Record<string, unknown> | undefined) ?? {})) if (typeof version === 'string') distTags[tag] = version;
  const time: Record<string, Date> = Object.create(null) as Record<string, Date>;
  for (const [version, when] of Object.entries((doc.time as Record<string, unknown> | undefined) ?? {})) {
    const date = typeof when === 'string' ? new Date(when) : undefined;
    if (date && !Number.isNaN(date.getTime())) time[version] = date;
  }
  return { name, distTags, versions, time };
}

/** The packument path of a name: a scope's slash is escaped (/@scope%2fname), as npm requests it. */
export function packumentPath(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}

export class RegistryClient {
  readonly config: RegistryConfig;
  private readonly limits: RequestLimits;
  private readonly maxPackumentBytes: number;
  private readonly maxTarballBytes: number;
  private readonly signal: AbortSignal | undefined;

  constructor(options: RegistryClientOptions = {}) {
    this.config = resolveRegistryConfig(options);
    this.limits = { maxBytes: DEFAULT_MAX_DOCUMENT_BYTES, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, retries: options.retries ?? DEFAULT_RETRIES };
    this.maxPackumentBytes = options.maxPackumentBytes ?? DEFAULT_MAX_PACKUMENT_BYTES;
    this.maxTarballBytes = options.maxTarballBytes ?? DEFAULT_MAX_TARBALL_BYTES;
    this.signal = options.signal;
  }

  private async get(url: string, maxBytes: number, accept: string, allowNotFound: boolean, pinnedBytes?: number): Promise<Buffer | null> {
    return getBytes(url, {
      ...this.limits,
      maxBytes,
      ...(pinnedBytes !== undefined ? { pinnedBytes } : {}),
      headers: { accept, 'user-agent': 'mcs-pkg', ...authHeaders(this.config, url) },
      allowNotFound,
      ...(this.signal ? { signal: this.signal } : {}),
    });
  }

  private async json(url: string, maxBytes: number, allowNotFound: boolean): Promise<unknown> {
    const body = await this.get(url, maxBytes, 'application/json', allowNotFound);
    if (body === null) return undefined;
    try {
      return parseJsonStrict(body, { source: url, maxBytes, maxDepth: 64 });
    } catch (cause) {
      throw new McsError('E_REGISTRY_MALFORMED', `${url}: the registry answered with unusable JSON: ${(cause as Error).message}`, { cause, details: { url } });
    }
  }

  /** The full packument (with publish times, which registry key validity needs). */
  async packument(name: string): Promise<Packument> {
    const url = new URL(packumentPath(name), registryFor(this.config, name)).href;
    const doc = await this.json(url, this.maxPackumentBytes, true);
    if (doc === undefined) throw new McsError('E_VERSION_NOT_FOUND', `${name} is not on the registry ${registryFor(this.config, name)}`, { details: { name, url } });
    return toPackument(doc, name, url);
  }

  /** One page of the registry's search (/-/v1/search): name, latest version, description; malformed results are dropped. */
  async search(text: string, from: number, size: number): Promise<{ total: number; results: SearchResult[] }> {
    const url = new URL(`-/v1/search?${new URLSearchParams({ text, from: String(from), size: String(size) })}`, this.config.registry).href;
    const doc = (await this.json(url, DEFAULT_MAX_DOCUMENT_BYTES, false)) as { objects?: unknown; total?: unknown } | null;
    if (!doc || typeof doc !== 'object' || !Array.isArray(doc.objects)) throw new McsError('E_REGISTRY_MALFORMED', `${url}: a search answer has an objects list`, { details: { url } });
    const results = doc.objects.flatMap((object: unknown): SearchResult[] => {
      const pkg = (object as { package?: Record<string, unknown> } | null)?.package;
      if (!pkg || typeof pkg.name !== 'string' || typeof pkg.version !== 'string') return [];
      return [{ name: pkg.name, version: pkg.version, ...(typeof pkg.description === 'string' ? { description: pkg.description } : {}) }];
    });
    return { total: typeof doc.total === 'number' && Number.isFinite(doc.total) ? doc.total : results.length, results };
  }

  /** The registry's signing keys (/-/npm/v1/keys); an empty list when the registry publishes none. */
  async keys(registry = this.config.registry): Promise<RegistryKey[]> {
    const url = new URL('-/npm/v1/keys', registry).href;
    const doc = await this.json(url, DEFAULT_MAX_DOCUMENT_BYTES, true);
    if (doc === undefined) return [];
    try {
      return parseRegistryKeys(doc, url);
    } catch (cause) {
      throw new McsError('E_REGISTRY_MALFORMED', `${url}: ${(cause as Error).message}`, { cause, details: { url } });
    }
  }

  /** The attestations document at the URL the packument gives, which must be on the package's registry. */
  async attestations(name: string, url: string): Promise<unknown> {
    const checked = assertSameOrigin(url, registryFor(this.config, name), `${name}: attestations`);
    return this.json(checked.href, DEFAULT_MAX_DOCUMENT_BYTES, true);
  }

  /**
   * Tarball bytes from the URL the packument gives, which must be on the
   * package's registry; integrity is the verifier's job. With the size the
   * index pins, nothing past it is read (E_SIZE_MISMATCH).
   */
  async tarball(name: string, dist: VersionDist, pinnedSize?: number): Promise<Buffer> {
    const checked = assertSameOrigin(dist.tarball, registryFor(this.config, name), `${name}: tarball`);
    return (await this.get(checked.href, this.maxTarballBytes, 'application/octet-stream', false, pinnedSize))!;
  }
}
