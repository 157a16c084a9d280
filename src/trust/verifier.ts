/**
 * Composes the checks of DESIGN.md §4 into a verdict for one package
 * version. Pure and synchronous: every input (bytes, attestations, registry
 * signatures, trust material, expected identity) is fetched or read before,
 * and the verdict is rendered after.
 */
import { createHash } from 'node:crypto';
import { McsError, isMcsError } from '../errors.js';
import { parseAttestations } from './attestations.js';
import { compareIdentity, observedIdentity, type ExpectedIdentity } from './identity.js';
import { checkIntegrity } from './integrity.js';
import { NPM_PUBLISH_PREDICATE, SLSA_PROVENANCE_PREDICATES, checkStatement } from './provenance.js';
import { fail, pass, skip, type CheckName, type CheckResult } from './result.js';
import type { RegistryKey } from './roots.js';
import { checkRegistrySignature } from './signatures.js';
import { verifyBundle, type TrustMaterial, type VerifiedBundle } from './sigstore.js';

export interface VerifyInput {
  name: string;
  version: string;
  /** The tarball. */
  bytes: Uint8Array;
  /** The index pin for this version. */
  pinned?: { integrity: string; size?: number };
  /** The integrity the caller expects (a lockfile's). */
  expectedIntegrity?: string;
  /**
   * dist.integrity and dist.signatures from the packument, with
   * packument.time[version] when it has one (a claim of the registry), and
   * whether it lists attestations for the version.
   */
  registry?: { integrity: string; signatures: unknown; publishedAt?: Date; attestationsListed?: boolean };
  /** The registry's attestations document for this version (untrusted JSON), if any. */
  attestations?: unknown;
  /** Where the attestations came from, for messages. */
  attestationsSource?: string;
  /** The index says this version was published with provenance: its absence is a failure. */
  provenanceExpected: boolean;
  /** The publisher identity to require: it demands provenance that verifies against it. Without it the verdict is at best "unpinned". */
  expectedIdentity?: ExpectedIdentity;
}

export interface TrustContext {
  /** The Sigstore roots bundles are checked against; needed only when the version has attestations (a caller resolves the trusted root then, not before). */
  trustMaterial?: TrustMaterial;
  registryKeys: RegistryKey[];
  /** Where the roots came from, reported with the verdict. */
  roots: { trustedRoot: string; registryKeys: string };
}

/**
 * verified: every applicable check passed and the identity matched the pin.
 * unpinned: checks passed, but there was no identity to compare.
 * missing-provenance: checks passed, but the version has no provenance (and none was expected).
 * failed: at least one check failed.
 */
export type VerdictStatus = 'verified' | 'unpinned' | 'missing-provenance' | 'failed';

export interface Verdict {
  package: string;
  version: string;
  status: VerdictStatus;
  integrity: string;
  /** When the version was published: the transparency log's time of a verified bundle, else the registry's claim. */
  publishedAt?: string;
  publishedAtSource?: 'transparency log' | 'registry';
  results: CheckResult[];
  /** The checks that did not run, each with why (the message of its skip result): a verdict never implies a check it did not make. */
  notChecked: Array<{ check: CheckName; reason: string }>;
  roots: TrustContext['roots'];
}

/** The trust material for a bundle: a caller that passed attestations passes the roots too. */
function materialOf(trust: TrustContext): TrustMaterial {
  if (!trust.trustMaterial) throw new McsError('E_INTERNAL', 'attestations to verify, but no trusted root was given to verify them with');
  return trust.trustMaterial;
}

