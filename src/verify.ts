/**
 * Verification of downloaded artifacts, with no network: the composing layer
 * that reads the files and the trust roots, takes the expected publisher and
 * the pins from the index, and hands everything to the pure verifier.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { McsError, isMcsError } from './errors.js';
import { openIndex, type OpenIndexOptions } from './index/store.js';
import { parseJsonStrict } from './manifest/json.js';
import { normalizeRepository, type ExpectedIdentity } from './trust/identity.js';
import { embeddedRegistryKeys, embeddedTrustedRoot, registryKeysFromFile, trustedRootFromFile } from './trust/roots.js';
import { verifyArtifact, type ArtifactVerdict } from './trust/artifact.js';
import { createTrustMaterial } from './trust/sigstore.js';
import { verifyPackage, type Verdict } from './trust/verifier.js';

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

export interface VerifyTarballOptions extends IdentityFlags {
  /** Path of the package tarball. */
  tarball: string;
  /** Path of the registry's attestations JSON for the version; absent when the version has none. */
  attestations?: string;
  /** NAME@VERSION the tarball claims to be. */
  package: string;
  /** A pinned Sigstore trusted_root.json; default the public-good root shipped with mcs-pkg. */
  trustedRoot?: string;
  /** A pinned registry keys file; default npm's keys shipped with mcs-pkg. */
  registryKeys?: string;
  /** The index to take pins and the expected publisher from (default: the embedded index). */
  index?: OpenIndexOptions;
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

/** Reads a whole file, refusing one larger than `maxBytes` before reading it. */
export function readFileCapped(file: string, maxBytes: number, what: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (cause) {
    throw new McsError('E_USAGE', `cannot read ${what} ${file}: ${(cause as Error).message}`, { cause, details: { file } });
  }
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new McsError('E_USAGE', `${what} ${file} is ${size} bytes, over the limit of ${maxBytes}`, { details: { file, limit: maxBytes, found: size } });
    const buffer = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      const n = readSync(fd, buffer, offset, size - offset, offset);
      if (n === 0) break;
      offset += n;
    }
    return buffer.subarray(0, offset);
  } finally {
    closeSync(fd);
  }
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

/**
 * Verifies a downloaded tarball and its attestations offline. The expected
 * publisher comes from the command line when given, else from the index's
 * pinned publisher for the package; the version's pin and whether it must
 * have provenance come from the index.
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
  const pinnedVersion = entry?.versions[version];
  const flagged = identityFromFlags(options);
  const publisher = entry?.trust?.publisher;
  const expectedIdentity: ExpectedIdentity | undefined = flagged ?? (publisher ? { ...publisher } : undefined);

  const root = options.trustedRoot ? trustedRootFromFile(options.trustedRoot) : embeddedTrustedRoot();
  const keys = options.registryKeys ? registryKeysFromFile(options.registryKeys) : embeddedRegistryKeys();
  const verdict = verifyPackage(
    {
      name,
      version,
      bytes,
      ...(pinnedVersion?.integrity ? { pinned: { integrity: pinnedVersion.integrity, ...(pinnedVersion.size !== undefined ? { size: pinnedVersion.size } : {}) } } : {}),
      ...(attestations !== undefined ? { attestations, attestationsSource: options.attestations } : {}),
      provenanceExpected: pinnedVersion?.provenance ?? false,
      ...(expectedIdentity ? { expectedIdentity } : {}),
    },
    { trustMaterial: createTrustMaterial(root.json, keys.keys), registryKeys: keys.keys, roots: { trustedRoot: root.source, registryKeys: keys.source } },
  );
  return {
    ...verdict,
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
  /** A pinned trusted_root.json; default the public-good root shipped with mcs-pkg. */
  trustedRoot?: string;
}

export interface FileArtifactVerdict extends ArtifactVerdict {
  artifact: string;
  trustedRoot: string;
}

/** Verifies a Sigstore bundle over any file (a release checksum file, a PyPI distribution's attestation) offline. */
export function verifyArtifactFiles(options: VerifyArtifactOptions): FileArtifactVerdict {
  const hasIdentity = options.certificateIdentity !== undefined || options.certificateOidcIssuer !== undefined;
  if (hasIdentity === (options.key !== undefined) || (hasIdentity && (!options.certificateIdentity || !options.certificateOidcIssuer))) {
    throw new McsError('E_USAGE', 'give --certificate-identity URI and --certificate-oidc-issuer URL, or --key FILE for a keyed bundle', {});
  }
  const artifact = readFileCapped(options.artifact, DEFAULT_MAX_TARBALL_BYTES, 'artifact');
  const bundle = parseJsonStrict(readFileCapped(options.bundle, DEFAULT_MAX_ATTESTATIONS_BYTES, 'bundle'), { source: options.bundle, maxBytes: DEFAULT_MAX_ATTESTATIONS_BYTES, maxDepth: 64 });
  const root = options.trustedRoot ? trustedRootFromFile(options.trustedRoot) : embeddedTrustedRoot();
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
