/**
 * Offline verification of real packages with the attestations the npm
 * registry served for them, against the public-good trusted root and npm's
 * keys as shipped in @sigstore/tuf's seeds: no network.
 */
import { describe, expect, it } from 'vitest';
import { embeddedRegistryKeys, embeddedTrustedRoot, parseRegistryKeys } from '../../src/trust/roots.js';
import { checkRegistrySignature } from '../../src/trust/signatures.js';
import { createTrustMaterial } from '../../src/trust/sigstore.js';
import { verifyPackage, type TrustContext, type VerifyInput } from '../../src/trust/verifier.js';
import { HAVE_REAL_NPM, realNpm, realNpmJson } from '../helpers/real-npm.js';

const ACTIONS = 'https://token.actions.githubusercontent.com';

function trust(): TrustContext {
  const root = embeddedTrustedRoot();
  const keys = embeddedRegistryKeys();
  return { trustMaterial: createTrustMaterial(root.json, keys.keys), registryKeys: keys.keys, roots: { trustedRoot: root.source, registryKeys: keys.source } };
}

function input(name: string, version: string, tarball: string, attestations: string, extra: Partial<VerifyInput> = {}): VerifyInput {
  return { name, version, bytes: realNpm(tarball), attestations: realNpmJson(attestations), provenanceExpected: true, ...extra };
}

function failures(verdict: { results: Array<{ status: string; check: string; code?: string }> }): string[] {
  return verdict.results.filter((r) => r.status === 'fail').map((r) => `${r.check}:${r.code}`);
}

describe.skipIf(!HAVE_REAL_NPM)('real npm attestations, offline', () => {
  const context = HAVE_REAL_NPM ? trust() : (undefined as never);

  it.each([
    ['sigstore', '1.0.0', 'sigstore-1.0.0.tgz', 'sigstore-1.0.0.attestations.json', 'https://github.com/sigstore/sigstore-js'],
    ['tuf-js', '1.0.0', 'tuf-js-1.0.0.tgz', 'tuf-js-1.0.0.attestations.json', 'https://github.com/theupdateframework/tuf-js'],
    ['sigstore', '0.4.0', 'sigstore-0.4.0.tgz', 'sigstore-0.4.0.attestations.json', 'https://github.com/sigstore/sigstore-js'],
    ['@playwright/cli', '0.1.1', 'playwright-cli-0.1.1.tgz', 'playwright-cli-0.1.1.attestations.json', 'https://github.com/microsoft/playwright-cli'],
  ])('%s@%s verifies against its source repository', (name, version, tarball, attestations, repository) => {
    const verdict = verifyPackage(input(name, version, tarball, attestations, { expectedIdentity: { issuer: ACTIONS, repository, workflow: '.github/workflows/publish.yml', ref: 'refs/tags/v*', runner: 'any' } }), context);
    expect(failures(verdict)).toEqual([]);
    expect(verdict.status).toBe('verified');
    expect(verdict.results.map((r) => `${r.check}:${r.status}`)).toEqual(['integrity:skip', 'manifest:pass', 'registry-signature:skip', 'provenance:pass', 'identity:pass', 'publish-attestation:pass']);
  });

  it('reads the new certificate fields of a 2026 certificate, runner included', () => {
    const verdict = verifyPackage(input('@playwright/cli', '0.1.1', 'playwright-cli-0.1.1.tgz', 'playwright-cli-0.1.1.attestations.json', { expectedIdentity: { issuer: ACTIONS, repository: 'https://github.com/microsoft/playwright-cli', ref: 'refs/tags/v0.1.1' } }), context);
    expect(verdict.status).toBe('verified');
    const identity = verdict.results.find((r) => r.check === 'identity')!;
    expect(identity.evidence.observed).toMatchObject({ runner: 'github-hosted', legacy: false, workflow: '.github/workflows/publish.yml', ref: 'refs/tags/v0.1.1' });
  });

  it('refuses valid provenance from another repository', () => {
    const verdict = verifyPackage(input('sigstore', '1.0.0', 'sigstore-1.0.0.tgz', 'sigstore-1.0.0.attestations.json', { expectedIdentity: { issuer: ACTIONS, repository: 'https://github.com/sigstore/sigstore-js-fork', runner: 'any' } }), context);
    expect(verdict.status).toBe('failed');
    expect(failures(verdict)).toEqual(['identity:E_IDENTITY_MISMATCH']);
    expect(verdict.results.find((r) => r.check === 'identity')!.message).toContain('repository: expected https://github.com/sigstore/sigstore-js-fork, got https://github.com/sigstore/sigstore-js');
  });

  it('does not count an unrecorded runner as a hosted one (2023 certificates)', () => {
    const verdict = verifyPackage(input('sigstore', '1.0.0', 'sigstore-1.0.0.tgz', 'sigstore-1.0.0.attestations.json', { expectedIdentity: { issuer: ACTIONS, repository: 'https://github.com/sigstore/sigstore-js' } }), context);
    expect(failures(verdict)).toEqual(['identity:E_IDENTITY_MISMATCH']);
    expect(verdict.results.find((r) => r.check === 'identity')!.evidence.mismatch).toEqual({ field: 'runner', expected: 'github-hosted', found: null });
  });

  it('refuses a workflow or a ref other than the pinned one', () => {
    const workflow = verifyPackage(input('tuf-js', '1.0.0', 'tuf-js-1.0.0.tgz', 'tuf-js-1.0.0.attestations.json', { expectedIdentity: { issuer: ACTIONS, repository: 'https://github.com/theupdateframework/tuf-js', workflow: '.github/workflows/release.yml', runner: 'any' } }), context);
    expect(failures(workflow)).toEqual(['identity:E_IDENTITY_MISMATCH']);
    const ref = verifyPackage(input('tuf-js', '1.0.0', 'tuf-js-1.0.0.tgz', 'tuf-js-1.0.0.attestations.json', { expectedIdentity: { issuer: ACTIONS, repository: 'https://github.com/theupdateframework/tuf-js', ref: 'refs/heads/main', runner: 'any' } }), context);
    expect(failures(ref)).toEqual(['identity:E_IDENTITY_MISMATCH']);
  });

  it('reports unpinned when there is no identity to compare', () => {
    const verdict = verifyPackage(input('sigstore', '1.0.0', 'sigstore-1.0.0.tgz', 'sigstore-1.0.0.attestations.json'), context);
    expect(verdict.status).toBe('unpinned');
  });

  it.each([
    ['sigstore-0.4.0.invalid.attestations.json', ['publish-attestation:E_PUBLISH_ATTESTATION_INVALID']],
    ['sigstore-0.4.0.mismatched-subject-digest.attestations.json', ['publish-attestation:E_PUBLISH_ATTESTATION_INVALID']],
    ['sigstore-0.4.0.no-keyid.attestations.json', ['provenance:E_PROVENANCE_INVALID', 'publish-attestation:E_ATTESTATION_KEYID']],
  ])('fails %s', (attestations, expected) => {
    const verdict = verifyPackage(input('sigstore', '0.4.0', 'sigstore-0.4.0.tgz', attestations), context);
    expect(verdict.status).toBe('failed');
    expect(failures(verdict)).toEqual(expected);
  });

  it('refuses a bundle replayed for another version, and a tarball whose manifest says otherwise', () => {
    const replay = verifyPackage(input('sigstore', '1.0.0', 'sigstore-0.4.0.tgz', 'sigstore-1.0.0.attestations.json'), context);
    expect(failures(replay)).toEqual(['manifest:E_MANIFEST_MISMATCH', 'provenance:E_ATTESTATION_SUBJECT', 'publish-attestation:E_ATTESTATION_SUBJECT']);
  });

  it('refuses a tarball that does not match the index pin', () => {
    const pinned = verifyPackage(input('sigstore', '1.0.0', 'sigstore-1.0.0.tgz', 'sigstore-1.0.0.attestations.json', { pinned: { integrity: 'sha512-' + Buffer.alloc(64, 1).toString('base64'), size: 91196 } }), context);
    expect(failures(pinned)).toEqual(['integrity:E_INTEGRITY_MISMATCH']);
  });

  it('fails a version whose provenance the index expects but which has none', () => {
    const verdict = verifyPackage({ name: 'sigstore', version: '1.0.0', bytes: realNpm('sigstore-1.0.0.tgz'), attestations: { attestations: [] }, provenanceExpected: true }, context);
    expect(failures(verdict)).toEqual(['provenance:E_PROVENANCE_MISSING']);
    const notExpected = verifyPackage({ name: 'sigstore', version: '1.0.0', bytes: realNpm('sigstore-1.0.0.tgz'), provenanceExpected: false }, context);
    expect(notExpected.status).toBe('missing-provenance');
  });
});

