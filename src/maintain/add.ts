/**
 * `index add`: a package from the registry into index-data, never running
 * any of its code. Every chosen version is fetched and verified as `verify`
 * does (registry signature, integrity, provenance when present); the static
 * MCS metadata (the drivers it declares) is read from each version's own
 * tarball and kept for that version; every version is pinned by integrity
 * and size; the publisher identity is taken on first use
 * from the provenance the versions carry, and must be one identity. The
 * draft is shown to a confirm callback before anything is written.
 */
import semver from 'semver';
import { existsSync, rmdirSync } from 'node:fs';
import { makeDirs } from '../files.js';
import { McsError, wholeNumber } from '../errors.js';
import { parseJsonStrict } from '../manifest/json.js';
import { declare } from '../manifest/declarations.js';
import { contractDeclarations } from '../manifest/driver-meta.js';
import { parsePackageName } from '../manifest/names.js';
import type { Declaration, DeclaredDriver, IndexEntry, RepositoryPublisher, VersionRecord } from '../manifest/types.js';
import { assertIndexEntry } from '../manifest/validate.js';
import { invisibleProseWarnings } from '../manifest/text.js';
import { RegistryClient, type Packument, type RegistryClientOptions } from '../registry/client.js';
import { planTarball } from '../loader/extract.js';
import type { ObservedIdentity } from '../trust/identity.js';
import type { TufOptions } from '../trust/sigstore.js';
import type { PypiClientOptions } from '../pypi/client.js';
import { GITLAB_ISSUER } from '../pypi/verify.js';
import type { Verdict } from '../trust/verifier.js';
import { parseRequest } from '../verify.js';
import { authorName, recordNewEntry, type ChangeAuthor } from './edit.js';
import type { LogRecord } from './log.js';

export const DEFAULT_MAX_VERSIONS = 100;

export interface AddOptions {
  registry?: RegistryClientOptions;
  trustedRoot?: string;
  registryKeys?: string;
  tuf?: Partial<TufOptions>;
  /** At most this many versions (the newest) are pinned. Default DEFAULT_MAX_VERSIONS. */
  maxVersions?: number;
  /** PyPI (pypi:NAME): the package index (default: pip's configuration, as `verify pypi:` reads it). */
  pypi?: PypiClientOptions;
  /** PyPI: most projects a version's dependency lock may hold (default DEFAULT_MAX_LOCK_DEPENDENCIES). */
  maxDependencies?: number;
  /** Sees the draft before it is written; false stops with nothing written. */
  confirm?: (draft: IndexEntry, warnings: string[]) => boolean | Promise<boolean>;
}

export interface AddResult {
  entry: IndexEntry;
  written: boolean;
  records: LogRecord[];
  /** Things a reviewer should weigh before writing: names a letter or two away from a Verified or Reference package (a typosquat?). */
  warnings: string[];
}

/** Verified and Reference packages whose names are a small edit away from `name`: a newcomer that close to a trusted name deserves a second look. */
async function lookalikes(indexDir: string, name: string): Promise<string[]> {
  const { openIndex } = await import('../index/store.js');
  let index: Awaited<ReturnType<typeof openIndex>>;
  try {
    index = await openIndex({ indexDir });
  } catch (error) {
    if (!(error instanceof McsError)) throw error;
    return [`the index could not be searched for look-alike names (${error.code}: ${error.message}); check the name by hand`];
  }
  try {
    return index
      .closeNames(name)
      .map((close) => index.search(close, {}, { limit: 5 }).results.find((hit) => hit.name === close))
      .filter((hit) => hit !== undefined && hit.label !== 'community')
      .map((hit) => `${name} is a small edit away from ${hit!.label} package ${hit!.ecosystem}:${hit!.name}: make sure it is not an imitation`);
  } finally {
    index.close();
  }
}

/** The static MCS metadata of a tarball: the `mcs` field of package.json, else package/mcs-driver.json. Nothing is executed. */
export function staticMetadata(tarball: Uint8Array, spec: string): { packageJson: Record<string, unknown>; drivers: DeclaredDriver[] } {
  // the files npm would install, read the way the loader unpacks them (a refused archive refuses here too)
  const files = planTarball(tarball, {}, spec).files;
  const file = (path: string) => files.find((f) => f.relativePath === path)?.data;
  const manifestBytes = file('package.json')!;
  const packageJson = parseJsonStrict(manifestBytes, { source: `${spec}: package.json` }) as Record<string, unknown>;
  const sidecar = file('mcs-driver.json');
  const mcs = packageJson.mcs ?? (sidecar ? parseJsonStrict(sidecar, { source: `${spec}: mcs-driver.json` }) : undefined);
  return { packageJson, drivers: declaredDrivers(mcs, spec, 'an "mcs" field in package.json or an mcs-driver.json file declaring drivers') };
}

