/**
 * Verification of a downloaded PyPI distribution file, with no network: the
 * composing layer that reads the file, its attestations (PEP 740 attestation
 * objects, or a provenance object as PyPI's integrity API serves it) and the
 * trusted root, takes the pins and the expected publisher from the index or
 * the command line, and hands everything to the pure verifier
 * (trust/pep740.ts). Online verification fetches the same inputs and calls
 * the same verifier.
 */
import { basename } from 'node:path';
import { McsError, isMcsError } from '../errors.js';
import { readFileCapped } from '../files.js';
import { openIndex, type McsIndex, type OpenIndexOptions } from '../index/store.js';
import { parseJsonStrict } from '../manifest/json.js';
import type { DistributionFile, IndexEntry, VersionRecord } from '../manifest/types.js';
import { normalizeRepository, type ExpectedPublisher } from '../trust/identity.js';
import { provenanceEvidence, verifyDistribution, type AttestationEvidence, type DistributionTrust, type DistributionVerdict } from '../trust/pep740.js';
import { fail, type CheckResult } from '../trust/result.js';
import { SHIPPED_ROOTS, trustedRootFrom } from '../trust/roots.js';
import { createTrustMaterial } from '../trust/sigstore.js';
import { DEFAULT_MAX_ATTESTATIONS_BYTES, DEFAULT_MAX_TARBALL_BYTES, GITHUB_ACTIONS_ISSUER, applyPolicy, type IdentityFlags, type IdentitySource } from '../verify.js';
import { normalizeProjectName, parseDistFilename } from './filenames.js';
import { compareVersions } from './pep440.js';

export const GITLAB_ISSUER = 'https://gitlab.com';
/** PyPI signs no files itself: no registry keys take part. */
export const NO_REGISTRY_KEYS = 'none: PyPI signs no files (attestations come from the publisher)';

export interface PypiIdentityFlags extends IdentityFlags {
  /** The certificate's SAN to require exactly (another publisher: a Google service account's e-mail, an e-mail identity). */
  certificateIdentity?: string;
  /** The certificate's OIDC issuer to require exactly, with certificateIdentity. */
  certificateOidcIssuer?: string;
}

export interface VerifyDistOptions extends PypiIdentityFlags {
  /** Path of the wheel or sdist; its file name is what the attestation must name. */
  dist: string;
  /** Paths of PEP 740 attestation objects for the file. */
  attestations?: string[];
  /** Path of a provenance object (the integrity API's answer) for the file. */
  provenance?: string;
  /** pypi:NAME@VERSION (or NAME@VERSION) the file is meant to be. */
  package: string;
  /** A pinned Sigstore trusted_root.json, or SHIPPED_ROOTS; default the public-good root shipped with mcs-pkg. */
  trustedRoot?: string;
  /** The index to take pins and the expected publisher from (default: the embedded index). */
  index?: OpenIndexOptions;
}

export interface DistVerdict extends DistributionVerdict {
  identitySource: IdentitySource;
  /** Whether the index lists the project, pins this version, and pins this file. */
  indexed: { package: boolean; version: boolean; file: boolean };
}

/** Splits pypi:NAME@VERSION (the prefix is optional; another ecosystem's is refused). */
export function parsePypiSpec(spec: string): { name: string; version: string } {
  const colon = spec.indexOf(':');
  const prefix = colon === -1 ? 'pypi' : spec.slice(0, colon);
  const rest = colon === -1 ? spec : spec.slice(colon + 1);
  const at = rest.lastIndexOf('@');
  if (prefix !== 'pypi' || at <= 0 || at === rest.length - 1) {
    throw new McsError('E_USAGE', `expected --package pypi:NAME@VERSION (for example pypi:mcs-driver-csv@0.1.4), got ${JSON.stringify(spec)}`, { details: { spec } });
  }
  return { name: rest.slice(0, at), version: rest.slice(at + 1) };
}

