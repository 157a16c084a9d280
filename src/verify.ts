/**
 * Verification of downloaded artifacts, with no network: the composing layer
 * that reads the files and the trust roots, takes the expected publisher and
 * the pins from the index, and hands everything to the pure verifier.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import maxSatisfying from 'semver/ranges/max-satisfying.js';
import validRange from 'semver/ranges/valid.js';
import { McsError, isMcsError, wholeNumber } from './errors.js';
import { readFileCapped } from './files.js';
import { openIndex, type OpenIndexOptions } from './index/store.js';
import { parseJsonStrict } from './manifest/json.js';
import { assertTrustPolicy } from './manifest/validate.js';
import { parsePackageName } from './manifest/names.js';
import { repositoryPublisher, type IndexEntry } from './manifest/types.js';
import { DEFAULT_MAX_PACKUMENT_BYTES, RegistryClient, toPackument, type Packument, type RegistryClientOptions } from './registry/client.js';
import { DEFAULT_REGISTRY, registryFor } from './registry/config.js';
import { normalizeRepository, type ExpectedIdentity } from './trust/identity.js';
import { SHIPPED_ROOTS, embeddedRegistryKeys, registryKeysFrom, trustedRootFrom, type RegistryKey } from './trust/roots.js';
import { verifyArtifact, type ArtifactVerdict } from './trust/artifact.js';
import { parseExpectedIntegrity } from './trust/integrity.js';
import { evaluatePolicy, resolvePolicy, type ResolvedPolicy } from './trust/policy.js';
import { fail, pass, type CheckResult } from './trust/result.js';
import { createTrustMaterial, npmRegistryKeysFromTuf, prepareTufCache, resolveTrustedRoot, tufDefaults, type TufOptions } from './trust/sigstore.js';
import { planTarball, type PlannedFile } from './loader/extract.js';
import { verifyPackage, type Verdict, type VerifyInput } from './trust/verifier.js';

export const DEFAULT_MAX_TARBALL_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_ATTESTATIONS_BYTES = 16 * 1024 * 1024;
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

export interface IdentityFlags {
  /** github.com/OWNER/REPO or its https URL. */
  sourceRepo?: string;
  /** Workflow path inside the repository, e.g. .github/workflows/release.yml. */
  workflow?: string;
  /** OIDC issuer; default GitHub Actions when a source repository is given. */
  issuer?: string;
  /** Exact ref, or a prefix ending in * (refs/tags/v*). */
  ref?: string;
  /** Require a GitHub-hosted runner (certificates before mid-2023 do not record the runner). */
  hostedRunner?: boolean;
}

/** Reads and checks a trust-policy file (schemas/trust-policy.v1.schema.json) and fills its defaults. */
export function loadPolicy(file: string): ResolvedPolicy {
  const value = parseJsonStrict(readFileCapped(file, 1024 * 1024, 'policy file'), { source: file });
  assertTrustPolicy(value, file);
  return resolvePolicy(value);
}

/** Adds one more check to a verdict; a failure makes it failed. */
function withResult<V extends Verdict>(verdict: V, result: CheckResult): V {
  return { ...verdict, results: [...verdict.results, result], status: result.status === 'fail' ? 'failed' : verdict.status };
}

/** The index's own facts about a version it lists: applied whether or not a policy file is given. */
const INDEX_RULES: ReadonlySet<string> = new Set(['quarantine', 'yanked', 'provenance-downgrade']);

/**
 * Adds the policy's rules to a verdict: a refusal makes it failed, with the
 * rule and its reason. Without a policy file, a package the index lists is
 * still held to what the index says of the version (yanked, not pinned,
 * provenance downgraded); the label rules need a policy.
 */
export function applyPolicy<V extends Verdict>(verdict: V, entry: IndexEntry | undefined, policy: ResolvedPolicy | undefined, now: Date): V {
  if (!policy) {
    if (!entry) return verdict;
    const indexFacts = evaluatePolicy({ name: verdict.package, version: verdict.version, entry, verdict, policy: resolvePolicy({ labels: ['verified', 'reference', 'community'], requireProvenance: { npm: false, pypi: false } }), now }).filter(
      (r) => r.status === 'fail' && INDEX_RULES.has(String(r.evidence.rule)),
    );
    return indexFacts.reduce((v, r) => withResult(v, r), verdict);
  }
  // the release age is judged by the verdict's publish time: the log's when it has one, not the registry's claim
  const publishedAt = verdict.publishedAt ? new Date(verdict.publishedAt) : undefined;
  const results = [...verdict.results, ...evaluatePolicy({ name: verdict.package, version: verdict.version, ecosystem: 'npm', ...(entry ? { entry } : {}), ...(publishedAt ? { publishedAt } : {}), verdict, policy, now })];
  return { ...verdict, results, status: results.some((r) => r.status === 'fail') ? 'failed' : verdict.status };
}