/** The drivers a package's static MCS metadata (`{ "drivers": [...] }`, the same shape on npm and PyPI) declares, as the contract names them; E_MCS_METADATA when there are none. */
export function declaredDrivers(mcs: unknown, spec: string, expected: string): DeclaredDriver[] {
  const drivers = typeof mcs === 'object' && mcs !== null ? (mcs as { drivers?: unknown }).drivers : undefined;
  if (!Array.isArray(drivers) || drivers.length === 0) throw new McsError('E_MCS_METADATA', `${spec}: no static MCS metadata (${expected})`, { details: { spec } });
  return contractDeclarations(drivers as DeclaredDriver[], spec);
}

/** The one publisher identity the versions with provenance share, as a pin; refuses versions built by different publishers. */
export function publisherOnFirstUse(observed: Array<{ version: string; identity: ObservedIdentity }>, name: string): RepositoryPublisher | undefined {
  const complete = observed.filter((o) => o.identity.issuer && o.identity.repository && o.identity.workflow);
  if (complete.length === 0) return undefined;
  const key = (i: ObservedIdentity) => `${i.issuer} ${i.repository} ${i.workflow}`;
  const distinct = [...new Set(complete.map((o) => key(o.identity)))];
  if (distinct.length > 1 || complete.length !== observed.length) {
    const identities = observed.map((o) => ({ version: o.version, issuer: o.identity.issuer, repository: o.identity.repository, workflow: o.identity.workflow }));
    throw new McsError('E_IDENTITY_CHANGED', `${name}: its versions were built by different publishers (${identities.map((i) => `${i.version}: ${i.repository ?? '?'} ${i.workflow ?? '?'}`).join('; ')}); pin one by hand after review`, { details: { identities } });
  }
  const first = complete[0]!.identity;
  const refs = complete.map((o) => o.identity.ref ?? '');
  const ref = refs.every((r) => r.startsWith('refs/tags/')) ? 'refs/tags/*' : undefined;
  return { ...kindOf(first), issuer: first.issuer!, repository: first.repository!, workflow: first.workflow!, ...(ref ? { ref } : {}) };
}

/** A GitLab publisher says so (its pins carry kind gitlab); GitHub is the default and stays unsaid. */
export function kindOf(observed: ObservedIdentity): { kind?: 'gitlab' } {
  return observed.issuer === GITLAB_ISSUER ? { kind: 'gitlab' } : {};
}

/** The packument's semver versions that `keep` accepts, newest first, at most `max` (default DEFAULT_MAX_VERSIONS). */
export function newestVersions(packument: Packument, keep: (version: string) => boolean, max = DEFAULT_MAX_VERSIONS): string[] {
  wholeNumber(max, 'max-versions', 1, 10_000);
  return Object.keys(packument.versions)
    .filter((v) => semver.valid(v) && keep(v))
    .sort(semver.rcompare)
    .slice(0, max);
}

/** The index pin of a verified version: the verified integrity, the size of the verified bytes, provenance, publish time. */
export function pinOf(verdict: Verdict, bytes: Buffer, packument: Packument): VersionRecord {
  const published = packument.time[verdict.version];
  return { integrity: verdict.integrity, size: bytes.length, provenance: hasProvenance(verdict), ...(published ? { published: published.toISOString() } : {}) };
}

/** Whether a version's provenance bundle verified (the verdict's status also reflects policy rules). */
export function hasProvenance(verdict: Verdict): boolean {
  return verdict.results.some((r) => r.check === 'provenance' && r.status === 'pass');
}

/**
 * The check `setLabel` runs on versions: each verified from the registry now
 * (PyPI: from the simple and integrity APIs, src/maintain/pypi.ts) against the index's pins; the failure codes per version ([] = verified).
 */
export function registryCheck(indexDir: string, options: Pick<AddOptions, 'registry' | 'trustedRoot' | 'registryKeys' | 'tuf' | 'pypi'> = {}): (name: string, versions: string[], ecosystem?: 'npm' | 'pypi') => Promise<Map<string, string[]>> {
  return async (name, versions, ecosystem = 'npm') => {
    if (ecosystem === 'pypi') return (await import('./pypi.js')).pypiCheck(indexDir, options)(name, versions);
    const { verifyFromRegistry } = await import('../verify.js');
    const results = await verifyFromRegistry(versions.map((v) => `${name}@${v}`), { ...trustOptions(options), index: { indexDir } });
    return new Map(
      results.map((r, i): [string, string[]] => {
        if ('error' in r) return [versions[i]!, [r.error.code]];
        if (r.status === 'verified') return [versions[i]!, []];
        const codes = r.results.filter((x) => x.status === 'fail').map((x) => String(x.code ?? 'failed'));
        return [versions[i]!, codes.length > 0 ? codes : [r.status]];
      }),
    );
  };
}

export function trustOptions(options: Pick<AddOptions, 'registry' | 'trustedRoot' | 'registryKeys' | 'tuf'>) {
  return {
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.trustedRoot ? { trustedRoot: options.trustedRoot } : {}),
    ...(options.registryKeys ? { registryKeys: options.registryKeys } : {}),
    ...(options.tuf ? { tuf: options.tuf } : {}),
  };
}

