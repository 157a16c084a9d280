/**
 * PEP 740 verification of a distribution file (src/trust/pep740.ts) with
 * attestations signed at test time by the mock Sigstore: real DSSE bundles,
 * real certificate chains and transparency log entries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePublisher } from '../../src/trust/identity.js';
import { verifyDistribution, type DistributionInput, type DistributionTrust } from '../../src/trust/pep740.js';
import type { CertificateFields } from '../../src/trust/sigstore.js';
import { createTrustMaterial } from '../../src/trust/sigstore.js';
import { startMockSigstore, type GithubIdentity, type MockSigstore } from '../helpers/mock-sigstore.js';
import { distStatement, provenanceObject, sha256Hex, signAttestation } from '../helpers/pep740.js';

const ACTIONS = 'https://token.actions.githubusercontent.com';
const IDENTITY: GithubIdentity = { repository: 'acme/mcs-driver-csv', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v0.1.4' };
const PUBLISHER = { issuer: ACTIONS, repository: 'https://github.com/acme/mcs-driver-csv', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*' };
const WHEEL = 'mcs_driver_csv-0.1.4-py3-none-any.whl';
const BYTES = Buffer.from('PK\u0003\u0004 a wheel, for the verifier only bytes');

let sigstore: MockSigstore;
let trust: DistributionTrust;
let attestation: Record<string, unknown>;
let slsa: Record<string, unknown>;

beforeAll(async () => {
  sigstore = await startMockSigstore();
  trust = { trustMaterial: createTrustMaterial(sigstore.trustedRoot), roots: { trustedRoot: 'mock', registryKeys: 'none' } };
  [attestation, slsa] = await Promise.all([
    signAttestation(sigstore, IDENTITY, distStatement(WHEEL, BYTES)),
    signAttestation(sigstore, IDENTITY, distStatement(WHEEL, BYTES, 'https://slsa.dev/provenance/v1')),
  ]);
}, 60_000);
afterAll(() => sigstore?.close());

function input(extra: Partial<DistributionInput> = {}): DistributionInput {
  return { project: 'mcs-driver-csv', version: '0.1.4', filename: WHEEL, bytes: BYTES, attestations: [{ attestation, source: 'attestation' }], provenanceExpected: false, expectedPublisher: PUBLISHER, ...extra };
}

const failures = (verdict: { results: Array<{ status: string; check: string; code?: string }> }) => verdict.results.filter((r) => r.status === 'fail').map((r) => `${r.check}:${r.code}`);

describe('verifyDistribution', () => {
  it('verifies a wheel attested by its pinned publisher, naming each check', () => {
    const verdict = verifyDistribution(input({ pinned: { integrity: `sha256-${Buffer.from(sha256Hex(BYTES), 'hex').toString('base64')}`, size: BYTES.length } }), trust);
    expect(failures(verdict)).toEqual([]);
    expect(verdict.status).toBe('verified');
    expect(verdict.results.map((r) => `${r.check}:${r.status}`)).toEqual(['filename:pass', 'integrity:pass', 'size:pass', 'provenance:pass', 'identity:pass']);
    expect(verdict.publishedAt).toMatch(/^\d{4}-/);
  });

  it('accepts SLSA provenance v1 as the predicate, and each attestation given is checked', () => {
    const verdict = verifyDistribution(input({ attestations: [{ attestation, source: 'publish' }, { attestation: slsa, source: 'slsa' }] }), trust);
    expect(verdict.status).toBe('verified');
    expect(verdict.results.filter((r) => r.check === 'provenance').map((r) => r.evidence.predicateType)).toEqual(['https://docs.pypi.org/attestations/publish/v1', 'https://slsa.dev/provenance/v1']);
  });

  it('matches the subject after normalizing the file name: case, separators and tag case do not count', () => {
    const renamed = 'MCS.Driver_CSV-0.1.4-py3-none-ANY.whl';
    expect(verifyDistribution(input({ filename: renamed }), trust).status).toBe('verified');
  });

  it('an expected publisher without evidence is E_PROVENANCE_MISSING', () => {
    const verdict = verifyDistribution(input({ attestations: [] }), trust);
    expect(failures(verdict)).toEqual(['provenance:E_PROVENANCE_MISSING']);
  });

  it('a file the index pins without provenance says so plainly', () => {
    const pinned = { integrity: `sha256-${Buffer.from(sha256Hex(BYTES), 'hex').toString('base64')}` };
    const verdict = verifyDistribution(input({ attestations: [], expectedPublisher: undefined, pinned }), trust);
    expect(verdict.status).toBe('missing-provenance');
    expect(verdict.results.find((r) => r.check === 'provenance')!.message).toContain('no provenance expected: pinned by digest');
  });

  it('a file the index expects provenance for fails without it', () => {
    expect(failures(verifyDistribution(input({ attestations: [], expectedPublisher: undefined, provenanceExpected: true }), trust))).toEqual(['provenance:E_PROVENANCE_MISSING']);
  });

  it('without a pinned publisher the verdict is unpinned, not verified', () => {
    expect(verifyDistribution(input({ expectedPublisher: undefined }), trust).status).toBe('unpinned');
  });

  it('a digest other than the pin is E_INTEGRITY_MISMATCH', () => {
    const verdict = verifyDistribution(input({ pinned: { integrity: `sha256-${Buffer.alloc(32, 1).toString('base64')}` } }), trust);
    expect(failures(verdict)).toEqual(['integrity:E_INTEGRITY_MISMATCH']);
  });

  it.each([
    ['repository', { repository: 'https://github.com/acme/other' }],
    ['workflow', { workflow: '.github/workflows/other.yml' }],
    ['ref', { ref: 'refs/heads/main' }],
    ['issuer', { issuer: 'https://gitlab.com' }],
  ])('another %s than the pinned one is E_IDENTITY_MISMATCH', (field, change) => {
    const verdict = verifyDistribution(input({ expectedPublisher: { ...PUBLISHER, ...change } }), trust);
    expect(failures(verdict)).toEqual(['identity:E_IDENTITY_MISMATCH']);
    expect(verdict.results.find((r) => r.check === 'identity')!.evidence.mismatch).toMatchObject({ field });
  });

  it('a workflow of the same name in another folder of the repository is not the pinned one', async () => {
    const moved = await signAttestation(sigstore, { ...IDENTITY, workflow: 'tools/.github/workflows/release.yml' }, distStatement(WHEEL, BYTES));
    expect(failures(verifyDistribution(input({ attestations: [{ attestation: moved, source: 'moved' }] }), trust))).toEqual(['identity:E_IDENTITY_MISMATCH']);
  });
});

/** Certificate fields as Fulcio issues them for each kind of Trusted Publisher (docs/oid-info.md). */
function fields(extensions: Record<number, string>, san: string): CertificateFields {
  return { subjectAlternativeName: san, extensions: Object.fromEntries(Object.entries(extensions).map(([n, v]) => [`1.3.6.1.4.1.57264.1.${n}`, v])), notBefore: '', notAfter: '' };
}

