/**
 * One artifact against one Sigstore bundle: the path shared by
 * `mcs-pkg verify --artifact FILE --bundle FILE` and the Sigstore conformance
 * runner. Pure and synchronous: the artifact bytes, the parsed bundle, the
 * trusted root and the expected signer are read before and passed in.
 *
 * A bundle counts for the artifact only if (Sigstore client spec,
 * "Verification"): it verifies cryptographically against the trusted root
 * (sigstore.ts); it binds these exact bytes (a message signature's digest
 * equals the artifact's, or an in-toto statement in the DSSE envelope names
 * the artifact's sha256 as a subject, since the library checks no subject);
 * and its signer is exactly the expected one: a certificate whose SAN and
 * OIDC issuer equal the expected strings (never a regex), or, with `key`, a
 * keyed bundle (a certificate bundle would verify against the root's CAs,
 * not against the key).
 */
import { X509Certificate, createHash } from 'node:crypto';
import { McsError } from '../errors.js';
import { parseJsonStrict } from '../manifest/json.js';
import { observedIdentity } from './identity.js';
import { IN_TOTO_PAYLOAD_TYPE, STATEMENT_TYPES } from './provenance.js';
import { fail, pass, skip, type CheckResult } from './result.js';
import { createKeyTrustMaterial, createTrustMaterial, verifyBundle, type TrustMaterial, type VerifiedBundle } from './sigstore.js';

/** Largest in-toto statement read from a DSSE payload. */
const MAX_STATEMENT_BYTES = 4 * 1024 * 1024;
/** Most subjects looked at in one statement; a longer list is refused, not truncated. */
const MAX_SUBJECTS = 1024;
/** Most certificates accepted in a bundle's x509CertificateChain (leaf and intermediates). */
const MAX_CHAIN_CERTIFICATES = 10;
/** Most entries accepted in one list of a trusted root. */

/**
 * The Sigstore HashAlgorithm enum (protobuf-specs sigstore_common.proto), in
 * its JSON names and numbers, as node:crypto names. UNSPECIFIED means SHA2_256,
 * as in @sigstore/verify's message signature check.
 */
const MESSAGE_DIGEST_ALGORITHMS: ReadonlyMap<unknown, string> = new Map<unknown, string>([
  [undefined, 'sha256'],
  ['HASH_ALGORITHM_UNSPECIFIED', 'sha256'],
  [0, 'sha256'],
  ['SHA2_256', 'sha256'],
  [1, 'sha256'],
  ['SHA2_384', 'sha384'],
  [2, 'sha384'],
  ['SHA2_512', 'sha512'],
  [3, 'sha512'],
  ['SHA3_256', 'sha3-256'],
  [4, 'sha3-256'],
  ['SHA3_384', 'sha3-384'],
  [5, 'sha3-384'],
]);

/** The keyless signer a certificate must name: both fields are compared by string equality. */
export interface ExpectedSigner {
  /** The certificate's SAN (URI or e-mail), e.g. a workflow URI with its ref. */
  subjectAlternativeName: string;
  /** The OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8, else .1.1). */
  issuer: string;
}

export interface ArtifactInput {
  /** The bytes the bundle is claimed to sign (for a DSSE bundle: the attestation's subject). */
  artifact: Buffer;
  /** The Sigstore bundle, parsed JSON (untrusted). */
  bundle: unknown;
  /** The trusted_root.json document. */
  trustedRoot: Record<string, unknown>;
  /** The keyless signer to require; exactly one of `identity` and `key` is given. */
  identity?: ExpectedSigner;
  /** A PEM public key: the bundle must be a keyed bundle signed with it. */
  key?: string;
}

export interface ArtifactVerdict {
  status: 'verified' | 'failed';
  /** 'provenance' (signature, log, artifact binding), then 'identity'. */
  results: CheckResult[];
}

/**
 * Verifies `artifact` against `bundle` and the expected signer and returns
 * the verdict as data; bad bundle content is a failed result, never a throw
 * (it throws only McsError E_TRUST_ROOT for an unusable trusted root or key,
 * and E_USAGE unless exactly one of identity and key is given).
 */