/** Reads, verifies and pins a package from the registry (pypi:NAME: from PyPI, src/maintain/pypi.ts), then (after `confirm`) writes its entry and logs it. */
export async function addFromRegistry(indexDir: string, request: string, author: ChangeAuthor, options: AddOptions = {}): Promise<AddResult> {
  // the first package of a new index: the folder exists while the package is checked, and is gone again if nothing was written
  const created = !existsSync(indexDir);
  if (created) makeDirs(indexDir, 'index folder');
  try {
    if (request.startsWith('pypi:')) return await (await import('./pypi.js')).addFromPypi(indexDir, request, author, options);
    return await addUnchecked(indexDir, request, author, options);
  } finally {
    if (created) rmEmptyDir(indexDir);
  }
}

function rmEmptyDir(dir: string): void {
  try {
    rmdirSync(dir); // only when empty
  } catch {
    // it holds the new entry, or something else: keep it
  }
}

async function addUnchecked(indexDir: string, request: string, author: ChangeAuthor, options: AddOptions): Promise<AddResult> {
  const { name, range } = parseRequest(request);
  const parsed = parsePackageName(name, 'npm');
  const packument = await new RegistryClient(options.registry ?? {}).packument(name);
  const versions = newestVersions(packument, (v) => !range || semver.satisfies(v, range), options.maxVersions);
  if (versions.length === 0) throw new McsError('E_NOT_FOUND', `${request}: the registry has no version to add`, { details: { request } });

  const tarballs = new Map<string, Buffer>();
  const { verifyFromRegistry } = await import('../verify.js');
  const verdicts = await verifyFromRegistry(versions.map((v) => `${name}@${v}`), { ...trustOptions(options), index: { indexDir }, tarballs });
  const records: Record<string, VersionRecord> = {};
  const observed: Array<{ version: string; identity: ObservedIdentity }> = [];
  const refused: Array<{ version: string; codes: string[] }> = [];
  verdicts.forEach((verdict, i) => {
    const version = versions[i]!;
    if ('error' in verdict) return refused.push({ version, codes: [verdict.error.code] });
    if (verdict.status === 'failed') return refused.push({ version, codes: verdict.results.filter((r) => r.status === 'fail').map((r) => String(r.code)) });
    const identity = verdict.results.find((r) => r.check === 'identity')?.evidence.observed as ObservedIdentity | undefined;
    if (identity) observed.push({ version, identity });
    records[version] = pinOf(verdict, tarballs.get(`${name}@${version}`)!, packument);
    return undefined;
  });
  if (refused.length > 0) {
    throw new McsError('E_ADD_REFUSED', `${name}: ${refused.map((r) => `${r.version} (${r.codes.join(', ')})`).join('; ')} failed verification; nothing was written`, { details: { failures: refused } });
  }

  const newest = versions[0]!;
  // each version declares its own drivers; the newest also gives the description and license
  const read = versions.map((version) => staticMetadata(tarballs.get(`${name}@${version}`)!, `${name}@${version}`));
  const packageJson = read[0]!.packageJson;
  const declarations = read.reduce<Declaration[]>((all, { drivers }, i) => declare(all, versions[i]!, drivers), []);
  const publisher = publisherOnFirstUse(observed, name);
  const entry: IndexEntry = {
    name,
    ecosystem: 'npm',
    class: parsed.class,
    description: typeof packageJson.description === 'string' && packageJson.description.trim() ? packageJson.description.trim() : name,
    ...(typeof packageJson.license === 'string' ? { license: packageJson.license } : {}),
    declarations,
    label: draftLabel(indexDir, author),
    ...(publisher ? { trust: { repository: publisher.repository, publisher } } : {}),
    versions: records,
  };
  return writeDraft(indexDir, entry, `${name}@${newest}`, author, options);
}

/** The label a new entry joins with: Community, by the author of the change. */
export function draftLabel(indexDir: string, author: ChangeAuthor): IndexEntry['label'] {
  return { value: 'community', by: authorName(indexDir, author) || 'unknown', at: (author.now ?? new Date()).toISOString(), reason: author.why };
}

/** A drafted entry (any ecosystem): checked against the schema, shown with its warnings to `confirm`, then written and logged. */
export async function writeDraft(indexDir: string, entry: IndexEntry, newest: string, author: ChangeAuthor, options: Pick<AddOptions, 'confirm'>): Promise<AddResult> {
  try {
    assertIndexEntry(entry, `${newest} (draft from the registry)`);
  } catch (cause) {
    throw new McsError('E_MCS_METADATA', `${newest}: the entry made from its metadata breaks the index schema: ${(cause as Error).message}`, { cause, details: { spec: newest } });
  }
  const warnings = [...(await lookalikes(indexDir, entry.name)), ...invisibleProseWarnings(entry, newest).map((warning) => `${warning.code} ${warning.message}`)];
  if (options.confirm && !(await options.confirm(entry, warnings))) return { entry, written: false, records: [], warnings };
  return { entry, written: true, records: recordNewEntry(indexDir, entry, author), warnings };
}