export interface VerifyTarballOptions extends IdentityFlags {
  /** Path of the package tarball. */
  tarball: string;
  /** Path of the registry's attestations JSON for the version; absent when the version has none. */
  attestations?: string;
  /** NAME@VERSION the tarball claims to be. */
  package: string;
  /** The integrity a lockfile records for the version (SRI, sha512): the tarball must match it. */
  integrity?: string;
  /** The registry's packument (JSON, as GET /NAME serves it): the version's dist.integrity, dist.signatures and publish time are checked as online. */
  packument?: string;
  /** A pinned Sigstore trusted_root.json, or SHIPPED_ROOTS; default the public-good root shipped with mcs-pkg. */
  trustedRoot?: string;
  /** A pinned registry keys file, or SHIPPED_ROOTS; default npm's keys shipped with mcs-pkg. */
  registryKeys?: string;
  /** The index to take pins and the expected publisher from (default: the embedded index). */
  index?: OpenIndexOptions;
  /** A trust-policy file; its rules are added to the verdict. */
  policy?: string;
}

export type IdentitySource = 'index' | 'command line' | 'none';

export interface TarballVerdict extends Verdict {
  /** Where the expected identity came from. */
  identitySource: IdentitySource;
  /** Whether the index lists this package and pins this version. */
  indexed: { package: boolean; version: boolean };
}

/** Splits NAME@VERSION, scoped names included. */
export function parsePackageSpec(spec: string): { name: string; version: string } {
  const at = spec.lastIndexOf('@');
  const name = spec.slice(0, at);
  const version = spec.slice(at + 1);
  if (at <= 0 || name === '' || version === '' || name.endsWith('/')) {
    throw new McsError('E_USAGE', `expected NAME@VERSION (for example mcs-driver-csv@1.2.0), got ${JSON.stringify(spec)}`, { details: { spec } });
  }
  return { name, version };
}


/** The identity the flags describe, or undefined when they name none. */
export function identityFromFlags(flags: IdentityFlags): ExpectedIdentity | undefined {
  if (!flags.sourceRepo) {
    if (flags.workflow || flags.issuer || flags.ref) {
      throw new McsError('E_USAGE', '--workflow, --issuer and --ref describe a publisher identity: give --source-repo with them', {});
    }
    return undefined;
  }
  return {
    issuer: flags.issuer ?? GITHUB_ACTIONS_ISSUER,
    repository: normalizeRepository(flags.sourceRepo),
    ...(flags.workflow ? { workflow: flags.workflow.replace(/^\/+/, '') } : {}),
    ...(flags.ref ? { ref: flags.ref } : {}),
    runner: flags.hostedRunner ? 'github-hosted' : 'any',
  };
}

/** The registry's evidence for one version, read from a saved packument: what verifyPackage would get online. */
export function registryEvidenceFromFile(file: string, name: string, version: string): NonNullable<VerifyInput['registry']> {
  const packument = toPackument(parseJsonStrict(readFileCapped(file, DEFAULT_MAX_PACKUMENT_BYTES, 'packument'), { source: file, maxBytes: DEFAULT_MAX_PACKUMENT_BYTES, maxDepth: 64 }), name, file);
  const record = Object.hasOwn(packument.versions, version) ? packument.versions[version] : undefined;
  if (!record) {
    throw new McsError('E_VERSION_NOT_FOUND', `${file}: the packument of ${name} has no usable version ${version} (expected versions["${version}"] with dist.integrity and dist.tarball)`, { details: { name, version, source: file } });
  }
  const publishedAt = packument.time[version];
  return { integrity: record.dist.integrity, signatures: record.dist.signatures, ...(publishedAt ? { publishedAt } : {}), attestationsListed: record.dist.attestationsUrl !== undefined };
}