export function verifyArtifact(input: ArtifactInput): ArtifactVerdict {
  if ((input.identity === undefined) === (input.key === undefined)) {
    throw new McsError('E_USAGE', 'verifyArtifact: give exactly one of identity (certificate identity and issuer) and key');
  }
  const trust = trustMaterial(input.trustedRoot, input.key);
  const sha256 = createHash('sha256').update(input.artifact).digest('hex');
  const chain = checkCertificateChain(input.bundle);
  if (chain) return verdict([chain, skip('identity', 'not checked: the bundle is malformed')]);
  const outcome = verifyBundle(input.bundle, trust, input.artifact);
  if (!outcome.ok) {
    return verdict([
      fail('provenance', outcome.malformed ? 'E_ATTESTATION_MALFORMED' : 'E_PROVENANCE_INVALID', `the bundle does not verify: ${outcome.reason}`, {
        libraryCode: outcome.libraryCode ?? null,
        artifactSha256: sha256,
      }),
      skip('identity', 'not checked: the bundle does not verify'),
    ]);
  }
  const verified = outcome.bundle;
  const binding = verified.payload !== undefined || verified.payloadType !== undefined ? checkStatementSubject(verified, sha256) : checkMessageDigest(input.bundle, input.artifact);
  if (binding) return verdict([binding, skip('identity', 'not checked: the bundle does not sign this artifact')]);
  const evidence = { mediaType: verified.mediaType, tlog: verified.tlog, artifactSha256: sha256 };
  return verdict([
    pass('provenance', `the bundle verifies and signs the artifact (sha256 ${sha256}), logged at index ${verified.tlog[0]?.logIndex ?? '?'}`, evidence),
    input.key !== undefined ? checkKeyed(verified) : checkIdentity(verified, input.identity!),
  ]);
}

/** Trust material for the root, or for the key the user gives. */
function trustMaterial(root: Record<string, unknown>, key: string | undefined): TrustMaterial {
  return key !== undefined ? createKeyTrustMaterial(root, key) : createTrustMaterial(root);
}

/**
 * A bundle's certificate chain must not carry a root (protobuf-specs
 * X509CertificateChain: leaf and intermediates only; trust comes from the
 * trusted root, never from the bundle). @sigstore/verify reads only the leaf,
 * so it accepts such a chain: the check is ours. Only the shape the library
 * reads is looked at (verificationMaterial.x509CertificateChain.certificates).
 */
function checkCertificateChain(bundle: unknown): CheckResult | null {
  const material = (bundle as { verificationMaterial?: { x509CertificateChain?: { certificates?: unknown } } } | null)?.verificationMaterial;
  const certificates = material?.x509CertificateChain?.certificates;
  if (certificates === undefined) return null;
  if (!Array.isArray(certificates) || certificates.length > MAX_CHAIN_CERTIFICATES) {
    return fail('provenance', 'E_ATTESTATION_MALFORMED', `the bundle's certificate chain is not a list of at most ${MAX_CHAIN_CERTIFICATES} certificates`);
  }
  for (const [i, entry] of certificates.entries()) {
    const rawBytes = (entry as { rawBytes?: unknown } | null)?.rawBytes;
    let certificate: X509Certificate;
    try {
      if (typeof rawBytes !== 'string') throw new Error('no rawBytes');
      certificate = new X509Certificate(Buffer.from(rawBytes, 'base64'));
    } catch (error) {
      return fail('provenance', 'E_ATTESTATION_MALFORMED', `certificate ${i} of the bundle's chain cannot be read: ${(error as Error).message}`, { pointer: `/verificationMaterial/x509CertificateChain/certificates/${i}` });
    }
    if (isSelfSigned(certificate)) {
      return fail('provenance', 'E_ATTESTATION_MALFORMED', `the bundle's certificate chain contains a self-signed root (${certificate.subject.replace(/\n/g, ', ')}): expected the leaf and intermediates only`, {
        pointer: `/verificationMaterial/x509CertificateChain/certificates/${i}`,
      });
    }
  }
  return null;
}

function isSelfSigned(certificate: X509Certificate): boolean {
  try {
    return certificate.checkIssued(certificate) && certificate.verify(certificate.publicKey);
  } catch {
    return false;
  }
}

function verdict(results: CheckResult[]): ArtifactVerdict {
  return { status: results.some((r) => r.status === 'fail') ? 'failed' : 'verified', results };
}

/**
 * A message signature bundle carries the artifact's digest besides the
 * signature; the library checks the signature over the artifact and the
 * digest against the log entry, but never the digest against the artifact,
 * so a bundle could present one digest to a reader and sign another artifact.
 * `bundle` has already been accepted by bundleFromJSON, which reads these
 * same camelCase fields (and the strict JSON reader refused duplicate keys).
 */
function checkMessageDigest(bundle: unknown, artifact: Buffer): CheckResult | null {
  const messageDigest = (bundle as { messageSignature?: { messageDigest?: { algorithm?: unknown; digest?: unknown } } }).messageSignature?.messageDigest;
  const algorithm = MESSAGE_DIGEST_ALGORITHMS.get(messageDigest?.algorithm);
  if (!algorithm || typeof messageDigest?.digest !== 'string') {
    return fail('provenance', 'E_ATTESTATION_MALFORMED', `the message signature has no usable digest (algorithm ${JSON.stringify(messageDigest?.algorithm ?? null)})`);
  }
  const found = Buffer.from(messageDigest.digest, 'base64').toString('hex');
  const expected = createHash(algorithm).update(artifact).digest('hex');
  if (found !== expected) {
    return fail('provenance', 'E_ATTESTATION_SUBJECT', `the bundle's message digest is not the artifact's: expected ${algorithm} ${expected}, got ${found}`, { algorithm, expected, found });
  }
  return null;
}

