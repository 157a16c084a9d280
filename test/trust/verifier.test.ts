/**
 * The verifier against bundles signed at test time by a mock Sigstore
 * (Fulcio, Rekor, TSA on 127.0.0.1): real signatures, real @sigstore/verify,
 * one attack per test, each asserting the code it must produce.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryKey as TrustKey } from '../../src/trust/roots.js';
import { NPM_PUBLISH_PREDICATE } from '../../src/trust/provenance.js';
import { createTrustMaterial } from '../../src/trust/sigstore.js';
import { verifyPackage, type TrustContext, type VerifyInput } from '../../src/trust/verifier.js';
import { verifyTarball } from '../../src/verify.js';
import { npmDriver, removeDir, tempDir, writeEntry } from '../helpers/index-data.js';
import { createRegistryKey, keysResponse, signForRegistry, startMockSigstore, type GithubIdentity, type MockSigstore, type RegistryKey } from '../helpers/mock-sigstore.js';
import { makePackage } from '../helpers/tarball.js';

const SLSA_V1 = 'https://slsa.dev/provenance/v1';
const ACTIONS = 'https://token.actions.githubusercontent.com';
const NAME = 'mcs-driver-csv';
const VERSION = '1.0.0';
const IDENTITY: GithubIdentity = { repository: 'acme/mcs-driver-csv', ref: 'refs/tags/v1.0.0', workflow: '.github/workflows/release.yml' };
const EXPECTED = { issuer: ACTIONS, repository: 'https://github.com/acme/mcs-driver-csv', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*' };

let sigstore: MockSigstore;
let otherSigstore: MockSigstore;
let registryKey: RegistryKey;
let tarball: Buffer;
let sha512: string;
let integrity: string;
let provenance: Record<string, unknown>;
let publish: Record<string, unknown>;
let context: TrustContext;

function statement(predicateType: string, subject = { name: NAME, version: VERSION }, digest = () => sha512): object {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: `pkg:npm/${subject.name}@${subject.version}`, digest: { sha512: digest() } }],
    predicateType,
    predicate: predicateType === SLSA_V1 ? { buildDefinition: { buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1' }, runDetails: {} } : { name: subject.name, version: subject.version, registry: 'https://registry.npmjs.org' },
  };
}

function attestationsOf(provenanceBundle?: unknown, publishBundle?: unknown): unknown {
  return {
    attestations: [
      ...(provenanceBundle ? [{ predicateType: SLSA_V1, bundle: provenanceBundle }] : []),
      ...(publishBundle ? [{ predicateType: NPM_PUBLISH_PREDICATE, bundle: publishBundle }] : []),
    ],
  };
}

function trustKey(key: RegistryKey, window: Partial<Pick<TrustKey, 'validFrom' | 'validUntil'>> = {}): TrustKey {
  return { keyid: key.keyid, publicKey: Buffer.from(key.publicKeyBase64, 'base64'), usage: 'any', ...window };
}

function verify(extra: Partial<VerifyInput> = {}, trust: TrustContext = context) {
  return verifyPackage({ name: NAME, version: VERSION, bytes: tarball, attestations: attestationsOf(provenance, publish), provenanceExpected: true, expectedIdentity: EXPECTED, ...extra }, trust);
}

function failures(verdict: ReturnType<typeof verify>): string[] {
  return verdict.results.filter((r) => r.status === 'fail').map((r) => `${r.check}:${r.code}`);
}

beforeAll(async () => {
  [sigstore, otherSigstore] = await Promise.all([startMockSigstore(), startMockSigstore()]);
  registryKey = createRegistryKey();
  tarball = makePackage({ name: NAME, version: VERSION, type: 'module', main: 'index.js' }, { 'index.js': 'export default class CsvDriver {}\n' });
  sha512 = createHash('sha512').update(tarball).digest('hex');
  integrity = `sha512-${Buffer.from(sha512, 'hex').toString('base64')}`;
  [provenance, publish] = await Promise.all([sigstore.signStatement(statement(SLSA_V1), IDENTITY), sigstore.signStatementWithKey(statement(NPM_PUBLISH_PREDICATE), registryKey)]);
  context = { trustMaterial: createTrustMaterial(sigstore.trustedRoot, [trustKey(registryKey)]), registryKeys: [trustKey(registryKey)], roots: { trustedRoot: 'mock', registryKeys: 'mock' } };
});

afterAll(async () => {
  await Promise.all([sigstore?.close(), otherSigstore?.close()]);
});

describe('a package signed as pinned', () => {
  it('verifies: integrity, manifest, provenance, identity and publish attestation all pass', () => {
    const verdict = verify({ pinned: { integrity, size: tarball.length }, registry: { integrity, signatures: [signForRegistry(registryKey, NAME, VERSION, integrity)], publishedAt: new Date() } });
    expect(failures(verdict)).toEqual([]);
    expect(verdict.status).toBe('verified');
    expect(verdict.results.map((r) => `${r.check}:${r.status}`)).toEqual(['integrity:pass', 'size:pass', 'manifest:pass', 'registry-signature:pass', 'provenance:pass', 'identity:pass', 'publish-attestation:pass']);
  });
});

describe('identity: valid provenance from the wrong place', () => {
  it.each<[string, Partial<GithubIdentity>, string]>([
    ['another repository', { repository: 'mallory/mcs-driver-csv' }, 'repository'],
    ['another workflow', { workflow: '.github/workflows/ci.yml' }, 'workflow'],
    ['another ref', { ref: 'refs/heads/main' }, 'ref'],
    ['another issuer', { issuer: 'https://gitlab.example.invalid' }, 'issuer'],
    ['a self-hosted runner', { runnerEnvironment: 'self-hosted' }, 'runner'],
  ])('refuses %s', async (_, change, field) => {
    const bundle = await sigstore.signStatement(statement(SLSA_V1), { ...IDENTITY, ...change });
    const verdict = verify({ attestations: attestationsOf(bundle, publish) });
    expect(failures(verdict)).toEqual(['identity:E_IDENTITY_MISMATCH']);
    expect((verdict.results.find((r) => r.check === 'identity')!.evidence.mismatch as { field: string }).field).toBe(field);
  });

  it('does not let a repository name extend the pinned one (acme/mcs-driver-csv-evil)', async () => {
    const bundle = await sigstore.signStatement(statement(SLSA_V1), { ...IDENTITY, repository: 'acme/mcs-driver-csv-evil' });
    expect(failures(verify({ attestations: attestationsOf(bundle, publish) }))).toEqual(['identity:E_IDENTITY_MISMATCH']);
  });
});

describe('provenance that is not what it claims', () => {
  it('refuses a certificate from a CA outside the trusted root', async () => {
    const bundle = await otherSigstore.signStatement(statement(SLSA_V1), IDENTITY);
    expect(failures(verify({ attestations: attestationsOf(bundle, publish) }))).toEqual(['provenance:E_PROVENANCE_INVALID']);
  });

  it('refuses a flipped signature', () => {
    const tampered = structuredClone(provenance) as { dsseEnvelope: { signatures: Array<{ sig: string }> } };
    const sig = Buffer.from(tampered.dsseEnvelope.signatures[0]!.sig, 'base64');
    sig[sig.length - 5]! ^= 0x01;
    tampered.dsseEnvelope.signatures[0]!.sig = sig.toString('base64');
    expect(failures(verify({ attestations: attestationsOf(tampered, publish) }))).toEqual(['provenance:E_PROVENANCE_INVALID']);
  });

  it('refuses an envelope without signatures', () => {
    const unsigned = structuredClone(provenance) as { dsseEnvelope: { signatures: unknown[] } };
    unsigned.dsseEnvelope.signatures = [];
    const [failure] = failures(verify({ attestations: attestationsOf(unsigned, publish) }));
    expect(['provenance:E_ATTESTATION_MALFORMED', 'provenance:E_PROVENANCE_INVALID']).toContain(failure);
  });

  it('refuses a statement of another predicate type', async () => {
    const bundle = await sigstore.signStatement(statement('https://example.invalid/attestation/v1'), IDENTITY);
    expect(failures(verify({ attestations: attestationsOf(bundle, publish) }))).toEqual(['provenance:E_ATTESTATION_PREDICATE']);
  });

  it('refuses a bundle made for another version (replay)', async () => {
    const bundle = await sigstore.signStatement(statement(SLSA_V1, { name: NAME, version: '0.9.0' }), IDENTITY);
    expect(failures(verify({ attestations: attestationsOf(bundle, publish) }))).toEqual(['provenance:E_ATTESTATION_SUBJECT']);
  });

  it('refuses a statement whose digest is not the tarball', async () => {
    const bundle = await sigstore.signStatement(statement(SLSA_V1, undefined, () => 'ab'.repeat(64)), IDENTITY);
    expect(failures(verify({ attestations: attestationsOf(bundle, publish) }))).toEqual(['provenance:E_ATTESTATION_SUBJECT']);
  });

  it('fails when the index expects provenance and it was stripped', () => {
    expect(failures(verify({ attestations: attestationsOf(undefined, publish) }))).toEqual(['provenance:E_PROVENANCE_MISSING']);
    expect(failures(verify({ attestations: undefined }))).toEqual(['provenance:E_PROVENANCE_MISSING']);
  });

  it('fails when provenance is present but the publish attestation was stripped', () => {
    expect(failures(verify({ attestations: attestationsOf(provenance, undefined) }))).toEqual(['publish-attestation:E_PUBLISH_ATTESTATION_MISSING']);
  });

  it('refuses a bundle padded with thousands of log entries before the library spends time on it', () => {
    const padded = structuredClone(provenance) as { verificationMaterial: { tlogEntries: unknown[] } };
    const entry = padded.verificationMaterial.tlogEntries[0];
    padded.verificationMaterial.tlogEntries = Array.from({ length: 4000 }, () => entry);
    const started = Date.now();
    expect(failures(verify({ attestations: attestationsOf(padded, publish) }))).toEqual(['provenance:E_ATTESTATION_MALFORMED']);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses malformed or ambiguous attestation documents', () => {
    expect(failures(verify({ attestations: { attestations: 'nope' } }))).toEqual(['provenance:E_ATTESTATION_MALFORMED']);
    const twice = { attestations: [{ predicateType: SLSA_V1, bundle: provenance }, { predicateType: SLSA_V1, bundle: provenance }] };
    expect(failures(verify({ attestations: twice }))).toEqual(['provenance:E_ATTESTATION_MALFORMED']);
    expect(failures(verify({ attestations: attestationsOf({ mediaType: 'garbage' }, publish) }))).toEqual(['provenance:E_ATTESTATION_MALFORMED']);
  });
});

describe('trust roots', () => {
  it('refuses a trusted root whose log key validity has no start (it would trust the key for all of the past)', () => {
    const root = structuredClone(sigstore.trustedRoot) as { tlogs: Array<{ publicKey: { validFor: { start?: string } } }> };
    delete root.tlogs[0]!.publicKey.validFor.start;
    expect(() => createTrustMaterial(root as unknown as Record<string, unknown>, [])).toThrowWithCode('E_TRUST_ROOT');
  });

  it('refuses a trusted root that is not one', () => {
    expect(() => createTrustMaterial({ tlogs: 'nope' }, [])).toThrowWithCode('E_TRUST_ROOT');
  });
});

describe('the publish attestation and registry signatures', () => {
  it('refuses a publish attestation signed with a key the registry does not have', async () => {
    const bundle = await sigstore.signStatementWithKey(statement(NPM_PUBLISH_PREDICATE), createRegistryKey());
    expect(failures(verify({ attestations: attestationsOf(provenance, bundle) }))).toEqual(['publish-attestation:E_PUBLISH_ATTESTATION_INVALID']);
  });

  it('refuses a publish attestation by a key that had expired when it was logged', () => {
    const expired = { ...context, trustMaterial: createTrustMaterial(sigstore.trustedRoot, [trustKey(registryKey, { validUntil: new Date(Date.now() - 3_600_000) })]) };
    expect(failures(verify({}, expired))).toEqual(['publish-attestation:E_PUBLISH_ATTESTATION_INVALID']);
  });

  it('checks dist.signatures: missing, unknown key, expired key, other message', () => {
    const registry = (signatures: unknown, keys = context.registryKeys) => failures(verify({ registry: { integrity, signatures, publishedAt: new Date() } }, { ...context, registryKeys: keys }));
    const good = [signForRegistry(registryKey, NAME, VERSION, integrity)];
    expect(registry(undefined)).toEqual(['registry-signature:E_SIGNATURE_MISSING']);
    expect(registry([signForRegistry(createRegistryKey(), NAME, VERSION, integrity)])).toEqual(['registry-signature:E_SIGNATURE_KEY_UNKNOWN']);
    expect(registry(good, [trustKey(registryKey, { validUntil: new Date(Date.now() - 60_000) })])).toEqual(['registry-signature:E_SIGNATURE_KEY_EXPIRED']);
    expect(registry([signForRegistry(registryKey, NAME, '1.0.1', integrity)])).toEqual(['registry-signature:E_SIGNATURE_INVALID']);
  });

  it('judges key validity by the transparency log time, not a publish time the registry backdates', () => {
    const expiredAMinuteAgo = [trustKey(registryKey, { validUntil: new Date(Date.now() - 60_000) })];
    const verdict = verify({ registry: { integrity, signatures: [signForRegistry(registryKey, NAME, VERSION, integrity)], publishedAt: new Date('2020-01-01T00:00:00Z') } }, { ...context, registryKeys: expiredAMinuteAgo });
    expect(failures(verdict)).toEqual(['registry-signature:E_SIGNATURE_KEY_EXPIRED']);
    expect(verdict.publishedAtSource).toBe('transparency log');
  });

  it('still checks signatures when the registry gives no publish time, and cannot vouch for an expiring key then', () => {
    const signatures = [signForRegistry(registryKey, NAME, VERSION, integrity)];
    const noTime = { attestations: undefined, provenanceExpected: false, expectedIdentity: undefined, registry: { integrity, signatures } };
    expect(failures(verify(noTime, { ...context, registryKeys: [trustKey(registryKey, { validUntil: new Date(Date.now() + 3_600_000) })] }))).toEqual(['registry-signature:E_SIGNATURE_KEY_EXPIRED']);
    expect(verify(noTime).results.find((r) => r.check === 'registry-signature')!.status).toBe('pass');
    expect(failures(verify({ ...noTime, registry: { integrity, signatures: undefined } }))).toEqual(['registry-signature:E_SIGNATURE_MISSING']);
  });

  it('refuses when the index pin and the registry disagree', () => {
    const other = `sha512-${Buffer.alloc(64, 9).toString('base64')}`;
    expect(failures(verify({ pinned: { integrity }, registry: { integrity: other, signatures: [signForRegistry(registryKey, NAME, VERSION, other)], publishedAt: new Date() } }))).toEqual([
      'integrity:E_INTEGRITY_MISMATCH',
    ]);
  });
});

describe('verifyTarball takes the expected publisher and the pins from the index', () => {
  let dir: string;
  let files: { tarball: string; attestations: string; stripped: string; trustedRoot: string; registryKeys: string };

  beforeAll(() => {
    dir = tempDir('mcs-verify-index-');
    files = {
      tarball: join(dir, 'pkg.tgz'),
      attestations: join(dir, 'attestations.json'),
      stripped: join(dir, 'stripped.json'),
      trustedRoot: join(dir, 'trusted_root.json'),
      registryKeys: join(dir, 'keys.json'),
    };
    writeFileSync(files.tarball, tarball);
    writeFileSync(files.attestations, JSON.stringify(attestationsOf(provenance, publish)));
    writeFileSync(files.stripped, JSON.stringify({ attestations: [] }));
    writeFileSync(files.trustedRoot, JSON.stringify(sigstore.trustedRoot));
    writeFileSync(files.registryKeys, JSON.stringify(keysResponse([{ key: registryKey }])));
  });
  afterAll(() => removeDir(dir));

  function indexPinning(repository: string): { indexDir: string; cacheDir: string } {
    const indexDir = tempDir('mcs-verify-idx-');
    writeEntry(indexDir, npmDriver(NAME, {
      label: { value: 'verified', by: 'test', at: '2026-01-01T00:00:00Z', reason: 'fixture' },
      trust: { repository, publisher: { ...EXPECTED, repository } },
      versions: { [VERSION]: { integrity, size: tarball.length, provenance: true } },
    }));
    return { indexDir, cacheDir: join(indexDir, '.cache') };
  }

  it('verifies against the pinned publisher', async () => {
    const verdict = await verifyTarball({ tarball: files.tarball, attestations: files.attestations, package: `${NAME}@${VERSION}`, trustedRoot: files.trustedRoot, registryKeys: files.registryKeys, index: indexPinning(EXPECTED.repository) });
    expect(verdict).toMatchObject({ status: 'verified', identitySource: 'index', indexed: { package: true, version: true } });
    expect(verdict.results.find((r) => r.check === 'integrity')!.status).toBe('pass');
  });

  it('catches a publish from another repository than the one the index pins', async () => {
    const verdict = await verifyTarball({ tarball: files.tarball, attestations: files.attestations, package: `${NAME}@${VERSION}`, trustedRoot: files.trustedRoot, registryKeys: files.registryKeys, index: indexPinning('https://github.com/acme/other-driver') });
    expect(verdict.status).toBe('failed');
    expect(failures(verdict)).toEqual(['identity:E_IDENTITY_MISMATCH', 'policy:E_PROVENANCE_DOWNGRADE']);
  });

  it('adds the trust policy rules when a policy file is given', async () => {
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ labels: ['verified'] }));
    const accepted = await verifyTarball({ tarball: files.tarball, attestations: files.attestations, package: `${NAME}@${VERSION}`, trustedRoot: files.trustedRoot, registryKeys: files.registryKeys, policy: policyFile, index: indexPinning(EXPECTED.repository) });
    expect(accepted.status).toBe('verified');
    expect(accepted.results.filter((r) => r.check === 'policy').length).toBeGreaterThan(0);
    writeFileSync(policyFile, JSON.stringify({ labels: ['verified'], minReleaseAgeDays: 3 }));
    const young = await verifyTarball({ tarball: files.tarball, attestations: files.attestations, package: `${NAME}@${VERSION}`, trustedRoot: files.trustedRoot, registryKeys: files.registryKeys, policy: policyFile, index: indexPinning(EXPECTED.repository) });
    expect(young.status).toBe('failed');
    expect(failures(young)).toEqual(['policy:E_POLICY_RELEASE_AGE']);
    writeFileSync(policyFile, JSON.stringify({ labels: ['trusted'] }));
    await expect(verifyTarball({ tarball: files.tarball, package: `${NAME}@${VERSION}`, policy: policyFile, index: indexPinning(EXPECTED.repository) })).rejects.toThrowWithCode('E_SCHEMA');
  });

  it('fails a version the index pins with provenance when the attestations were stripped', async () => {
    const verdict = await verifyTarball({ tarball: files.tarball, attestations: files.stripped, package: `${NAME}@${VERSION}`, trustedRoot: files.trustedRoot, registryKeys: files.registryKeys, index: indexPinning(EXPECTED.repository) });
    expect(failures(verdict)).toEqual(['provenance:E_PROVENANCE_MISSING']);
  });
});