/**
 * The publisher the flags describe, or undefined. --source-repo on
 * gitlab.com is a GitLab publisher (issuer https://gitlab.com), elsewhere a
 * GitHub one (a bare workflow file name is under .github/workflows/, as
 * PyPI names it); --certificate-identity with --certificate-oidc-issuer
 * names any other signer (a Google service account, an e-mail identity).
 */
export function publisherFromFlags(flags: PypiIdentityFlags): ExpectedPublisher | undefined {
  const certificate = flags.certificateIdentity !== undefined || flags.certificateOidcIssuer !== undefined;
  if (certificate) {
    if (!flags.certificateIdentity || !flags.certificateOidcIssuer) throw new McsError('E_USAGE', 'give --certificate-identity and --certificate-oidc-issuer together', {});
    if (flags.sourceRepo || flags.workflow || flags.ref || flags.issuer) throw new McsError('E_USAGE', '--certificate-identity names the signer by its certificate alone: give it without --source-repo, --workflow, --ref and --issuer', {});
    return { kind: 'certificate', subjectAlternativeName: flags.certificateIdentity, issuer: flags.certificateOidcIssuer };
  }
  if (!flags.sourceRepo) {
    if (flags.workflow || flags.issuer || flags.ref) throw new McsError('E_USAGE', '--workflow, --issuer and --ref describe a publisher identity: give --source-repo with them', {});
    return undefined;
  }
  const repository = normalizeRepository(flags.sourceRepo);
  const gitlab = repository.startsWith('https://gitlab.com/');
  const workflow = flags.workflow?.replace(/^\/+/, '');
  return {
    kind: gitlab ? 'gitlab' : 'github',
    issuer: flags.issuer ?? (gitlab ? GITLAB_ISSUER : GITHUB_ACTIONS_ISSUER),
    repository,
    ...(workflow ? { workflow: gitlab || workflow.includes('/') ? workflow : `.github/workflows/${workflow}` } : {}),
    ...(flags.ref ? { ref: flags.ref } : {}),
    ...(gitlab ? {} : { runner: flags.hostedRunner ? 'github-hosted' : 'any' }),
  };
}

/** The key under which the index pins a version, by PEP 440 equality (1.0 is 1.0.0, 1.0a1 is 1.0.alpha1); a version that does not parse only matches itself. */
export function pinnedKey(entry: IndexEntry, version: string): string | undefined {
  return Object.keys(entry.versions).find((v) => v === version || compareVersions(v, version) === 0);
}

/** The index's record of a version (see pinnedKey). */
export function versionRecord(entry: IndexEntry | undefined, version: string): VersionRecord | undefined {
  const key = entry && pinnedKey(entry, version);
  return key === undefined ? undefined : entry!.versions[key];
}

/** The pinned file whose parsed name is the given file's. */
export function pinnedFile(record: VersionRecord | undefined, filename: string): DistributionFile | undefined {
  let canonical: string;
  try {
    canonical = parseDistFilename(filename).canonical;
  } catch {
    return undefined;
  }
  return record?.files?.find((file) => {
    try {
      return parseDistFilename(file.filename).canonical === canonical;
    } catch {
      return false;
    }
  });
}

function readJson(file: string, what: string): unknown {
  return parseJsonStrict(readFileCapped(file, DEFAULT_MAX_ATTESTATIONS_BYTES, what), { source: file, maxBytes: DEFAULT_MAX_ATTESTATIONS_BYTES, maxDepth: 64 });
}

/** The inputs of one file's verification, read or fetched before: the same offline (files) and online (the index). */
export interface DistCheckInput {
  name: string;
  version: string;
  filename: string;
  bytes: Uint8Array;
  attestations: AttestationEvidence[];
  /** A provenance object that could not be read: what the provenance check found. */
  unreadable?: CheckResult;
  /** The index's entry for the project, when it lists it. */
  entry?: IndexEntry;
  /** The publisher the command line names, over the index's. */
  flagged?: ExpectedPublisher;
  trust: DistributionTrust;
  /** The caller reports that the index does not pin the version (online verification does, once per version): the index's rules are not added per file. */
  versionUnpinnedReported?: boolean;
}

