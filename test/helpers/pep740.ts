/**
 * PEP 740 attestations made at test time: an in-toto statement about a
 * distribution file, signed by the mock Sigstore (a real DSSE bundle) and
 * turned into PyPI's attestation object, the inverse of the conversion the
 * verifier makes.
 */
import { createHash } from 'node:crypto';
import type { GithubIdentity, MockSigstore } from './mock-sigstore.js';

export const PYPI_PUBLISH_V1 = 'https://docs.pypi.org/attestations/publish/v1';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The statement PyPI's publish action signs for one file. */
export function distStatement(filename: string, bytes: Uint8Array, predicateType = PYPI_PUBLISH_V1): Record<string, unknown> {
  return { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: filename, digest: { sha256: sha256Hex(bytes) } }], predicateType, predicate: null };
}

/** A Sigstore bundle v0.3 with a DSSE envelope, as PEP 740's attestation object. */
export function bundleToAttestation(bundle: Record<string, unknown>): Record<string, unknown> {
  const material = bundle.verificationMaterial as { certificate?: { rawBytes: string }; x509CertificateChain?: { certificates: Array<{ rawBytes: string }> }; tlogEntries: unknown[]; timestampVerificationData?: { rfc3161Timestamps?: Array<{ signedTimestamp: string }> } };
  const envelope = bundle.dsseEnvelope as { payload: string; signatures: Array<{ sig: string }> };
  const certificate = material.certificate?.rawBytes ?? material.x509CertificateChain!.certificates[0]!.rawBytes;
  const timestamps = material.timestampVerificationData?.rfc3161Timestamps?.map((t) => t.signedTimestamp) ?? [];
  return {
    version: 1,
    verification_material: { certificate, transparency_entries: material.tlogEntries, ...(timestamps.length ? { timestamps } : {}) },
    envelope: { statement: envelope.payload, signature: envelope.signatures[0]!.sig },
  };
}

/** Signs `statement` (default: the publish statement for the file) as `identity` and returns the attestation object. */
export async function signAttestation(sigstore: MockSigstore, identity: GithubIdentity, statement: Record<string, unknown>): Promise<Record<string, unknown>> {
  return bundleToAttestation(await sigstore.signStatement(statement, identity));
}

/** The integrity API's provenance object for attestations made by one publisher. */
export function provenanceObject(attestations: unknown[], publisher: Record<string, unknown> = { kind: 'GitHub', repository: 'acme/mcs-driver-csv', workflow: 'release.yml', environment: null }): Record<string, unknown> {
  return { version: 1, attestation_bundles: [{ publisher, attestations }] };
}