describe('comparePublisher: the certificate fields each publisher kind maps to', () => {
  const gitlab = fields({ 8: 'https://gitlab.com', 12: 'https://gitlab.com/acme/csv', 18: 'https://gitlab.com/acme/csv//.gitlab-ci.yml@refs/tags/v1' }, 'https://gitlab.com/acme/csv//.gitlab-ci.yml@refs/tags/v1');
  const pin = { kind: 'gitlab' as const, issuer: 'https://gitlab.com', repository: 'https://gitlab.com/acme/csv', workflow: '.gitlab-ci.yml', ref: 'refs/tags/v*' };

  it('GitLab: issuer, project and CI file with ref (REPOSITORY//PATH@REF)', () => {
    expect(comparePublisher(gitlab, pin)).toBeNull();
    expect(comparePublisher(gitlab, { ...pin, workflow: 'ci/.gitlab-ci.yml' })).toMatchObject({ field: 'workflow' });
    expect(comparePublisher(gitlab, { ...pin, ref: 'refs/heads/main' })).toMatchObject({ field: 'ref' });
    expect(comparePublisher(gitlab, { ...pin, repository: 'https://gitlab.com/acme/other' })).toMatchObject({ field: 'repository' });
  });

  it('GitHub and GitLab build config URIs are not interchangeable', () => {
    expect(comparePublisher(gitlab, { ...pin, kind: 'github' as const, runner: 'any' as const })).toMatchObject({ field: 'workflow' });
  });

  it('Google: issuer and the service account e-mail as SAN, exactly', () => {
    const google = fields({ 8: 'https://accounts.google.com' }, 'release@acme.iam.gserviceaccount.com');
    expect(comparePublisher(google, { kind: 'google', issuer: 'https://accounts.google.com', email: 'release@acme.iam.gserviceaccount.com' })).toBeNull();
    expect(comparePublisher(google, { kind: 'google', issuer: 'https://accounts.google.com', email: 'Release@acme.iam.gserviceaccount.com' })).toMatchObject({ field: 'subjectAlternativeName' });
    expect(comparePublisher(google, { kind: 'google', issuer: 'https://token.actions.githubusercontent.com', email: 'release@acme.iam.gserviceaccount.com' })).toMatchObject({ field: 'issuer' });
  });
});

describe('provenance objects', () => {
  it('verifies the attestations of a provenance object', async () => {
    const { provenanceEvidence } = await import('../../src/trust/pep740.js');
    const evidence = provenanceEvidence(provenanceObject([attestation, slsa]), 'provenance');
    expect(Array.isArray(evidence)).toBe(true);
    expect(verifyDistribution(input({ attestations: evidence as never }), trust).status).toBe('verified');
  });
});