function verifyProvenance(input: VerifyInput, bundle: unknown, trust: TrustContext, sha512: string): { results: CheckResult[]; verified?: VerifiedBundle } {
  const spec = `${input.name}@${input.version}`;
  const outcome = verifyBundle(bundle, materialOf(trust));
  if (!outcome.ok) {
    return { results: [fail('provenance', outcome.malformed ? 'E_ATTESTATION_MALFORMED' : 'E_PROVENANCE_INVALID', `${spec}: provenance bundle does not verify: ${outcome.reason}`, { libraryCode: outcome.libraryCode ?? null })] };
  }
  const verified = outcome.bundle;
  const evidence = { mediaType: verified.mediaType, tlog: verified.tlog };
  if (!verified.certificate) {
    return { results: [fail('provenance', 'E_PROVENANCE_INVALID', `${spec}: provenance must be signed with a short-lived certificate (keyless), but the bundle names a key`, evidence)] };
  }
  const statement = checkStatement(verified.payload, verified.payloadType, { name: input.name, version: input.version, sha512, predicateTypes: SLSA_PROVENANCE_PREDICATES });
  if (!statement.ok) return { results: [fail('provenance', statement.code, `${spec}: provenance: ${statement.message}`, { ...evidence, ...statement.evidence })] };
  return { results: [pass('provenance', `${spec}: ${statement.predicateType} for ${statement.subject}, logged at index ${verified.tlog[0]?.logIndex ?? '?'}`, { ...evidence, predicateType: statement.predicateType, subject: statement.subject })], verified };
}

/**
 * What the absence of provenance means. An expected publisher (from the
 * caller or the index) can only be shown by provenance, and a version the
 * index pins with provenance, or the registry lists attestations for, had
 * it: in each case the absence is a failure, never "unsigned".
 */
function absentProvenance(input: VerifyInput): CheckResult {
  const spec = `${input.name}@${input.version}`;
  if (input.expectedIdentity) {
    return fail('provenance', 'E_PROVENANCE_MISSING', `${spec}: expected provenance built by ${input.expectedIdentity.repository}, but none was given or served; without it nothing shows who built the tarball`, {
      expected: input.expectedIdentity,
    });
  }
  if (input.provenanceExpected) return fail('provenance', 'E_PROVENANCE_MISSING', `${spec}: the index expects provenance for this version, but none was served`);
  if (input.registry?.attestationsListed) return fail('provenance', 'E_PROVENANCE_MISSING', `${spec}: the packument lists attestations for this version, but none were given (the registry's attestations JSON, with --attestations FILE)`);
  return skip('provenance', `${spec}: no provenance (none served or given)`);
}

function checkIdentity(input: VerifyInput, verified: VerifiedBundle): CheckResult {
  const spec = `${input.name}@${input.version}`;
  const observed = observedIdentity(verified.certificate!);
  const evidence = { observed, certificate: verified.certificate };
  if (!input.expectedIdentity) return skip('identity', `${spec}: built by ${observed.buildSigner ?? observed.repository ?? 'unknown'}; no pinned identity to compare (unpinned)`, evidence);
  const mismatch = compareIdentity(observed, input.expectedIdentity);
  if (mismatch) {
    return fail('identity', 'E_IDENTITY_MISMATCH', `${spec}: ${mismatch.field}: expected ${mismatch.expected}, got ${mismatch.found ?? 'nothing (not in the certificate)'}`, { ...evidence, expected: input.expectedIdentity, mismatch });
  }
  return pass('identity', `${spec}: built by ${observed.buildSigner} as pinned`, { ...evidence, expected: input.expectedIdentity });
}

function verifyPublishAttestation(input: VerifyInput, bundle: unknown, trust: TrustContext, sha512: string): CheckResult {
  const spec = `${input.name}@${input.version}`;
  const outcome = verifyBundle(bundle, materialOf(trust));
  if (!outcome.ok) {
    return fail('publish-attestation', outcome.malformed ? 'E_ATTESTATION_MALFORMED' : 'E_PUBLISH_ATTESTATION_INVALID', `${spec}: publish attestation does not verify: ${outcome.reason}`, { libraryCode: outcome.libraryCode ?? null });
  }
  const verified = outcome.bundle;
  const evidence = { keyid: verified.keyHint ?? null, signatureKeyid: verified.signatureKeyid ?? null, tlog: verified.tlog };
  // the library selects the key by the bundle's hint alone; the signature must name the same key
  if (!verified.keyHint || !verified.signatureKeyid || verified.signatureKeyid !== verified.keyHint) {
    return fail('publish-attestation', 'E_ATTESTATION_KEYID', `${spec}: publish attestation signature keyid ${JSON.stringify(verified.signatureKeyid ?? '')} does not name its key ${JSON.stringify(verified.keyHint ?? '')}`, evidence);
  }
  const statement = checkStatement(verified.payload, verified.payloadType, { name: input.name, version: input.version, sha512, predicateTypes: [NPM_PUBLISH_PREDICATE] });
  if (!statement.ok) return fail('publish-attestation', statement.code, `${spec}: publish attestation: ${statement.message}`, { ...evidence, ...statement.evidence });
  return pass('publish-attestation', `${spec}: published by the registry (key ${verified.keyHint}, logged ${verified.tlog[0]?.integratedTime ?? '?'})`, evidence);
}