/**
 * For a DSSE bundle the signature covers a statement, not the artifact: the
 * artifact is bound only by an in-toto subject with its sha256 (in-toto
 * Statement v1, "subject": any of the listed artifacts).
 */
function checkStatementSubject(verified: VerifiedBundle, sha256: string): CheckResult | null {
  if (verified.payloadType !== IN_TOTO_PAYLOAD_TYPE || verified.payload === undefined) {
    return fail('provenance', 'E_ATTESTATION_PAYLOAD_TYPE', `expected a DSSE payload of type ${IN_TOTO_PAYLOAD_TYPE}, got ${JSON.stringify(verified.payloadType ?? null)}`, {
      payloadType: verified.payloadType ?? null,
    });
  }
  let statement: { _type?: unknown; subject?: unknown };
  try {
    const value = parseJsonStrict(verified.payload, { source: 'DSSE payload', maxBytes: MAX_STATEMENT_BYTES, maxDepth: 64 });
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    statement = value as typeof statement;
  } catch (error) {
    return fail('provenance', 'E_ATTESTATION_MALFORMED', `the signed payload is not a usable in-toto statement: ${(error as Error).message}`);
  }
  if (!(STATEMENT_TYPES as readonly unknown[]).includes(statement._type)) {
    return fail('provenance', 'E_ATTESTATION_MALFORMED', `expected an in-toto statement, got _type ${JSON.stringify(statement._type ?? null)}`, { type: statement._type ?? null });
  }
  const subjects = statement.subject;
  if (!Array.isArray(subjects) || subjects.length === 0 || subjects.length > MAX_SUBJECTS) {
    return fail('provenance', 'E_ATTESTATION_MALFORMED', `expected 1 to ${MAX_SUBJECTS} subjects, got ${Array.isArray(subjects) ? subjects.length : 'none'}`);
  }
  const digests = subjects.map((subject) => (subject as { digest?: { sha256?: unknown } } | null)?.digest?.sha256);
  if (!digests.some((digest) => typeof digest === 'string' && digest.toLowerCase() === sha256)) {
    return fail('provenance', 'E_ATTESTATION_SUBJECT', `no subject of the statement is the artifact: expected sha256 ${sha256}, got ${digests.map((d) => String(d ?? 'none')).join(', ')}`, {
      expected: sha256,
      found: digests.map((d) => d ?? null),
    });
  }
  return null;
}

/** The certificate names exactly the expected SAN and issuer (DESIGN.md §4 check 4: exact comparison). */
function checkIdentity(verified: VerifiedBundle, expected: ExpectedSigner): CheckResult {
  if (!verified.certificate) {
    return fail('identity', 'E_IDENTITY_MISMATCH', `expected a certificate for ${expected.subjectAlternativeName}, but the bundle is signed with a key (hint ${JSON.stringify(verified.keyHint ?? '')})`, {
      expected,
    });
  }
  const found = { subjectAlternativeName: verified.certificate.subjectAlternativeName, issuer: observedIdentity(verified.certificate).issuer };
  const evidence = { expected, found, certificate: verified.certificate };
  if (found.subjectAlternativeName !== expected.subjectAlternativeName) {
    return fail('identity', 'E_IDENTITY_MISMATCH', `subjectAlternativeName: expected ${expected.subjectAlternativeName}, got ${found.subjectAlternativeName ?? 'none'}`, evidence);
  }
  if (found.issuer !== expected.issuer) {
    return fail('identity', 'E_IDENTITY_MISMATCH', `issuer: expected ${expected.issuer}, got ${found.issuer ?? 'none'}`, evidence);
  }
  return pass('identity', `signed by ${expected.subjectAlternativeName} (issuer ${expected.issuer})`, evidence);
}

/** With a key given, the bundle must be keyed: its signature then verified with that key alone. */
function checkKeyed(verified: VerifiedBundle): CheckResult {
  if (verified.certificate || verified.keyHint === undefined) {
    return fail('identity', 'E_IDENTITY_MISMATCH', `expected a bundle signed with the given key, but it is signed with a certificate for ${verified.certificate?.subjectAlternativeName ?? 'an unknown identity'}`, {
      certificate: verified.certificate ?? null,
    });
  }
  return pass('identity', `signed with the given key (bundle key hint ${JSON.stringify(verified.keyHint)})`, { keyHint: verified.keyHint });
}