/**
 * Verifies a downloaded tarball and its attestations offline. The expected
 * publisher comes from the command line when given, else from the index's
 * pinned publisher for the package; the version's pin and whether it must
 * have provenance come from the index. The expected integrity and the
 * registry's signature evidence come from the files given, so an offline
 * check can be as complete as an online one.
 */
export async function verifyTarball(options: VerifyTarballOptions): Promise<TarballVerdict> {
  const { name, version } = parsePackageSpec(options.package);
  const bytes = readFileCapped(options.tarball, DEFAULT_MAX_TARBALL_BYTES, 'tarball');
  const attestations = options.attestations
    ? parseJsonStrict(readFileCapped(options.attestations, DEFAULT_MAX_ATTESTATIONS_BYTES, 'attestations file'), { source: options.attestations, maxBytes: DEFAULT_MAX_ATTESTATIONS_BYTES, maxDepth: 64 })
    : undefined;

  let entry;
  const index = await openIndex(options.index ?? {});
  try {
    entry = index.getPackage(`npm:${name}`).entry;
  } catch (error) {
    if (!isMcsError(error, 'E_NOT_FOUND')) throw error;
  } finally {
    index.close();
  }
  const pinnedVersion = pinnedRecord(entry, version);
  const flagged = identityFromFlags(options);
  const publisher = repositoryPublisher(entry?.trust?.publisher);
  const expectedIdentity: ExpectedIdentity | undefined = flagged ?? (publisher ? { ...publisher } : undefined);

  const expectedIntegrity = options.integrity !== undefined ? parseExpectedIntegrity(options.integrity) : undefined;
  const registry = options.packument !== undefined ? registryEvidenceFromFile(options.packument, name, version) : undefined;
  const root = trustedRootFrom(options.trustedRoot ?? SHIPPED_ROOTS);
  const keys = registryKeysFrom(options.registryKeys ?? SHIPPED_ROOTS);
  const policy = options.policy ? loadPolicy(options.policy) : undefined;
  const verdict = verifyPackage(
    {
      name,
      version,
      bytes,
      ...(pinnedVersion?.integrity ? { pinned: { integrity: pinnedVersion.integrity, ...(pinnedVersion.size !== undefined ? { size: pinnedVersion.size } : {}) } } : {}),
      ...(expectedIntegrity ? { expectedIntegrity } : {}),
      ...(registry ? { registry } : {}),
      ...(attestations !== undefined ? { attestations, attestationsSource: options.attestations } : {}),
      provenanceExpected: pinnedVersion?.provenance ?? false,
      ...(expectedIdentity ? { expectedIdentity } : {}),
    },
    { trustMaterial: createTrustMaterial(root.json, keys.keys), registryKeys: keys.keys, roots: { trustedRoot: root.source, registryKeys: keys.source } },
  );
  return {
    ...applyPolicy(verdict, entry, policy, new Date()),
    identitySource: flagged ? 'command line' : expectedIdentity ? 'index' : 'none',
    indexed: { package: entry !== undefined, version: pinnedVersion !== undefined },
  };
}

export interface VerifyArtifactOptions {
  /** Path of the signed file (for a DSSE bundle: the attestation's subject). */
  artifact: string;
  /** Path of the Sigstore bundle. */
  bundle: string;
  /** The certificate's SAN to require, compared exactly. */
  certificateIdentity?: string;
  /** The certificate's OIDC issuer to require, compared exactly. */
  certificateOidcIssuer?: string;
  /** Path of a PEM public key, for a bundle signed with a key instead of a certificate. */
  key?: string;
  /** A pinned trusted_root.json, or SHIPPED_ROOTS; default the public-good root shipped with mcs-pkg. */
  trustedRoot?: string;
}

export interface FileArtifactVerdict extends ArtifactVerdict {
  artifact: string;
  trustedRoot: string;
}

