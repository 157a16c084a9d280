import { createHash, createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFromJSON } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { PublicKeyDetails, TrustedRoot, type PublicKey } from '@sigstore/protobuf-specs';
import { Verifier, VerificationError, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import {
  createRegistryKey,
  keysResponse,
  signForRegistry,
  startMockSigstore,
  type GithubIdentity,
  type MockSigstore,
  type RegistryKey,
} from './mock-sigstore.js';

const FULCIO_OID = '1.3.6.1.4.1.57264.1.';
const HOUR_MS = 3_600_000;

const identity: GithubIdentity = {
  repository: 'mcs-example/mcs-driver-csv',
  ref: 'refs/tags/v1.2.0',
  workflow: '.github/workflows/release.yml',
};

function provenanceStatement(name: string, version: string): object {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: `pkg:npm/${name}@${version}`, digest: { sha512: 'ab'.repeat(64) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { buildDefinition: {}, runDetails: {} },
  };
}

function publishStatement(name: string, version: string): object {
  return {
    _type: 'https://in-toto.io/Statement/v0.1',
    subject: [{ name: `pkg:npm/${name}@${version}`, digest: { sha512: 'ab'.repeat(64) } }],
    predicateType: 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1',
    predicate: { name, version, registry: 'https://registry.npmjs.org' },
  };
}

function verifyBundle(bundleJSON: unknown, root: Record<string, unknown>, keys?: Record<string, PublicKey>) {
  const trustMaterial = toTrustMaterial(TrustedRoot.fromJSON(root), keys);
  return new Verifier(trustMaterial, {}).verify(toSignedEntity(bundleFromJSON(bundleJSON)));
}

function verificationErrorOf(run: () => unknown): VerificationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(VerificationError);
    return error as VerificationError;
  }
  throw new Error('expected a VerificationError, but verification passed');
}

function leafCertificate(bundleJSON: unknown): X509Certificate {
  const content = bundleFromJSON(bundleJSON).verificationMaterial.content;
  if (content.$case !== 'certificate') throw new Error(`expected a single certificate, got ${content.$case}`);
  return X509Certificate.parse(Buffer.from(content.certificate.rawBytes));
}

/** The text of a Fulcio extension from .1.8 on, whose extnValue is a DER UTF8String. */
function fulcioExtension(cert: X509Certificate, arc: number): string | undefined {
  const ext = cert.extension(FULCIO_OID + arc);
  if (!ext) return undefined;
  const inner = ext.valueObj.subs[0];
  expect(inner?.tag.number).toBe(0x0c);
  return inner?.value.toString('utf8');
}

function registryPublicKey(key: RegistryKey, validFor: { start: Date; end?: Date }): Record<string, PublicKey> {
  return {
    [key.keyid]: {
      rawBytes: Buffer.from(key.publicKeyBase64, 'base64'),
      keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
      validFor,
    },
  };
}

