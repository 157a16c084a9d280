/**
 * verifyArtifact on real Sigstore bundles from the conformance data (the
 * signatures are real, so the library's crypto runs): identity is compared
 * exactly, a DSSE bundle binds the artifact only through a subject digest, a
 * key never accepts a certificate bundle, and bad trust inputs are refused.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import '../helpers/matchers.js';
import { DEFAULT_IDENTITY, DEFAULT_ISSUER } from '../../src/conformance/run.js';
import { verifyArtifact, type ArtifactInput, type ArtifactVerdict } from '../../src/trust/artifact.js';
import { assertTrustedRootBounds } from '../../src/trust/sigstore.js';
import { embeddedTrustedRoot } from '../../src/trust/roots.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFORMANCE_DIR = resolve(process.env.MCS_CONFORMANCE_DIR ?? join(REPO_ROOT, '..', 'shared', 'conformance', 'sigstore-bundle-verify'));
const HAVE_CONFORMANCE = existsSync(CONFORMANCE_DIR);

if (!HAVE_CONFORMANCE) {
  process.stderr.write(`Sigstore conformance data not found at ${CONFORMANCE_DIR} (set MCS_CONFORMANCE_DIR): the verifyArtifact tests on its bundles are skipped\n`);
}

const identity = { subjectAlternativeName: DEFAULT_IDENTITY, issuer: DEFAULT_ISSUER };

function bytes(...path: string[]): Buffer {
  return readFileSync(join(CONFORMANCE_DIR, ...path));
}

function json(...path: string[]): Record<string, unknown> {
  return JSON.parse(bytes(...path).toString('utf8')) as Record<string, unknown>;
}

function failures(verdict: ArtifactVerdict): string[] {
  return verdict.results.filter((r) => r.status === 'fail').map((r) => `${r.check}:${r.code}`);
}

describe('verifyArtifact without data', () => {
  it('refuses a call with neither an identity nor a key', () => {
    expect(() => verifyArtifact({ artifact: Buffer.from('x'), bundle: {}, trustedRoot: embeddedTrustedRoot().json })).toThrowWithCode('E_USAGE');
  });

  it('reports a bundle that is not a bundle as malformed, without throwing', () => {
    const verdict = verifyArtifact({ artifact: Buffer.from('x'), bundle: { mediaType: 42 }, trustedRoot: embeddedTrustedRoot().json, identity });
    expect(verdict.status).toBe('failed');
    expect(failures(verdict)).toEqual(['provenance:E_ATTESTATION_MALFORMED']);
  });

  it('refuses a trusted root whose log key validity has no start', () => {
    const root = embeddedTrustedRoot().json;
    const tlogs = structuredClone(root.tlogs) as Array<{ publicKey: { validFor: { start?: string } } }>;
    delete tlogs[0]!.publicKey.validFor.start;
    expect(() => assertTrustedRootBounds({ ...root, tlogs })).toThrowWithCode('E_TRUST_ROOT');
    expect(() => verifyArtifact({ artifact: Buffer.from('x'), bundle: {}, trustedRoot: { ...root, tlogs }, identity })).toThrowWithCode('E_TRUST_ROOT');
    expect(() => assertTrustedRootBounds(root)).not.toThrow();
  });

  it('turns a log key the library cannot load into E_TRUST_ROOT, not a crash', () => {
    const root = embeddedTrustedRoot().json;
    const tlogs = structuredClone(root.tlogs) as Array<{ publicKey: { rawBytes?: string } }>;
    tlogs[0]!.publicKey.rawBytes = Buffer.from('not a key').toString('base64');
    expect(() => verifyArtifact({ artifact: Buffer.from('x'), bundle: {}, trustedRoot: { ...root, tlogs }, identity })).toThrowWithCode('E_TRUST_ROOT');
    const keyless = (root.tlogs as Array<Record<string, unknown>>).map(({ publicKey: _dropped, ...rest }) => rest);
    expect(() => verifyArtifact({ artifact: Buffer.from('x'), bundle: {}, trustedRoot: { ...root, tlogs: keyless }, identity })).toThrowWithCode('E_TRUST_ROOT');
  });

  it('refuses an unreadable key as an unusable trust input', () => {
    expect(() => verifyArtifact({ artifact: Buffer.from('x'), bundle: {}, trustedRoot: embeddedTrustedRoot().json, key: 'not a key' })).toThrowWithCode('E_TRUST_ROOT');
  });
});

describe.skipIf(!HAVE_CONFORMANCE)('verifyArtifact on conformance bundles', () => {
  const publicGood = HAVE_CONFORMANCE ? embeddedTrustedRoot().json : {};
  const messageCase = (extra: Partial<ArtifactInput> = {}): ArtifactInput => ({
    artifact: bytes('a.txt'),
    bundle: json('happy-path-v0.3', 'bundle.sigstore.json'),
    trustedRoot: publicGood,
    identity,
    ...extra,
  });

  it('verifies a message signature bundle for its artifact and signer', () => {
    const verdict = verifyArtifact(messageCase());
    expect(failures(verdict)).toEqual([]);
    expect(verdict.status).toBe('verified');
    expect(verdict.results.map((r) => `${r.check}:${r.status}`)).toEqual(['provenance:pass', 'identity:pass']);
  });

  it.each([
    ['one character of the SAN differs', { ...identity, subjectAlternativeName: DEFAULT_IDENTITY.replace(/main$/, 'maim') }],
    ['the SAN is a prefix of the certificate one (what an unanchored regex would accept)', { ...identity, subjectAlternativeName: DEFAULT_IDENTITY.replace(/@refs\/heads\/main$/, '') }],
    ['the SAN is a regex that matches the certificate one', { ...identity, subjectAlternativeName: 'https://github.com/sigstore-conformance/.*' }],
    ['the issuer has a trailing slash', { ...identity, issuer: `${DEFAULT_ISSUER}/` }],
    ['the issuer is another provider', { ...identity, issuer: 'https://accounts.google.com' }],
  ])('fails the identity check when %s', (_why, expected) => {
    const verdict = verifyArtifact(messageCase({ identity: expected }));
    expect(failures(verdict)).toEqual(['identity:E_IDENTITY_MISMATCH']);
    expect(verdict.status).toBe('failed');
  });

  it('fails a message signature bundle for other bytes', () => {
    const verdict = verifyArtifact(messageCase({ artifact: Buffer.from('not a.txt\n') }));
    expect(failures(verdict)).toEqual(['provenance:E_PROVENANCE_INVALID']);
  });

  it('verifies a DSSE bundle whose in-toto subject is the artifact', () => {
    const verdict = verifyArtifact({ artifact: bytes('a.txt'), bundle: json('happy-path-intoto-in-dsse-v3', 'bundle.sigstore.json'), trustedRoot: publicGood, identity });
    expect(failures(verdict)).toEqual([]);
  });

  it('fails a DSSE bundle whose subjects do not name the artifact (mismatched-subject-digest)', () => {
    // the signature, log entry and identity are all valid: only the subject binds the statement to these bytes
    const verdict = verifyArtifact({ artifact: Buffer.from('another artifact\n'), bundle: json('happy-path-intoto-in-dsse-v3', 'bundle.sigstore.json'), trustedRoot: publicGood, identity });
    expect(failures(verdict)).toEqual(['provenance:E_ATTESTATION_SUBJECT']);
    expect(verdict.results[1]?.status).toBe('skip');
  });

  it('fails a bundle whose certificate chain carries the root', () => {
    const verdict = verifyArtifact({ artifact: bytes('bundle-with-root-cert_fail', 'artifact'), bundle: json('bundle-with-root-cert_fail', 'bundle.sigstore.json'), trustedRoot: publicGood, identity });
    expect(failures(verdict)).toEqual(['provenance:E_ATTESTATION_MALFORMED']);
  });

  it('verifies a keyed bundle with its key', () => {
    const verdict = verifyArtifact({ artifact: bytes('a.txt'), bundle: json('managed-key-happy-path', 'bundle.sigstore.json'), trustedRoot: publicGood, key: bytes('managed-key-happy-path', 'key.pub').toString('utf8') });
    expect(failures(verdict)).toEqual([]);
  });

  it('fails a keyed bundle with another valid key', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const verdict = verifyArtifact({ artifact: bytes('a.txt'), bundle: json('managed-key-happy-path', 'bundle.sigstore.json'), trustedRoot: publicGood, key: other });
    expect(failures(verdict)).toEqual(['provenance:E_PROVENANCE_INVALID']);
  });

  it('never accepts a certificate bundle when a key is given', () => {
    // with a key, the library would still verify a certificate against the root's CAs: the key must be what signed
    const verdict = verifyArtifact(messageCase({ identity: undefined, key: bytes('managed-key-happy-path', 'key.pub').toString('utf8') }));
    expect(failures(verdict)).toEqual(['identity:E_IDENTITY_MISMATCH']);
  });

  it('fails a keyed bundle when a certificate identity is expected', () => {
    const verdict = verifyArtifact({ artifact: bytes('a.txt'), bundle: json('managed-key-happy-path', 'bundle.sigstore.json'), trustedRoot: publicGood, identity });
    expect(verdict.status).toBe('failed');
  });
});