/** Verifies a Sigstore bundle over any file (a release checksum file) offline; a PyPI file's PEP 740 attestations go through pypi/verify.ts. */
export function verifyArtifactFiles(options: VerifyArtifactOptions): FileArtifactVerdict {
  const hasIdentity = options.certificateIdentity !== undefined || options.certificateOidcIssuer !== undefined;
  if (hasIdentity === (options.key !== undefined) || (hasIdentity && (!options.certificateIdentity || !options.certificateOidcIssuer))) {
    throw new McsError('E_USAGE', 'give --certificate-identity URI and --certificate-oidc-issuer URL, or --key FILE for a keyed bundle', {});
  }
  const artifact = readFileCapped(options.artifact, DEFAULT_MAX_TARBALL_BYTES, 'artifact');
  const bundle = parseJsonStrict(readFileCapped(options.bundle, DEFAULT_MAX_ATTESTATIONS_BYTES, 'bundle'), { source: options.bundle, maxBytes: DEFAULT_MAX_ATTESTATIONS_BYTES, maxDepth: 64 });
  const root = trustedRootFrom(options.trustedRoot ?? SHIPPED_ROOTS);
  const verdict = verifyArtifact({
    artifact,
    bundle,
    trustedRoot: root.json,
    ...(options.key !== undefined
      ? { key: readFileCapped(options.key, 64 * 1024, 'public key').toString('utf8') }
      : { identity: { subjectAlternativeName: options.certificateIdentity!, issuer: options.certificateOidcIssuer! } }),
  });
  return { ...verdict, artifact: options.artifact, trustedRoot: root.source };
}

/** The index's record for a version, looked up as an own key only (index data is JSON from disk). */
export function pinnedRecord(entry: IndexEntry | undefined, version: string): IndexEntry['versions'][string] | undefined {
  return entry && Object.hasOwn(entry.versions, version) ? entry.versions[version] : undefined;
}

/** A package to verify from the registry: name, name@version, name@range or name@tag. */
export function parseRequest(spec: string): { name: string; range?: string } {
  const at = spec.lastIndexOf('@');
  if (at > 0) return { name: spec.slice(0, at), range: spec.slice(at + 1) };
  return { name: spec };
}

/**
 * Picks the version to verify. When the index lists the package, only
 * versions it pins (and has not yanked) are candidates, highest first;
 * otherwise the registry's versions, or its dist-tag.
 */
export function chooseVersion(name: string, range: string | undefined, packument: Packument, entry: IndexEntry | undefined): string {
  const available = Object.keys(packument.versions);
  const pinned = entry ? Object.entries(entry.versions).filter(([v, record]) => !record.yanked && Object.hasOwn(packument.versions, v)).map(([v]) => v) : undefined;
  const candidates = pinned ?? available;
  let chosen: string | null | undefined;
  if (range === undefined || range === '') {
    chosen = pinned ? maxSatisfying(pinned, '*') : packument.distTags.latest;
  } else if (packument.versions[range] || validRange(range) === null) {
    chosen = packument.versions[range] ? range : packument.distTags[range];
  } else {
    chosen = maxSatisfying(candidates, range);
  }
  if (!chosen || !packument.versions[chosen]) {
    const where = pinned ? ' among the versions the index pins' : '';
    throw new McsError('E_VERSION_NOT_FOUND', `${name}: no version matches ${JSON.stringify(range ?? 'latest')}${where}`, { details: { name, range: range ?? null, candidates: candidates.slice(-20) } });
  }
  return chosen;
}

/** Runs work(0..count-1) with at most `concurrency` at once: a small pool, where fetches overlap while each verification itself stays synchronous. */
export async function inPool(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, Math.max(1, count)) }, async () => {
    while (next < count) await work(next++);
  });
  await Promise.all(workers);
}

export interface VerifyRegistryOptions extends IdentityFlags {
  /** Registry access: URL (else npm's configuration), timeouts, retries. */
  registry?: RegistryClientOptions;
  /** A pinned trusted_root.json, or SHIPPED_ROOTS for the copy shipped with mcs-pkg (then npm's shipped keys too); default through TUF. */
  trustedRoot?: string;
  /** A pinned registry keys file, or SHIPPED_ROOTS for npm's keys shipped with mcs-pkg. */
  registryKeys?: string;
  index?: OpenIndexOptions;
  /** A trust-policy file, or a resolved policy; its rules are added to each verdict. */
  policy?: string | ResolvedPolicy;
  /** When given, the verified tarball bytes are kept here by name@version (the loader unpacks exactly what was verified). */
  tarballs?: Map<string, Buffer>;
  /** Where to get the trusted root when no --trusted-root is pinned (default: the public-good TUF repository). */
  tuf?: Partial<TufOptions>;
  /** Packages fetched and verified at once. Default DEFAULT_CONCURRENCY. */
  concurrency?: number;
  /** Called after each package, for progress on long runs. */
  onProgress?: (done: number, total: number, spec: string) => void;
}

