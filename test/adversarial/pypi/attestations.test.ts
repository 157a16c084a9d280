/**
 * Hostile PEP 740 evidence: attestations signed at test time by the mock
 * Sigstore and then replayed, renamed, altered or dressed up, each refused
 * with its code. The verifier must hold to the bytes, the parsed file name,
 * the signed statement and the certificate, and to nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleToJSON } from '@sigstore/bundle';
import { FulcioSigner, MessageSignatureBundleBuilder, RekorWitness } from '@sigstore/sign';
import { provenanceEvidence, verifyDistribution, MAX_ATTESTATIONS, type AttestationEvidence, type DistributionInput, type DistributionTrust } from '../../../src/trust/pep740.js';
import { createTrustMaterial } from '../../../src/trust/sigstore.js';
import { identityToken, startMockSigstore, type GithubIdentity, type MockSigstore } from '../../helpers/mock-sigstore.js';
import { distStatement, provenanceObject, signAttestation } from '../../helpers/pep740.js';

const ACTIONS = 'https://token.actions.githubusercontent.com';
const IDENTITY: GithubIdentity = { repository: 'acme/foo-bar', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v1.0' };
const PUBLISHER = { issuer: ACTIONS, repository: 'https://github.com/acme/foo-bar', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*', runner: 'any' as const };
const WHEEL = 'Foo_Bar-1.0-py3-none-any.whl';
const BYTES = Buffer.from('the wheel the publisher built');

let sigstore: MockSigstore;
let other: MockSigstore;
let trust: DistributionTrust;
let attestation: Record<string, unknown>;

beforeAll(async () => {
  [sigstore, other] = await Promise.all([startMockSigstore(), startMockSigstore()]);
  trust = { trustMaterial: createTrustMaterial(sigstore.trustedRoot), roots: { trustedRoot: 'mock', registryKeys: 'none' } };
  attestation = await signAttestation(sigstore, IDENTITY, distStatement(WHEEL, BYTES));
}, 60_000);
afterAll(async () => {
  await Promise.all([sigstore?.close(), other?.close()]);
});

function input(extra: Partial<DistributionInput> = {}): DistributionInput {
  return { project: 'foo-bar', version: '1.0', filename: WHEEL, bytes: BYTES, attestations: [{ attestation, source: 'attestation' }], provenanceExpected: true, expectedPublisher: PUBLISHER, ...extra };
}
const one = (value: unknown): AttestationEvidence[] => [{ attestation: value, source: 'hostile' }];
const failures = (verdict: { results: Array<{ status: string; check: string; code?: string }> }) => verdict.results.filter((r) => r.status === 'fail').map((r) => `${r.check}:${r.code}`);

describe('PEP 740: replayed and renamed', () => {
  it('the names that must still match: foo_bar for Foo_Bar, and a dotted project name', () => {
    expect(verifyDistribution(input({ filename: 'foo_bar-1.0-py3-none-any.whl' }), trust).status).toBe('verified');
    expect(verifyDistribution(input({ filename: 'foo.bar-1.0-py3-none-any.whl' }), trust).status).toBe('verified');
  });

  it('other bytes under the attested file name: E_ATTESTATION_SUBJECT (digest)', () => {
    const verdict = verifyDistribution(input({ bytes: Buffer.from('a wheel someone else built') }), trust);
    expect(failures(verdict)).toEqual(['provenance:E_ATTESTATION_SUBJECT']);
    expect(verdict.results.find((r) => r.check === 'provenance')!.message).toContain('sha256');
  });

  it.each([
    ['another tag', 'foo_bar-1.0-cp312-cp312-manylinux_2_17_x86_64.whl'],
    ['an sdist name', 'foo_bar-1.0.tar.gz'],
    ['a build tag', 'foo_bar-1.0-1-py3-none-any.whl'],
  ])('the attested bytes renamed to %s: E_ATTESTATION_SUBJECT (name)', (_, filename) => {
    expect(failures(verifyDistribution(input({ filename }), trust))).toEqual(['provenance:E_ATTESTATION_SUBJECT']);
  });

  it('the attested bytes renamed to another version, claimed as that version: E_ATTESTATION_SUBJECT', () => {
    expect(failures(verifyDistribution(input({ filename: 'foo_bar-1.1-py3-none-any.whl', version: '1.1' }), trust))).toEqual(['provenance:E_ATTESTATION_SUBJECT']);
  });

  it('a file of another version than the one asked for: E_DIST_NAME', () => {
    const verdict = verifyDistribution(input({ version: '2.0' }), trust);
    expect(failures(verdict)).toEqual(['filename:E_DIST_NAME']);
    expect(verdict.status).toBe('failed');
  });

  it('a file of another project: E_DIST_NAME', () => {
    expect(failures(verifyDistribution(input({ project: 'foo-baz' }), trust))).toEqual(['filename:E_DIST_NAME']);
  });

  it('a name that is no distribution file name: E_DIST_NAME', () => {
    expect(failures(verifyDistribution(input({ filename: 'foo_bar-1.0.egg' }), trust))).toEqual(['filename:E_DIST_NAME']);
  });
});

describe('PEP 740: altered', () => {
  const flip = (field: 'statement' | 'signature', at: number) => {
    const copy = structuredClone(attestation) as { envelope: Record<string, string> };
    const bytes = Buffer.from(copy.envelope[field]!, 'base64');
    bytes[at]! ^= 1;
    copy.envelope[field] = bytes.toString('base64');
    return copy;
  };

  it.each([
    ['statement', 30],
    ['signature', 20],
  ] as const)('one flipped bit in the %s: E_PROVENANCE_INVALID', (field, at) => {
    expect(failures(verifyDistribution(input({ attestations: one(flip(field, at)) }), trust))).toEqual(['provenance:E_PROVENANCE_INVALID']);
  });

  it('an attestation of another Sigstore instance (a staging certificate against the public-good root): E_PROVENANCE_INVALID', async () => {
    const foreign = await signAttestation(other, IDENTITY, distStatement(WHEEL, BYTES));
    expect(failures(verifyDistribution(input({ attestations: one(foreign) }), trust))).toEqual(['provenance:E_PROVENANCE_INVALID']);
  });

  it.each([
    ['another predicate type', { predicateType: 'https://slsa.dev/provenance/v0.2' }, 'E_ATTESTATION_PREDICATE'],
    ['two subjects', { subject: [{ name: WHEEL, digest: { sha256: '00'.repeat(32) } }, { name: 'evil-1.0-py3-none-any.whl', digest: { sha256: '00'.repeat(32) } }] }, 'E_ATTESTATION_SUBJECT'],
    ['an unparsable subject name', { subject: [{ name: 'not a file', digest: { sha256: '00'.repeat(32) } }] }, 'E_ATTESTATION_SUBJECT'],
    ['an in-toto statement v0.1', { _type: 'https://in-toto.io/Statement/v0.1' }, 'E_ATTESTATION_MALFORMED'],
  ])('a validly signed statement with %s: %s', async (_, change, code) => {
    const signed = await signAttestation(sigstore, IDENTITY, { ...distStatement(WHEEL, BYTES), ...change });
    expect(failures(verifyDistribution(input({ attestations: one(signed) }), trust))).toEqual([`provenance:${code}`]);
  });
});

describe('PEP 740: dressed up', () => {
  it('a provenance object whose unsigned publisher names the pinned repository does not make another signer the publisher', async () => {
    const impostor = await signAttestation(sigstore, { ...IDENTITY, repository: 'mallory/foo-bar' }, distStatement(WHEEL, BYTES));
    const evidence = provenanceEvidence(provenanceObject([impostor], { kind: 'GitHub', repository: 'acme/foo-bar', workflow: 'release.yml', environment: 'pypi' }), 'provenance');
    if (!Array.isArray(evidence)) throw new Error(evidence.message);
    const verdict = verifyDistribution(input({ attestations: evidence }), trust);
    expect(failures(verdict)).toEqual(['identity:E_IDENTITY_MISMATCH']);
    expect(verdict.results.find((r) => r.check === 'identity')!.evidence.mismatch).toMatchObject({ field: 'repository', found: 'https://github.com/mallory/foo-bar' });
    // and without a pin, the claim does not make the verdict verified
    expect(verifyDistribution(input({ attestations: evidence, expectedPublisher: undefined, provenanceExpected: false }), trust).status).toBe('unpinned');
  });

  it('a message-signature bundle over the file is not an attestation: E_ATTESTATION_MALFORMED', async () => {
    const token = identityToken(IDENTITY);
    const builder = new MessageSignatureBundleBuilder({
      signer: new FulcioSigner({ fulcioBaseURL: sigstore.url, identityProvider: { getToken: async () => token }, timeout: 10_000, retry: false }),
      witnesses: [new RekorWitness({ rekorBaseURL: sigstore.url, timeout: 10_000, retry: false })],
    });
    const bundle = bundleToJSON(await builder.create({ data: BYTES }));
    expect(failures(verifyDistribution(input({ attestations: one(bundle) }), trust))).toEqual(['provenance:E_ATTESTATION_MALFORMED']);
    const inProvenance = provenanceEvidence(provenanceObject([bundle]), 'provenance');
    if (!Array.isArray(inProvenance)) throw new Error(inProvenance.message);
    expect(failures(verifyDistribution(input({ attestations: inProvenance }), trust))).toEqual(['provenance:E_ATTESTATION_MALFORMED']);
  });

  it('a Sigstore DSSE bundle in place of the attestation object is refused too', async () => {
    const bundle = await sigstore.signStatement(distStatement(WHEEL, BYTES), IDENTITY);
    expect(failures(verifyDistribution(input({ attestations: one(bundle) }), trust))).toEqual(['provenance:E_ATTESTATION_MALFORMED']);
  });

  it.each([
    ['version 2', (a: any) => ({ ...a, version: 2 })],
    ['no envelope', (a: any) => ({ ...a, envelope: undefined })],
    ['a certificate that is not base64', (a: any) => ({ ...a, verification_material: { ...a.verification_material, certificate: 'not base64!' } })],
    ['no transparency entries', (a: any) => ({ ...a, verification_material: { ...a.verification_material, transparency_entries: [] } })],
    ['thousands of transparency entries', (a: any) => ({ ...a, verification_material: { ...a.verification_material, transparency_entries: Array(5000).fill(a.verification_material.transparency_entries[0]) } })],
    ['an array', () => []],
  ])('an attestation with %s: E_ATTESTATION_MALFORMED', (_, change) => {
    expect(failures(verifyDistribution(input({ attestations: one(change(structuredClone(attestation))) }), trust))).toEqual(['provenance:E_ATTESTATION_MALFORMED']);
  });

  it('more attestations than any file has are refused, not checked one by one', () => {
    const many = Array.from({ length: MAX_ATTESTATIONS + 1 }, () => ({ attestation, source: 'many' }));
    expect(failures(verifyDistribution(input({ attestations: many }), trust))).toEqual(['provenance:E_ATTESTATION_MALFORMED']);
    const result = provenanceEvidence({ version: 1, attestation_bundles: [{ publisher: {}, attestations: many.map((m) => m.attestation) }] }, 'provenance');
    expect(result).toMatchObject({ status: 'fail', code: 'E_ATTESTATION_MALFORMED' });
  });

  it.each([
    ['version 2', { version: 2, attestation_bundles: [] }],
    ['no attestation bundles', { version: 1, attestation_bundles: [] }],
    ['a bundle without attestations', { version: 1, attestation_bundles: [{ publisher: {} }] }],
    ['a list', []],
  ])('a provenance object with %s: E_ATTESTATION_MALFORMED', (_, value) => {
    expect(provenanceEvidence(value, 'provenance')).toMatchObject({ status: 'fail', code: 'E_ATTESTATION_MALFORMED' });
  });
});