/** Runs every check that applies and folds the results into a verdict. */
export function verifyPackage(input: VerifyInput, trust: TrustContext): Verdict {
  const spec = `${input.name}@${input.version}`;
  const sha512 = createHash('sha512').update(input.bytes).digest('hex');
  const results: CheckResult[] = checkIntegrity({
    name: input.name,
    version: input.version,
    bytes: input.bytes,
    ...(input.pinned ? { pinned: input.pinned } : {}),
    ...(input.registry ? { registryIntegrity: input.registry.integrity } : {}),
    ...(input.expectedIntegrity ? { expectedIntegrity: input.expectedIntegrity } : {}),
  });
  const attestationResults: CheckResult[] = [];
  let attestations;
  try {
    attestations = input.attestations === undefined ? undefined : parseAttestations(input.attestations, input.attestationsSource ?? 'attestations');
  } catch (error) {
    if (!isMcsError(error, 'E_ATTESTATION_MALFORMED')) throw error;
    attestationResults.push(fail('provenance', 'E_ATTESTATION_MALFORMED', error.message));
  }
  let missingProvenance = false;
  if (attestations?.provenance !== undefined) {
    const provenance = verifyProvenance(input, attestations.provenance, trust, sha512);
    attestationResults.push(...provenance.results);
    if (provenance.verified) attestationResults.push(checkIdentity(input, provenance.verified));
  } else if (!attestationResults.some((r) => r.check === 'provenance')) {
    missingProvenance = true;
    attestationResults.push(absentProvenance(input));
  }
  if (!attestationResults.some((r) => r.check === 'identity')) {
    attestationResults.push(skip('identity', `${spec}: not checked: no verified provenance to read a publisher from`));
  }
  if (attestations?.publish !== undefined) {
    attestationResults.push(verifyPublishAttestation(input, attestations.publish, trust, sha512));
  } else if (attestations?.provenance !== undefined) {
    attestationResults.push(fail('publish-attestation', 'E_PUBLISH_ATTESTATION_MISSING', `${spec}: provenance is present but the registry's publish attestation is not`));
  } else {
    attestationResults.push(skip('publish-attestation', `${spec}: not checked: no publish attestation served or given`));
  }
  // the log's integrated time is signed; the registry's time[version] is only its claim
  const logTime = ['publish-attestation', 'provenance']
    .map((check) => attestationResults.find((r) => r.check === check && r.status === 'pass')?.evidence.tlog as Array<{ integratedTime: string | null }> | undefined)
    .map((tlog) => tlog?.find((t) => t.integratedTime)?.integratedTime)
    .find((time): time is string => typeof time === 'string');
  const publishedAt = logTime ? new Date(logTime) : input.registry?.publishedAt;
  const publishedAtSource = logTime ? 'transparency log' : input.registry?.publishedAt ? 'registry' : undefined;
  results.push(
    input.registry
      ? checkRegistrySignature({ name: input.name, version: input.version, integrity: input.registry.integrity, signatures: input.registry.signatures, keys: trust.registryKeys, publishedAt })
      : skip('registry-signature', `${spec}: not checked: no registry evidence (dist.signatures); give the registry's packument with --packument FILE`),
  );
  results.push(...attestationResults);
  const status: VerdictStatus = results.some((r) => r.status === 'fail')
    ? 'failed'
    : missingProvenance
      ? 'missing-provenance'
      : results.some((r) => r.check === 'identity' && r.status === 'skip')
        ? 'unpinned'
        : 'verified';
  return {
    package: input.name,
    version: input.version,
    status,
    integrity: `sha512-${Buffer.from(sha512, 'hex').toString('base64')}`,
    ...(publishedAt && publishedAtSource ? { publishedAt: publishedAt.toISOString(), publishedAtSource } : {}),
    results,
    notChecked: results.filter((r) => r.status === 'skip').map((r) => ({ check: r.check, reason: r.message })),
    roots: trust.roots,
  };
}