export const DEFAULT_CONCURRENCY = 4;

export interface RegistryVerdict extends TarballVerdict {
  /** The spec asked for and the tarball URL verified. */
  requested: string;
  tarballUrl: string;
}

/**
 * Verifies packages as the registry serves them now: resolve, fetch bytes,
 * signatures and attestations, check against the index. Nothing to verify
 * touches no network (not even for the trust roots).
 */
export async function verifyFromRegistry(
  specs: string[],
  options: VerifyRegistryOptions = {},
  installedAt: ReadonlyArray<string | undefined> = [],
): Promise<Array<RegistryVerdict | { requested: string; error: McsError }>> {
  const concurrency = wholeNumber(options.concurrency ?? DEFAULT_CONCURRENCY, 'concurrency', 1, 64);
  if (specs.length === 0) return [];
  const client = new RegistryClient(options.registry ?? {});
  const tuf = tufDefaults(options.tuf);
  // the Sigstore root only verifies attestation bundles: a pinned one is read, but TUF is asked only when the first version that has some needs it
  // (without it no attestation can be checked at all, so its failure ends the whole run, as one of the roots does)
  let rootOnce: ReturnType<typeof resolveTrustedRoot> | undefined;
  let rootFailure: unknown;
  const trustedRoot = (): ReturnType<typeof resolveTrustedRoot> =>
    (rootOnce ??= resolveTrustedRoot(options.trustedRoot, tuf).catch((error: unknown) => {
      rootFailure = error;
      throw error;
    }));
  // what needs no network is checked before any fetch: a pinned root is read, the TUF cache folder made
  if (options.trustedRoot) await trustedRoot();
  else prepareTufCache(tuf);
  // keys per registry: pinned, else npm's (shipped with the shipped root, else through TUF) for the public registry, else the registry's own endpoint
  const keysByRegistry = new Map<string, Promise<{ keys: RegistryKey[]; source: string }>>();
  const keysFor = (name: string): Promise<{ keys: RegistryKey[]; source: string }> => {
    const registry = registryFor(client.config, name);
    let keys = keysByRegistry.get(registry);
    if (!keys) {
      keys = keysInput
        ? Promise.resolve(keysInput)
        : registry === DEFAULT_REGISTRY
          ? options.trustedRoot === SHIPPED_ROOTS
            ? Promise.resolve(embeddedRegistryKeys())
            : npmRegistryKeysFromTuf(tuf)
          : client.keys(registry).then((found) => ({ keys: found, source: `${registry}-/npm/v1/keys` }));
      keysByRegistry.set(registry, keys);
    }
    return keys;
  };
  const keysInput = options.registryKeys ? registryKeysFrom(options.registryKeys) : undefined;
  const index = await openIndex(options.index ?? {});
  const flagged = identityFromFlags(options);
  const policy = typeof options.policy === 'string' ? loadPolicy(options.policy) : options.policy;
  const now = new Date();
  const verifyOne = async (requested: string, installedDir: string | undefined): Promise<RegistryVerdict | { requested: string; error: McsError }> => {
    try {
      const { name, range } = parseRequest(requested);
      let entry: IndexEntry | undefined;
      try {
        entry = index.getPackage(`npm:${name}`).entry;
      } catch (error) {
        if (!isMcsError(error, 'E_NOT_FOUND')) throw error;
      }
      const packument = await client.packument(name);
      const version = chooseVersion(name, range, packument, entry);
      const dist = packument.versions[version]!.dist;
      const attestationsUrl = dist.attestationsUrl;
      const { keys, source: keysSource } = await keysFor(name);
      const pinnedVersion = pinnedRecord(entry, version);
      const [bytes, attestations] = await Promise.all([client.tarball(name, dist, pinnedVersion?.size), attestationsUrl ? client.attestations(name, attestationsUrl) : Promise.resolve(undefined)]);
      const root = attestations !== undefined || options.trustedRoot ? await trustedRoot() : undefined;
      const publisher = repositoryPublisher(entry?.trust?.publisher);
      const expectedIdentity = flagged ?? (publisher ? { ...publisher } : undefined);
      const publishedAt = packument.time[version];
      const verdict = verifyPackage(
        {
          name,
          version,
          bytes,
          ...(pinnedVersion?.integrity ? { pinned: { integrity: pinnedVersion.integrity, ...(pinnedVersion.size !== undefined ? { size: pinnedVersion.size } : {}) } } : {}),
          registry: { integrity: dist.integrity, signatures: dist.signatures, ...(publishedAt ? { publishedAt } : {}) },
          ...(attestations !== undefined ? { attestations, attestationsSource: dist.attestationsUrl } : {}),
          provenanceExpected: pinnedVersion?.provenance ?? false,
          ...(expectedIdentity ? { expectedIdentity } : {}),
        },
        {
          ...(root ? { trustMaterial: trustMaterialFor(root.json, keys) } : {}),
          registryKeys: keys,
          roots: { trustedRoot: root?.source ?? 'not needed (no attestations to verify)', registryKeys: keysSource },
        },
      );
      const checked = installedDir ? withResult(verdict, checkInstalledTree(`${name}@${version}`, bytes, installedDir)) : verdict;
      options.tarballs?.set(`${name}@${version}`, bytes);
      return {
        ...applyPolicy(checked, entry, policy, now),
        requested,
        tarballUrl: dist.tarball,
        identitySource: flagged ? 'command line' : expectedIdentity ? 'index' : 'none',
        indexed: { package: entry !== undefined, version: pinnedVersion !== undefined },
      };
    } catch (error) {
      if (!isMcsError(error) || error.code === 'E_INTERNAL' || error === rootFailure) throw error;
      return { requested, error };
    }
  };
  const results: Array<RegistryVerdict | { requested: string; error: McsError }> = new Array(specs.length);
  const materials = new Map<RegistryKey[], ReturnType<typeof createTrustMaterial>>();
  const trustMaterialFor = (rootJson: Record<string, unknown>, keys: RegistryKey[]) => {
    let material = materials.get(keys);
    if (!material) materials.set(keys, (material = createTrustMaterial(rootJson, keys)));
    return material;
  };
  let done = 0;
  try {
    await inPool(specs.length, concurrency, async (i) => {
      results[i] = await verifyOne(specs[i]!, installedAt[i]);
      options.onProgress?.(++done, specs.length, specs[i]!);
    });
  } finally {
    index.close();
  }
  return results;
}