describe.skipIf(!HAVE_REAL_NPM)('real npm registry signatures', () => {
  const data = HAVE_REAL_NPM ? (realNpmJson('registry-signatures.json') as { keys_v1_response: unknown; signatures: Array<{ name: string; version: string; integrity: string; keyid: string; sig: string }> }) : (undefined as never);
  const published = new Date('2023-02-09T00:00:00Z');

  it('verifies every signature with the /-/npm/v1/keys answer and with the keys.json target', () => {
    const fromRegistry = parseRegistryKeys(data.keys_v1_response, 'keys_v1_response');
    const fromSeeds = embeddedRegistryKeys().keys;
    expect(data.signatures.length).toBeGreaterThanOrEqual(5);
    for (const s of data.signatures) {
      for (const keys of [fromRegistry, fromSeeds]) {
        const result = checkRegistrySignature({ name: s.name, version: s.version, integrity: s.integrity, signatures: [{ keyid: s.keyid, sig: s.sig }], keys, publishedAt: published });
        expect(result.status, `${s.name}@${s.version}`).toBe('pass');
      }
    }
  });

  it('refuses a key whose dates do not parse, rather than treating it as never expiring', () => {
    expect(() => parseRegistryKeys({ keys: [{ keyid: 'k', key: 'AAAA', expires: 'soon' }] }, 'keys')).toThrowWithCode('E_REGISTRY_KEYS');
    expect(parseRegistryKeys({ keys: [{ keyid: 'k', key: 'AAAA', expires: null }] }, 'keys')[0]!.validUntil).toBeUndefined();
  });

  it('refuses an expired key, a wrong message, an unknown key and a missing signature', () => {
    const s = data.signatures[0]!;
    const keys = embeddedRegistryKeys().keys;
    const base = { name: s.name, version: s.version, integrity: s.integrity, keys, publishedAt: published };
    const sig = [{ keyid: s.keyid, sig: s.sig }];
    expect(checkRegistrySignature({ ...base, signatures: sig, publishedAt: new Date('2026-01-01T00:00:00Z') }).code).toBe('E_SIGNATURE_KEY_EXPIRED');
    expect(checkRegistrySignature({ ...base, version: '9.9.9', signatures: sig }).code).toBe('E_SIGNATURE_INVALID');
    expect(checkRegistrySignature({ ...base, signatures: [{ keyid: 'SHA256:unknown', sig: s.sig }] }).code).toBe('E_SIGNATURE_KEY_UNKNOWN');
    expect(checkRegistrySignature({ ...base, signatures: [] }).code).toBe('E_SIGNATURE_MISSING');
    expect(checkRegistrySignature({ ...base, signatures: 'garbage' }).code).toBe('E_SIGNATURE_MISSING');
  });
});
