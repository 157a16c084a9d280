/**
 * Who built it (DESIGN.md §4 check 4): the signing certificate's identity
 * against the identity the index pins, compared exactly (never an unanchored
 * regex). Certificates issued before mid-2023 carry only Fulcio's older
 * extensions (.1.5 repository as owner/repo, .1.6 ref) and the workflow in
 * the SAN; their runner environment was never recorded, so a rule that needs
 * a hosted runner treats it as unknown, not as met.
 */
import type { GooglePublisher, RepositoryPublisher } from '../manifest/types.js';
import type { CertificateFields } from './sigstore.js';

const OID = (n: number) => `1.3.6.1.4.1.57264.1.${n}`;
const GITHUB = 'https://github.com/';

/** The identity a certificate states, normalized to one shape whichever extensions it has. */
export interface ObservedIdentity {
  issuer: string | null;
  /** https://github.com/owner/repo */
  repository: string | null;
  /** Workflow path inside the repository, when the build signer is a workflow of that repository. */
  workflow: string | null;
  /** The full build signer URI (workflow@ref). */
  buildSigner: string | null;
  ref: string | null;
  runner: string | null;
  /** GitHub's numeric repository and owner ids (.1.15, .1.17), when the certificate has them. */
  repositoryId: string | null;
  ownerId: string | null;
  /** True when only the pre-2023 extensions were present. */
  legacy: boolean;
}

/** The identity the index (or the user) requires. */
export interface ExpectedIdentity {
  issuer: string;
  repository: string;
  workflow?: string;
  /** Exact ref, or a prefix ending in * (refs/tags/v*). */
  ref?: string;
  runner?: 'github-hosted' | 'any';
}

export function observedIdentity(certificate: CertificateFields): ObservedIdentity {
  const ext = certificate.extensions;
  const legacy = ext[OID(12)] === undefined;
  const repository = ext[OID(12)] ?? (ext[OID(5)] ? GITHUB + ext[OID(5)] : null);
  const buildSigner = ext[OID(9)] ?? certificate.subjectAlternativeName;
  let workflow: string | null = null;
  if (repository && buildSigner?.startsWith(repository + '/')) {
    const rest = buildSigner.slice(repository.length + 1);
    const at = rest.lastIndexOf('@');
    workflow = at === -1 ? rest : rest.slice(0, at);
  }
  return {
    issuer: ext[OID(8)] ?? ext[OID(1)] ?? null,
    repository,
    workflow,
    buildSigner: buildSigner ?? null,
    ref: ext[OID(14)] ?? ext[OID(6)] ?? null,
    runner: ext[OID(11)] ?? null,
    repositoryId: ext[OID(15)] ?? null,
    ownerId: ext[OID(17)] ?? null,
    legacy,
  };
}

/** A ref pattern matches exactly, or by prefix when it ends in a single trailing *. */
export function refMatches(pattern: string, ref: string): boolean {
  return pattern.endsWith('*') ? ref.startsWith(pattern.slice(0, -1)) : ref === pattern;
}

/** Normalizes owner/repo (on GitHub), github.com/owner/repo, https://github.com/owner/repo(.git) to https://github.com/owner/repo. */
export function normalizeRepository(value: string): string {
  const trimmed = value.trim().replace(/\.git$/, '').replace(/\/+$/, '');
  if (/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(trimmed)) return GITHUB + trimmed;
  return /^https?:\/\//.test(trimmed) ? trimmed.replace(/^http:/, 'https:') : `https://${trimmed}`;
}

export interface IdentityMismatch {
  field: 'issuer' | 'repository' | 'workflow' | 'ref' | 'runner' | 'subjectAlternativeName';
  expected: string;
  found: string | null;
}

/** The first field that differs, or null when the certificate states the expected identity. */
export function compareIdentity(observed: ObservedIdentity, expected: ExpectedIdentity): IdentityMismatch | null {
  if (observed.issuer !== expected.issuer) return { field: 'issuer', expected: expected.issuer, found: observed.issuer };
  if (observed.repository !== expected.repository) return { field: 'repository', expected: expected.repository, found: observed.repository };
  if (expected.workflow !== undefined && observed.workflow !== expected.workflow) {
    return { field: 'workflow', expected: expected.workflow, found: observed.workflow ?? observed.buildSigner };
  }
  if (expected.ref !== undefined && (observed.ref === null || !refMatches(expected.ref, observed.ref))) return { field: 'ref', expected: expected.ref, found: observed.ref };
  if ((expected.runner ?? 'github-hosted') === 'github-hosted' && observed.runner !== 'github-hosted') {
    return { field: 'runner', expected: 'github-hosted', found: observed.runner };
  }
  return null;
}