const MAX_INSTALLED_FILES = 20_000;

/**
 * Compares an installed package folder with the verified tarball: every file
 * the tarball has must be on disk, a regular file with the same bytes, and
 * nothing else may be there (nested node_modules aside). Verifying the
 * registry's copy says nothing about a tree that was installed from a
 * mirror, a changed lockfile or edited afterwards.
 */
export function checkInstalledTree(spec: string, tarball: Uint8Array, dir: string): CheckResult {
  const expected = new Map<string, Buffer>();
  // the files npm installs from it, as the loader would unpack them; a tarball refused there (the manifest check says why) cannot vouch for a tree
  let files: PlannedFile[];
  try {
    files = planTarball(tarball, {}, spec).files;
  } catch (error) {
    if (!isMcsError(error)) throw error;
    return fail('installed', 'E_INSTALLED_MISMATCH', `${spec}: the installed files at ${dir} cannot be compared with a tarball mcs-pkg refuses to read (${error.code})`, { dir, reason: error.code });
  }
  for (const file of files) expected.set(file.relativePath, file.data);
  const problems: string[] = [];
  const seen = new Set<string>();
  const walk = (rel: string, depth: number): void => {
    if (seen.size > MAX_INSTALLED_FILES || depth > 32) {
      problems.push(`${rel || '.'}: more files or deeper folders than any package has`);
      return;
    }
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (rel === '' && entry.name === 'node_modules') continue;
      if (entry.isSymbolicLink()) problems.push(`${path}: a link, not a file`);
      else if (entry.isDirectory()) walk(path, depth + 1);
      else if (!entry.isFile()) problems.push(`${path}: not a regular file`);
      else {
        seen.add(path);
        const want = expected.get(path);
        if (!want) problems.push(`${path}: not in the verified tarball`);
        else if (!readFileCapped(join(dir, path), DEFAULT_MAX_TARBALL_BYTES, 'installed file').equals(want)) problems.push(`${path}: differs from the verified tarball`);
      }
    }
  };
  try {
    walk('', 0);
  } catch (cause) {
    problems.push(`cannot read ${dir}: ${(cause as Error).message}`);
  }
  for (const path of expected.keys()) if (!seen.has(path)) problems.push(`${path}: missing`);
  if (problems.length > 0) {
    return fail('installed', 'E_INSTALLED_MISMATCH', `${spec}: the installed files at ${dir} are not the verified tarball's: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`, { dir, problems });
  }
  return pass('installed', `${spec}: the ${expected.size} installed files at ${dir} are the verified tarball's`, { dir, files: expected.size });
}

