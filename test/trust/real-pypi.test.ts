/**
 * Offline PEP 740 verification of real PyPI distributions with the
 * attestations PyPI served for them (../shared/real-pypi), against the
 * public-good trusted root @sigstore/tuf ships and the Sigstore staging
 * root: no network.
 */
import { describe, expect, it } from 'vitest';
import { embeddedTrustedRoot } from '../../src/trust/roots.js';
import { provenanceEvidence, verifyDistribution, type DistributionInput, type DistributionTrust } from '../../src/trust/pep740.js';
import { createTrustMaterial } from '../../src/trust/sigstore.js';
import { HAVE_REAL_PYPI, realPypi, realPypiJson } from '../helpers/real-pypi.js';

const SDIST = 'pypi_attestations-0.0.19.tar.gz';
const WHEEL = 'rfc8785-0.1.2-py3-none-any.whl';
const PUBLISHER = { issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/trailofbits/pypi-attestations', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v0.0.19' };

function trustFrom(json: Record<string, unknown>, source: string): DistributionTrust {
  return { trustMaterial: createTrustMaterial(json), roots: { trustedRoot: source, registryKeys: 'none' } };
}

const failures = (verdict: { results: Array<{ status: string; check: string; code?: string }> }) => verdict.results.filter((r) => r.status === 'fail').map((r) => `${r.check}:${r.code}`);

describe.skipIf(!HAVE_REAL_PYPI)('real PyPI attestations, offline', () => {
  const publicGood = HAVE_REAL_PYPI ? trustFrom(embeddedTrustedRoot().json, 'public-good') : (undefined as never);
  const staging = HAVE_REAL_PYPI ? trustFrom(realPypiJson('staging.trusted_root.json') as Record<string, unknown>, 'staging') : (undefined as never);
  const sdist = (extra: Partial<DistributionInput> = {}): DistributionInput => ({
    project: 'pypi-attestations',
    version: '0.0.19',
    filename: SDIST,
    bytes: realPypi(SDIST),
    attestations: [{ attestation: realPypiJson(`${SDIST}.publish.attestation`), source: 'publish' }],
    provenanceExpected: true,
    expectedPublisher: PUBLISHER,
    ...extra,
  });

  it('the sdist and its publish attestation verify against the shipped public-good root with the pinned GitHub publisher', () => {
    const verdict = verifyDistribution(sdist(), publicGood);
    expect(failures(verdict)).toEqual([]);
    expect(verdict.status).toBe('verified');
    expect(verdict.sha256).toBe('9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3');
  });

  it('the provenance object verifies the same way, its publisher field kept as an unsigned claim', () => {
    const evidence = provenanceEvidence(realPypiJson(`${SDIST}.provenance`), 'provenance');
    if (!Array.isArray(evidence)) throw new Error(evidence.message);
    const verdict = verifyDistribution(sdist({ attestations: evidence }), publicGood);
    expect(verdict.status).toBe('verified');
    expect(verdict.results.find((r) => r.check === 'provenance')!.evidence).toMatchObject({ claimedPublisher: { kind: 'GitHub', repository: 'trailofbits/pypi-attestations' }, claimedPublisherNote: expect.stringContaining('unsigned') });
  });

  it('a ref pattern matches the release tags', () => {
    expect(verifyDistribution(sdist({ expectedPublisher: { ...PUBLISHER, ref: 'refs/tags/v*' } }), publicGood).status).toBe('verified');
  });

  it.each([
    ['repository', { repository: 'https://github.com/trailofbits/pypi-attestations-fork' }],
    ['workflow', { workflow: '.github/workflows/publish.yml' }],
    ['ref', { ref: 'refs/tags/v0.0.18' }],
  ])('another %s is E_IDENTITY_MISMATCH', (field, change) => {
    const verdict = verifyDistribution(sdist({ expectedPublisher: { ...PUBLISHER, ...change } }), publicGood);
    expect(failures(verdict)).toEqual(['identity:E_IDENTITY_MISMATCH']);
    expect(verdict.results.find((r) => r.check === 'identity')!.evidence.mismatch).toMatchObject({ field });
  });

  it('other bytes under the same file name are E_ATTESTATION_SUBJECT', () => {
    const bytes = Buffer.from(realPypi(SDIST));
    bytes[bytes.length - 1]! ^= 1;
    expect(failures(verifyDistribution(sdist({ bytes }), publicGood))).toEqual(['provenance:E_ATTESTATION_SUBJECT']);
  });

  it('the same bytes under another version are refused by name', () => {
    expect(failures(verifyDistribution(sdist({ filename: 'pypi_attestations-0.0.20.tar.gz', version: '0.0.20' }), publicGood))).toEqual(['provenance:E_ATTESTATION_SUBJECT']);
    expect(failures(verifyDistribution(sdist({ version: '0.0.20' }), publicGood))).toContain('filename:E_DIST_NAME');
  });

  it('one flipped bit in the signed statement fails verification', () => {
    const attestation = structuredClone(realPypiJson(`${SDIST}.publish.attestation`)) as { envelope: { statement: string } };
    const statement = Buffer.from(attestation.envelope.statement, 'base64');
    statement[40]! ^= 1;
    attestation.envelope.statement = statement.toString('base64');
    expect(failures(verifyDistribution(sdist({ attestations: [{ attestation, source: 'flipped' }] }), publicGood))).toEqual(['provenance:E_PROVENANCE_INVALID']);
  });

  it('the rfc8785 wheel verifies with the staging root only: its staging certificate fails against public-good', () => {
    const wheel: DistributionInput = {
      project: 'rfc8785',
      version: '0.1.2',
      filename: WHEEL,
      bytes: realPypi(WHEEL),
      attestations: [{ attestation: realPypiJson(`${WHEEL}.publish.attestation`), source: 'publish' }],
      provenanceExpected: true,
      expectedPublisher: { kind: 'certificate', subjectAlternativeName: 'william@yossarian.net', issuer: 'https://github.com/login/oauth' },
    };
    expect(verifyDistribution(wheel, staging).status).toBe('verified');
    expect(failures(verifyDistribution(wheel, publicGood))).toEqual(['provenance:E_PROVENANCE_INVALID']);
  });

  it('an e-mail identity is not a GitHub Trusted Publisher', () => {
    const wheel: DistributionInput = { project: 'rfc8785', version: '0.1.2', filename: WHEEL, bytes: realPypi(WHEEL), attestations: [{ attestation: realPypiJson(`${WHEEL}.publish.attestation`), source: 'publish' }], provenanceExpected: true, expectedPublisher: { ...PUBLISHER, repository: 'https://github.com/trailofbits/rfc8785.py', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*' } };
    expect(failures(verifyDistribution(wheel, staging))).toEqual(['identity:E_IDENTITY_MISMATCH']);
  });
});