/**
 * One file against the index and its attestations: the file's pin and
 * whether it must have an attestation come from the index, the expected
 * publisher from the command line, else the index. A version the index pins
 * without this file is a failure: the index lists every file it trusts.
 */
export function checkDist(input: DistCheckInput): DistVerdict {
  const { name, version, filename, entry, unreadable } = input;
  const record = versionRecord(entry, version);
  const file = pinnedFile(record, filename);
  const expectedPublisher = input.flagged ?? entry?.trust?.publisher;
  const verdict = verifyDistribution(
    {
      project: name,
      version,
      filename,
      bytes: input.bytes,
      ...(file ? { pinned: { integrity: file.integrity, ...(file.size !== undefined ? { size: file.size } : {}) } } : {}),
      attestations: input.attestations,
      provenanceExpected: file?.provenance ?? record?.provenance ?? false,
      ...(expectedPublisher ? { expectedPublisher } : {}),
    },
    input.trust,
  );
  // an unreadable provenance object is what the provenance check found, not an absence of evidence
  const results = unreadable ? verdict.results.map((r) => (r.check === 'provenance' ? unreadable : r)) : verdict.results;
  const extra = [
    ...(record && !file ? [fail('integrity', 'E_INTEGRITY_MISMATCH', `${filename}: the index pins ${name} ${version} with the files ${(record.files ?? []).map((f) => f.filename).join(', ') || 'none'}, and not this one`, { pinned: (record.files ?? []).map((f) => f.filename) })] : []),
  ];
  const checked = unreadable || extra.length ? { ...verdict, status: 'failed' as const, results: [...results, ...extra], notChecked: verdict.notChecked.filter((n) => !unreadable || n.check !== 'provenance') } : verdict;
  return {
    ...(input.versionUnpinnedReported ? checked : applyPolicy(checked, entry, undefined, new Date())),
    identitySource: input.flagged ? 'command line' : expectedPublisher ? 'index' : 'none',
    indexed: { package: entry !== undefined, version: record !== undefined, file: file !== undefined },
  };
}

/** The index's entry for a PyPI project, or undefined when it does not list it. */
export function pypiEntry(index: McsIndex, name: string): IndexEntry | undefined {
  try {
    return index.getPackage(`pypi:${normalizeProjectName(name)}`).entry;
  } catch (error) {
    if (!isMcsError(error, 'E_NOT_FOUND')) throw error;
    return undefined;
  }
}

/** Verifies a downloaded wheel or sdist and its attestations offline (checkDist over files read from disk). */
export async function verifyDistFile(options: VerifyDistOptions): Promise<DistVerdict> {
  const { name, version } = parsePypiSpec(options.package);
  if (options.attestations?.length && options.provenance) throw new McsError('E_USAGE', 'give --attestation FILE (once per attestation) or --provenance FILE, not both', {});
  const bytes = readFileCapped(options.dist, DEFAULT_MAX_TARBALL_BYTES, 'distribution file');
  const flagged = publisherFromFlags(options);
  let attestations: AttestationEvidence[] = (options.attestations ?? []).map((file) => ({ attestation: readJson(file, 'attestation'), source: file }));
  let unreadable: CheckResult | undefined;
  if (options.provenance) {
    const read = provenanceEvidence(readJson(options.provenance, 'provenance object'), options.provenance);
    if (Array.isArray(read)) attestations = read;
    else unreadable = read;
  }
  const index = await openIndex(options.index ?? {});
  let entry: IndexEntry | undefined;
  try {
    entry = pypiEntry(index, name);
  } finally {
    index.close();
  }
  const root = trustedRootFrom(options.trustedRoot ?? SHIPPED_ROOTS);
  return checkDist({
    name,
    version,
    filename: basename(options.dist),
    bytes,
    attestations,
    ...(unreadable ? { unreadable } : {}),
    ...(entry ? { entry } : {}),
    ...(flagged ? { flagged } : {}),
    trust: { trustMaterial: createTrustMaterial(root.json), roots: { trustedRoot: root.source, registryKeys: NO_REGISTRY_KEYS } },
  });
}