/** A signer named by its certificate alone (`--certificate-identity` and `--certificate-oidc-issuer`): SAN and issuer, compared exactly. */
export interface CertificateSigner {
  kind: 'certificate';
  subjectAlternativeName: string;
  issuer: string;
}

/** What a PEP 740 attestation's certificate must state: a Trusted Publisher (from the command line its workflow may be left open), or a named certificate signer. */
export type ExpectedPublisher = (Omit<RepositoryPublisher, 'workflow'> & { workflow?: string }) | GooglePublisher | CertificateSigner;

/**
 * A Trusted Publisher against a PEP 740 attestation's certificate, as PyPI
 * and pypi-attestations check it: the issuer (.1.8) exactly; for GitHub and
 * GitLab the Source Repository URI (.1.12) exactly and the Build Config URI
 * (.1.18: the calling workflow, not a reusable one) exactly
 * REPOSITORY/WORKFLOW@REF (GitLab: REPOSITORY//PATH@REF), its REF matched
 * against the pinned pattern; for Google and a named signer, the SAN
 * exactly. Returns the first field that differs, or null.
 */
export function comparePublisher(certificate: CertificateFields, expected: ExpectedPublisher): IdentityMismatch | null {
  const ext = certificate.extensions;
  const issuer = ext[OID(8)] ?? ext[OID(1)] ?? null;
  if (issuer !== expected.issuer) return { field: 'issuer', expected: expected.issuer, found: issuer };
  if (expected.kind === 'google' || expected.kind === 'certificate') {
    const san = expected.kind === 'google' ? expected.email : expected.subjectAlternativeName;
    return certificate.subjectAlternativeName === san ? null : { field: 'subjectAlternativeName', expected: san, found: certificate.subjectAlternativeName };
  }
  const repository = ext[OID(12)] ?? null;
  if (repository !== expected.repository) return { field: 'repository', expected: expected.repository, found: repository };
  const buildConfig = ext[OID(18)] ?? null;
  const inRepository = `${expected.repository}${expected.kind === 'gitlab' ? '//' : '/'}`;
  const prefix = expected.workflow === undefined ? inRepository : `${inRepository}${expected.workflow}@`;
  const at = buildConfig?.lastIndexOf('@') ?? -1;
  if (buildConfig === null || !buildConfig.startsWith(prefix) || at < prefix.length - 1) {
    return { field: 'workflow', expected: expected.workflow === undefined ? `${inRepository}WORKFLOW@REF` : `${prefix}REF`, found: buildConfig };
  }
  const ref = expected.workflow === undefined ? buildConfig.slice(at + 1) : buildConfig.slice(prefix.length);
  if (expected.ref !== undefined && !refMatches(expected.ref, ref)) return { field: 'ref', expected: expected.ref, found: ref };
  if (expected.kind !== 'gitlab' && (expected.runner ?? 'github-hosted') === 'github-hosted' && ext[OID(11)] !== 'github-hosted') {
    return { field: 'runner', expected: 'github-hosted', found: ext[OID(11)] ?? null };
  }
  return null;
}

/**
 * The identity a PEP 740 attestation's certificate states, in the shape sync
 * and first-use pinning compare: the workflow and ref taken from the Build
 * Config URI (.1.18: REPOSITORY/WORKFLOW@REF, GitLab REPOSITORY//PATH@REF),
 * which is what PyPI's Trusted Publishers name (not the Build Signer URI,
 * which is a reusable workflow's when one signs).
 */
export function pep740Observed(certificate: CertificateFields): ObservedIdentity {
  const observed = observedIdentity(certificate);
  const buildConfig = certificate.extensions[OID(18)];
  if (!observed.repository || !buildConfig?.startsWith(`${observed.repository}/`)) return { ...observed, workflow: null };
  const rest = buildConfig.slice(observed.repository.length + 1).replace(/^\//, '');
  const at = rest.lastIndexOf('@');
  return { ...observed, workflow: at === -1 ? rest : rest.slice(0, at), ref: at === -1 ? observed.ref : rest.slice(at + 1) };
}