export interface InstalledPackage {
  name: string;
  version: string;
  path: string;
}

/**
 * MCS packages installed in a project, by the naming convention or a static
 * `mcs` declaration in package.json: top-level and scoped folders, nested
 * node_modules, and symlinked folders (pnpm, npm link) followed to their
 * target once. A folder that looks like an MCS package but cannot be read is
 * reported, not skipped.
 */
export function findInstalled(projectDir: string): { packages: InstalledPackage[]; unreadable: Array<{ path: string; error: McsError }> } {
  const packages: InstalledPackage[] = [];
  const unreadable: Array<{ path: string; error: McsError }> = [];
  const visited = new Set<string>();
  let folders = 0;
  const looksMcs = (name: string): boolean => {
    try {
      parsePackageName(name, 'npm');
      return true;
    } catch {
      return false;
    }
  };
  const visitModules = (modules: string, depth: number): void => {
    if (depth > 16) return;
    let entries: Dirent[];
    try {
      entries = readdirSync(modules, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      if (entry.name.startsWith('@')) {
        let scoped: Dirent[] = [];
        try {
          scoped = readdirSync(join(modules, entry.name), { withFileTypes: true });
        } catch {
          continue;
        }
        for (const inner of scoped) visitPackage(join(modules, entry.name, inner.name), `${entry.name}/${inner.name}`, depth);
      } else {
        visitPackage(join(modules, entry.name), entry.name, depth);
      }
    }
  };
  const visitPackage = (dir: string, folderName: string, depth: number): void => {
    if (++folders > 100_000) return;
    let real: string;
    try {
      real = realpathSync(dir);
      if (!statSync(real).isDirectory()) return;
    } catch {
      return;
    }
    if (visited.has(real)) return;
    visited.add(real);
    let manifest: { name?: unknown; version?: unknown; mcs?: unknown } | undefined;
    try {
      manifest = parseJsonStrict(readFileCapped(join(real, 'package.json'), 1024 * 1024, 'package.json'), { source: join(real, 'package.json') }) as typeof manifest;
    } catch (error) {
      if (looksMcs(folderName)) unreadable.push({ path: dir, error: isMcsError(error) ? error : new McsError('E_USAGE', `${dir}: ${(error as Error).message}`) });
    }
    if (manifest && typeof manifest.name === 'string' && typeof manifest.version === 'string' && (looksMcs(manifest.name) || (typeof manifest.mcs === 'object' && manifest.mcs !== null))) {
      packages.push({ name: manifest.name, version: manifest.version, path: real });
    }
    visitModules(join(real, 'node_modules'), depth + 1);
  };
  if (!existsSync(join(projectDir, 'node_modules'))) throw new McsError('E_USAGE', `no node_modules folder in ${projectDir}`, { details: { projectDir } });
  visitModules(join(projectDir, 'node_modules'), 0);
  return { packages: packages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.path < b.path ? -1 : 1)), unreadable };
}

export interface InstalledReport {
  projectDir: string;
  counts: { verified: number; failed: number; 'missing-provenance': number; unpinned: number; error: number };
  results: Array<RegistryVerdict | { requested: string; error: McsError }>;
}

/** Verifies every MCS package installed in a project against what the registry and the index say about its version. */
export async function verifyInstalled(projectDir: string, options: VerifyRegistryOptions = {}): Promise<InstalledReport> {
  const { packages, unreadable } = findInstalled(projectDir);
  const results = [
    ...(await verifyFromRegistry(packages.map((p) => `${p.name}@${p.version}`), options, packages.map((p) => p.path))),
    ...unreadable.map((u) => ({ requested: u.path, error: u.error })),
  ];
  const counts = { verified: 0, failed: 0, 'missing-provenance': 0, unpinned: 0, error: 0 };
  for (const result of results) counts['error' in result ? 'error' : result.status]++;
  return { projectDir, counts, results };
}