/** The OpenSSH SHA256 fingerprint computed from the SPKI DER bytes (the last 65 bytes of a P-256 SPKI are the uncompressed point). */
function sshFingerprint(spkiBase64: string): string {
  const spki = Buffer.from(spkiBase64, 'base64');
  const field = (bytes: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
  const wire = Buffer.concat([field(Buffer.from('ecdsa-sha2-nistp256')), field(Buffer.from('nistp256')), field(spki.subarray(-65))]);
  return 'SHA256:' + createHash('sha256').update(wire).digest('base64').replace(/=+$/, '');
}

describe('mock sigstore helper', () => {
  let sigstore: MockSigstore;
  let otherSigstore: MockSigstore;

  beforeAll(async () => {
    [sigstore, otherSigstore] = await Promise.all([startMockSigstore(), startMockSigstore()]);
  });

  afterAll(async () => {
    await Promise.all([sigstore?.close(), otherSigstore?.close()]);
  });

  it('serves on loopback and publishes a trusted root whose windows start before now', () => {
    expect(sigstore.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const root = sigstore.trustedRoot as {
      mediaType: string;
      tlogs: Array<{ baseUrl: string; publicKey: { validFor: { start: string } } }>;
      certificateAuthorities: Array<{ validFor: { start: string } }>;
      ctlogs: Array<{ publicKey: { validFor: { start: string } } }>;
      timestampAuthorities: Array<{ validFor: { start: string } }>;
    };
    expect(root.mediaType).toBe('application/vnd.dev.sigstore.trustedroot+json;version=0.1');
    expect(root.tlogs[0]?.baseUrl).toBe(sigstore.url);
    const starts = [
      ...root.tlogs.map((t) => t.publicKey.validFor.start),
      ...root.ctlogs.map((c) => c.publicKey.validFor.start),
      ...root.certificateAuthorities.map((c) => c.validFor.start),
      ...root.timestampAuthorities.map((t) => t.validFor.start),
    ];
    expect(starts).toHaveLength(4);
    for (const start of starts) expect(Date.parse(start)).toBeLessThan(Date.now());
    expect(otherSigstore.trustedRoot).not.toEqual(sigstore.trustedRoot);
  });

  it('signs a statement that the real @sigstore/verify accepts against its trusted root', async () => {
    const statement = provenanceStatement('mcs-driver-csv', '1.2.0');
    const bundle = await sigstore.signStatement(statement, identity);

    const signer = verifyBundle(bundle, sigstore.trustedRoot);

    expect(signer.identity?.subjectAlternativeName)
      .toBe('https://github.com/mcs-example/mcs-driver-csv/.github/workflows/release.yml@refs/tags/v1.2.0');
    expect(signer.identity?.extensions?.issuer).toBe('https://token.actions.githubusercontent.com');
    const parsed = bundleFromJSON(bundle);
    expect(parsed.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(parsed.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(parsed.verificationMaterial.tlogEntries[0]?.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    expect(parsed.verificationMaterial.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1);
    if (parsed.content.$case !== 'dsseEnvelope') throw new Error(`expected a DSSE bundle, got ${parsed.content.$case}`);
    expect(parsed.content.dsseEnvelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(JSON.parse(parsed.content.dsseEnvelope.payload.toString('utf8'))).toEqual(statement);
  });

  it('puts the GitHub identity into the leaf certificate extensions', async () => {
    const custom: GithubIdentity = {
      issuer: 'https://issuer.example.test',
      repository: 'someone/elsewhere',
      ref: 'refs/heads/main',
      workflow: '.github/workflows/publish.yaml',
      runnerEnvironment: 'self-hosted',
      sha: 'c'.repeat(40),
    };
    const [defaults, overridden] = await Promise.all([
      sigstore.signStatement(provenanceStatement('mcs-driver-csv', '1.2.0'), identity),
      sigstore.signStatement(provenanceStatement('mcs-driver-csv', '1.2.0'), custom),
    ]);

    const cert = leafCertificate(defaults);
    expect(fulcioExtension(cert, 12)).toBe('https://github.com/mcs-example/mcs-driver-csv');
    expect(fulcioExtension(cert, 9))
      .toBe('https://github.com/mcs-example/mcs-driver-csv/.github/workflows/release.yml@refs/tags/v1.2.0');
    expect(fulcioExtension(cert, 11)).toBe('github-hosted');
    expect(fulcioExtension(cert, 14)).toBe('refs/tags/v1.2.0');
    expect(fulcioExtension(cert, 8)).toBe('https://token.actions.githubusercontent.com');
    expect(fulcioExtension(cert, 13)).toMatch(/^[0-9a-f]{40}$/);
    expect(cert.extension(FULCIO_OID + 5)?.value.toString('utf8')).toBe('mcs-example/mcs-driver-csv');
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBeLessThanOrEqual(HOUR_MS);

    const customCert = leafCertificate(overridden);
    expect(fulcioExtension(customCert, 8)).toBe('https://issuer.example.test');
    expect(fulcioExtension(customCert, 12)).toBe('https://github.com/someone/elsewhere');
    expect(fulcioExtension(customCert, 9))
      .toBe('https://github.com/someone/elsewhere/.github/workflows/publish.yaml@refs/heads/main');
    expect(fulcioExtension(customCert, 11)).toBe('self-hosted');
    expect(fulcioExtension(customCert, 14)).toBe('refs/heads/main');
    expect(fulcioExtension(customCert, 13)).toBe('c'.repeat(40));
    expect(verifyBundle(overridden, sigstore.trustedRoot).identity?.extensions?.issuer).toBe('https://issuer.example.test');
  });

  it('rejects a bundle against the trusted root of another instance', async () => {
    const bundle = await sigstore.signStatement(provenanceStatement('mcs-driver-csv', '1.2.0'), identity);

    expect(() => verifyBundle(bundle, sigstore.trustedRoot)).not.toThrow();
    expect(verificationErrorOf(() => verifyBundle(bundle, otherSigstore.trustedRoot)).code).toBe('TIMESTAMP_ERROR');
    const onlyCaReplaced = { ...sigstore.trustedRoot, certificateAuthorities: otherSigstore.trustedRoot['certificateAuthorities'] };
    expect(verificationErrorOf(() => verifyBundle(bundle, onlyCaReplaced)).code).toBe('CERTIFICATE_ERROR');
  });

  it('signs a keyed bundle that verifies with the registry key valid at the log time', async () => {
    const key = createRegistryKey();
    const bundle = await sigstore.signStatementWithKey(publishStatement('mcs-driver-csv', '1.2.0'), key);

    const parsed = bundleFromJSON(bundle);
    const material = parsed.verificationMaterial.content;
    if (material.$case !== 'publicKey') throw new Error(`expected a keyed bundle, got ${material.$case}`);
    expect(material.publicKey.hint).toBe(key.keyid);
    if (parsed.content.$case !== 'dsseEnvelope') throw new Error(`expected a DSSE bundle, got ${parsed.content.$case}`);
    expect(parsed.content.dsseEnvelope.signatures.map((s) => s.keyid)).toEqual([key.keyid]);
    expect(parsed.verificationMaterial.tlogEntries).toHaveLength(1);

    const signer = verifyBundle(bundle, sigstore.trustedRoot, registryPublicKey(key, { start: new Date(Date.now() - HOUR_MS) }));
    expect(signer.identity).toBeUndefined();
    expect(signer.key.export({ format: 'der', type: 'spki' }).toString('base64')).toBe(key.publicKeyBase64);
  });

  it('rejects a keyed bundle when the key window ends before the log time, or the key is unknown', async () => {
    const key = createRegistryKey();
    const bundle = await sigstore.signStatementWithKey(publishStatement('mcs-driver-csv', '1.2.0'), key);

    const expired = registryPublicKey(key, { start: new Date(0), end: new Date(Date.now() - HOUR_MS) });
    expect(verificationErrorOf(() => verifyBundle(bundle, sigstore.trustedRoot, expired)).code).toBe('PUBLIC_KEY_ERROR');
    const someoneElse = registryPublicKey(createRegistryKey(), { start: new Date(0) });
    expect(verificationErrorOf(() => verifyBundle(bundle, sigstore.trustedRoot, someoneElse)).code).toBe('PUBLIC_KEY_ERROR');
  });

  it('makes registry signatures that node:crypto verifies with the key from keysResponse', () => {
    const key = createRegistryKey();
    const integrity = 'sha512-' + Buffer.alloc(64, 7).toString('base64');
    const signature = signForRegistry(key, '@mcs-example/mcs-driver-csv', '1.2.0', integrity);

    const answer = keysResponse([{ key }, { key: createRegistryKey(), expires: '2025-01-29T00:00:00.000Z' }]);
    expect(answer.keys.map((k) => k.expires)).toEqual([null, '2025-01-29T00:00:00.000Z']);
    const published = answer.keys.find((k) => k.keyid === signature.keyid);
    expect(published).toMatchObject({ keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: key.publicKeyBase64 });

    const publicKey = createPublicKey({ key: Buffer.from(published!.key, 'base64'), format: 'der', type: 'spki' });
    const signed = (text: string): boolean => verify('sha256', Buffer.from(text), publicKey, Buffer.from(signature.sig, 'base64'));
    expect(signed(`@mcs-example/mcs-driver-csv@1.2.0:${integrity}`)).toBe(true);
    expect(signed(`@mcs-example/mcs-driver-csv@1.2.1:${integrity}`)).toBe(false);
  });

  it('derives keyids in npm\'s OpenSSH fingerprint format', () => {
    // npm's current registry key, as published in @sigstore/tuf's seeded keys.json target.
    expect(sshFingerprint('MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEY6Ya7W++7aUPzvMTrezH6Ycx3c+HOKYCcNGybJZSCJq/fd7Qa8uuAKtdIkUQtQiEKERhAmE5lMMJhP8OkDOa2g=='))
      .toBe('SHA256:DhQ8wR5APBvFHLF/+Tc+AYvPOdTpcIDqOhxsBHRwC7U');

    const key = createRegistryKey();
    expect(key.keyid).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(key.keyid).toBe(sshFingerprint(key.publicKeyBase64));
    expect(createPublicKey(key.privateKey).export({ format: 'der', type: 'spki' }).toString('base64')).toBe(key.publicKeyBase64);
    expect(createRegistryKey().keyid).not.toBe(key.keyid);
  });
});
