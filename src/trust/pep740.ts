/**
 * PEP 740: a PyPI distribution file against its attestations. Pure and
 * synchronous, like verifyPackage for npm: the file's bytes, the
 * attestations (untrusted JSON), the pins, the expected publisher and the
 * trust material are read or fetched before (from files offline, or from
 * PyPI's integrity API online) and the verdict is rendered after.
 *
 * An attestation counts for the file only if (PEP 740 "Attestation objects";
 * docs.pypi.org/attestations): turned field by field into a Sigstore bundle
 * v0.3 with a DSSE envelope, it verifies against the trusted root
 * (sigstore.ts: signature, certificate chain, transparency log); its payload
 * is an in-toto Statement v1 of predicate publish/v1 or SLSA provenance v1
 * with exactly one subject, whose file name (parsed as a wheel or sdist
 * name) and sha256 are the file's; and its certificate states the expected
 * publisher (identity.ts comparePublisher). A provenance object's
 * `publisher` is index metadata nobody signed: it is kept as a claim and
 * never counts as identity.
 */
import { createHash } from 'node:crypto';
import ssri from 'ssri';
import { isMcsError, type TrustErrorCode } from '../errors.js';
import { parseJsonStrict } from '../manifest/json.js';
import { normalizeProjectName, normalizeVersion, parseDistFilename, type DistFilename } from '../pypi/filenames.js';
import { comparePublisher, type ExpectedPublisher } from './identity.js';
import { IN_TOTO_PAYLOAD_TYPE } from './provenance.js';
import { fail, pass, skip, type CheckResult } from './result.js';
import { MAX_BUNDLE_TLOG_ENTRIES, MAX_BUNDLE_TIMESTAMPS, verifyBundle, type TrustMaterial, type VerifiedBundle } from './sigstore.js';
import type { TrustContext, VerdictStatus } from './verifier.js';

export const PYPI_PUBLISH_PREDICATE = 'https://docs.pypi.org/attestations/publish/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** The predicate types PyPI accepts (docs.pypi.org/attestations/publish/v1, SLSA provenance v1). */
export const PEP740_PREDICATES: readonly string[] = [PYPI_PUBLISH_PREDICATE, SLSA_PROVENANCE_V1];
const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** Most attestations looked at for one file (PyPI accepts one per predicate type). */
export const MAX_ATTESTATIONS = 8;
const MAX_STATEMENT_BYTES = 4 * 1024 * 1024;

/** One attestation for the file, with where it came from and, from a provenance object, the unsigned publisher it was listed under. */
export interface AttestationEvidence {
  attestation: unknown;
  source: string;
  /** The provenance object's `publisher` (unsigned index metadata): reported, never trusted. */
  claimedPublisher?: unknown;
}

export interface DistributionInput {
  /** The project and version the file must be (from the command line or the index). */
  project: string;
  version: string;
  /** The file name as served or given: parsed as a wheel or sdist name. */
  filename: string;
  bytes: Uint8Array;
  /** The index pin for this file. */
  pinned?: { integrity: string; size?: number };
  attestations: AttestationEvidence[];
  /** The index says this file must come with an attestation. */
  provenanceExpected: boolean;
  /** The publisher to require; it demands an attestation that verifies against it. */
  expectedPublisher?: ExpectedPublisher;
}

export interface DistributionTrust {
  /** Needed only when there are attestations to verify (a file pinned by digest alone needs no trusted root). */
  trustMaterial?: TrustMaterial;
  /** Where the roots came from, reported with the verdict (PyPI signs no files itself: registryKeys says so). */
  roots: TrustContext['roots'];
}

export interface DistributionVerdict {
  package: string;
  version: string;
  filename: string;
  status: VerdictStatus;
  /** Hex sha256 of the file. */
  sha256: string;
  /** SRI sha256 of the file, as the index pins it. */
  integrity: string;
  /** When it was attested: the transparency log's time of a verified attestation. */
  publishedAt?: string;
  publishedAtSource?: 'transparency log';
  results: CheckResult[];
  /** The checks that did not run, each with why: a verdict never implies a check it did not make. */
  notChecked: Array<{ check: CheckResult['check']; reason: string }>;
  roots: DistributionTrust['roots'];
}

class Malformed extends Error {}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Malformed(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function base64(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 8 * 1024 * 1024 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) throw new Malformed(`${what} is not base64`);
  return value;
}

function list(value: unknown, what: string, min: number, max: number): unknown[] {
  if (!Array.isArray(value) || value.length < min || value.length > max) throw new Malformed(`${what} is not a list of ${min} to ${max} entries`);
  return value;
}

/**
 * PEP 740 attestation object → Sigstore bundle v0.3 (pypi-attestations'
 * Attestation.to_bundle): the certificate as the verification material's
 * certificate, the transparency entries as tlogEntries, the optional RFC
 * 3161 timestamps, and the envelope's statement and signature as a DSSE
 * envelope of type application/vnd.in-toto+json. A Sigstore bundle itself
 * (a message signature above all: it signs the file, not a statement about
 * it) is not an attestation and is refused.
 */
export function attestationToBundle(value: unknown): Record<string, unknown> {
  const attestation = object(value, 'the attestation');
  if ('mediaType' in attestation || 'messageSignature' in attestation || 'dsseEnvelope' in attestation) {
    throw new Malformed(`a Sigstore bundle${'messageSignature' in attestation ? ' with a message signature' : ''} is not a PEP 740 attestation (expected {version: 1, verification_material, envelope})`);
  }
  if (attestation.version !== 1) throw new Malformed(`expected attestation version 1, got ${JSON.stringify(attestation.version ?? null)}`);
  const material = object(attestation.verification_material, 'verification_material');
  const envelope = object(attestation.envelope, 'envelope');
  const timestamps = material.timestamps === undefined || material.timestamps === null ? [] : list(material.timestamps, 'verification_material.timestamps', 0, MAX_BUNDLE_TIMESTAMPS);
  return {
    mediaType: BUNDLE_V03,
    verificationMaterial: {
      certificate: { rawBytes: base64(material.certificate, 'verification_material.certificate') },
      tlogEntries: list(material.transparency_entries, 'verification_material.transparency_entries', 1, MAX_BUNDLE_TLOG_ENTRIES),
      timestampVerificationData: { rfc3161Timestamps: timestamps.map((t, i) => ({ signedTimestamp: base64(t, `verification_material.timestamps[${i}]`) })) },
    },
    dsseEnvelope: {
      payload: base64(envelope.statement, 'envelope.statement'),
      payloadType: IN_TOTO_PAYLOAD_TYPE,
      signatures: [{ sig: base64(envelope.signature, 'envelope.signature'), keyid: '' }],
    },
  };
}

/**
 * The attestations of a provenance object as PyPI's integrity API serves it
 * ({version: 1, attestation_bundles: [{publisher, attestations: [...]}]}).
 * Throws Malformed for any other shape.
 */
function fromProvenance(value: unknown, source: string): AttestationEvidence[] {
  const provenance = object(value, 'the provenance object');
  if (provenance.version !== 1) throw new Malformed(`expected provenance version 1, got ${JSON.stringify(provenance.version ?? null)}`);
  const evidence: AttestationEvidence[] = [];
  list(provenance.attestation_bundles, 'attestation_bundles', 1, MAX_ATTESTATIONS).forEach((bundle, i) => {
    const entry = object(bundle, `attestation_bundles[${i}]`);
    list(entry.attestations, `attestation_bundles[${i}].attestations`, 1, MAX_ATTESTATIONS).forEach((attestation, j) => {
      evidence.push({ attestation, source: `${source}: attestation_bundles[${i}].attestations[${j}]`, ...(entry.publisher !== undefined ? { claimedPublisher: entry.publisher } : {}) });
    });
  });
  if (evidence.length > MAX_ATTESTATIONS) throw new Malformed(`more than ${MAX_ATTESTATIONS} attestations`);
  return evidence;
}

/** A provenance object's attestations, or a failed provenance result saying why it cannot be read. */
export function provenanceEvidence(value: unknown, source: string): AttestationEvidence[] | CheckResult {
  try {
    return fromProvenance(value, source);
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    return fail('provenance', 'E_ATTESTATION_MALFORMED', `${source}: not a PEP 740 provenance object: ${error.message}`);
  }
}

type StatementOutcome = { ok: true; predicateType: string; subject: string } | { ok: false; code: TrustErrorCode; message: string; evidence?: Record<string, unknown> };

/** The signed statement names this file, by its parsed name and sha256, in its one subject, with a PyPI predicate. */
function checkStatement(verified: VerifiedBundle, file: DistFilename, filename: string, sha256: string): StatementOutcome {
  if (verified.content !== 'dsse' || verified.payloadType !== IN_TOTO_PAYLOAD_TYPE || !verified.payload) {
    return { ok: false, code: 'E_ATTESTATION_PAYLOAD_TYPE', message: `expected a DSSE payload of type ${IN_TOTO_PAYLOAD_TYPE}, got ${JSON.stringify(verified.payloadType ?? verified.content)}` };
  }
  let statement: Record<string, unknown>;
  try {
    statement = object(parseJsonStrict(verified.payload, { source: 'statement', maxBytes: MAX_STATEMENT_BYTES, maxDepth: 64 }), 'the statement');
  } catch (error) {
    return { ok: false, code: 'E_ATTESTATION_MALFORMED', message: `the signed payload is not a usable JSON object: ${(error as Error).message}` };
  }
  if (statement._type !== STATEMENT_V1) return { ok: false, code: 'E_ATTESTATION_MALFORMED', message: `expected an in-toto ${STATEMENT_V1}, got _type ${JSON.stringify(statement._type ?? null)}` };
  const predicateType = statement.predicateType;
  if (typeof predicateType !== 'string' || !PEP740_PREDICATES.includes(predicateType)) {
    return { ok: false, code: 'E_ATTESTATION_PREDICATE', message: `expected predicate ${PEP740_PREDICATES.join(' or ')}, got ${JSON.stringify(predicateType ?? null)}`, evidence: { predicateType: predicateType ?? null } };
  }
  const subjects = statement.subject;
  if (!Array.isArray(subjects) || subjects.length !== 1) {
    return { ok: false, code: 'E_ATTESTATION_SUBJECT', message: `expected exactly one subject ${filename}, got ${Array.isArray(subjects) ? subjects.length : 'none'}`, evidence: { subjects: Array.isArray(subjects) ? subjects.length : 0 } };
  }
  const subject = subjects[0] as { name?: unknown; digest?: { sha256?: unknown } } | null;
  const name = typeof subject?.name === 'string' ? subject.name : null;
  let attested: DistFilename | null = null;
  try {
    if (name !== null) attested = parseDistFilename(name);
  } catch (error) {
    if (!isMcsError(error, 'E_DIST_NAME')) throw error;
  }
  if (attested === null || attested.canonical !== file.canonical) {
    return { ok: false, code: 'E_ATTESTATION_SUBJECT', message: `the attested file is ${JSON.stringify(name)}, not ${filename} (compared as ${attested?.canonical ?? 'an unparsable name'} and ${file.canonical})`, evidence: { expected: filename, found: name } };
  }
  const digest = subject?.digest?.sha256;
  if (typeof digest !== 'string' || digest.toLowerCase() !== sha256) {
    return { ok: false, code: 'E_ATTESTATION_SUBJECT', message: `${filename}: the attested sha256 ${JSON.stringify(digest ?? null)} is not the file's ${sha256}`, evidence: { expected: sha256, found: digest ?? null } };
  }
  return { ok: true, predicateType, subject: name! };
}

/** One attestation: the bundle verifies, the statement names this file, the certificate states the expected publisher. */
function checkAttestation(input: DistributionInput, evidence: AttestationEvidence, file: DistFilename, sha256: string, trust: DistributionTrust): { provenance: CheckResult; identity: CheckResult; time?: string } {
  const from = { source: evidence.source, ...(evidence.claimedPublisher !== undefined ? { claimedPublisher: evidence.claimedPublisher, claimedPublisherNote: 'unsigned index metadata, not compared' } : {}) };
  const notChecked = (why: string): CheckResult => skip('identity', `${input.filename}: not checked: ${why}`, { source: evidence.source });
  let bundle: Record<string, unknown>;
  try {
    bundle = attestationToBundle(evidence.attestation);
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    return { provenance: fail('provenance', 'E_ATTESTATION_MALFORMED', `${evidence.source}: ${error.message}`, from), identity: notChecked('the attestation is malformed') };
  }
  if (!trust.trustMaterial) throw new Error(`${input.filename}: an attestation to verify, but no trust material was given`);
  const outcome = verifyBundle(bundle, trust.trustMaterial);
  if (!outcome.ok) {
    return {
      provenance: fail('provenance', outcome.malformed ? 'E_ATTESTATION_MALFORMED' : 'E_PROVENANCE_INVALID', `${evidence.source}: the attestation does not verify against the trusted root: ${outcome.reason}`, { ...from, libraryCode: outcome.libraryCode ?? null }),
      identity: notChecked('the attestation does not verify'),
    };
  }
  const verified = outcome.bundle;
  const logged = { ...from, tlog: verified.tlog };
  const statement = checkStatement(verified, file, input.filename, sha256);
  if (!statement.ok) return { provenance: fail('provenance', statement.code, `${evidence.source}: ${statement.message}`, { ...logged, ...statement.evidence }), identity: notChecked('the attestation is not about this file') };
  const certificate = verified.certificate!;
  const time = verified.tlog.find((t) => t.integratedTime)?.integratedTime ?? undefined;
  const provenance = pass('provenance', `${input.filename}: ${statement.predicateType} for ${statement.subject}, logged at index ${verified.tlog[0]?.logIndex ?? '?'}`, { ...logged, predicateType: statement.predicateType, subject: statement.subject });
  const signer = certificate.extensions['1.3.6.1.4.1.57264.1.18'] ?? certificate.subjectAlternativeName ?? 'unknown';
  const observed = { certificate, signer };
  if (!input.expectedPublisher) return { provenance, identity: skip('identity', `${input.filename}: signed by ${signer}; no pinned publisher to compare (unpinned)`, observed), ...(time ? { time } : {}) };
  const mismatch = comparePublisher(certificate, input.expectedPublisher);
  const identity = mismatch
    ? fail('identity', 'E_IDENTITY_MISMATCH', `${input.filename}: ${mismatch.field}: expected ${mismatch.expected}, got ${mismatch.found ?? 'nothing (not in the certificate)'}`, { ...observed, expected: input.expectedPublisher, mismatch })
    : pass('identity', `${input.filename}: signed by ${signer} as pinned`, { ...observed, expected: input.expectedPublisher });
  return { provenance, identity, ...(time ? { time } : {}) };
}

/** The file is the project and version it is meant to be, by its parsed name. */
function checkFilename(input: DistributionInput): { result: CheckResult; file?: DistFilename } {
  let file: DistFilename;
  try {
    file = parseDistFilename(input.filename);
  } catch (error) {
    if (!isMcsError(error, 'E_DIST_NAME')) throw error;
    return { result: fail('filename', 'E_DIST_NAME', error.message, { filename: input.filename }) };
  }
  const project = normalizeProjectName(input.project);
  const version = normalizeVersion(input.version) ?? input.version;
  if (file.project !== project || file.version !== version) {
    return {
      result: fail('filename', 'E_DIST_NAME', `${input.filename} is ${file.project} ${file.version}, not ${project} ${version}: a file of another project or version`, { expected: { project, version }, found: { project: file.project, version: file.version } }),
    };
  }
  return { result: pass('filename', `${input.filename}: a ${file.kind} of ${project} ${version}`, { kind: file.kind, canonical: file.canonical }), file };
}

/** What the absence of attestations means: a failure when a publisher or the index expects one, else said plainly. */
function absentProvenance(input: DistributionInput): CheckResult {
  if (input.expectedPublisher) {
    return fail('provenance', 'E_PROVENANCE_MISSING', `${input.filename}: expected an attestation signed by the pinned publisher, but none was given or served; without it nothing shows who built the file`, { expected: input.expectedPublisher });
  }
  if (input.provenanceExpected) return fail('provenance', 'E_PROVENANCE_MISSING', `${input.filename}: the index expects an attestation for this file, but none was given or served`);
  return skip('provenance', input.pinned ? `${input.filename}: no provenance expected: pinned by digest` : `${input.filename}: no attestation (none served or given)`);
}

/** Runs every check that applies to one distribution file and folds the results into a verdict. */
export function verifyDistribution(input: DistributionInput, trust: DistributionTrust): DistributionVerdict {
  const sha256 = createHash('sha256').update(input.bytes).digest('hex');
  const named = checkFilename(input);
  const results: CheckResult[] = [named.result];
  const digestEvidence = { sha256, pinned: input.pinned?.integrity ?? null };
  if (!input.pinned) {
    results.push(skip('integrity', `${input.filename}: not checked: the index pins no digest for this file; only a verified attestation binds these bytes`, digestEvidence));
  } else if (!ssri.checkData(Buffer.from(input.bytes), input.pinned.integrity)) {
    results.push(fail('integrity', 'E_INTEGRITY_MISMATCH', `${input.filename}: sha256 ${sha256} does not match the index pin ${input.pinned.integrity}`, digestEvidence));
  } else {
    results.push(pass('integrity', `${input.filename}: digest matches the index pin`, digestEvidence));
  }
  if (input.pinned?.size !== undefined) {
    const size = input.bytes.byteLength;
    results.push(size === input.pinned.size ? pass('size', `${input.filename}: ${size} bytes as pinned`, { size }) : fail('size', 'E_SIZE_MISMATCH', `${input.filename}: expected ${input.pinned.size} bytes, got ${size}`, { expected: input.pinned.size, found: size }));
  }
  const missing = input.attestations.length === 0;
  let time: string | undefined;
  if (missing) {
    results.push(absentProvenance(input), skip('identity', `${input.filename}: not checked: no verified attestation to read a publisher from`));
  } else if (input.attestations.length > MAX_ATTESTATIONS) {
    results.push(fail('provenance', 'E_ATTESTATION_MALFORMED', `${input.filename}: ${input.attestations.length} attestations; at most ${MAX_ATTESTATIONS} are read`), skip('identity', `${input.filename}: not checked: the attestations were refused`));
  } else if (!named.file) {
    results.push(skip('provenance', `${input.filename}: not checked: the file name does not say which file an attestation must name`), skip('identity', `${input.filename}: not checked: no verified attestation`));
  } else {
    for (const evidence of input.attestations) {
      const checked = checkAttestation(input, evidence, named.file, sha256, trust);
      results.push(checked.provenance, checked.identity);
      time ??= checked.time;
    }
  }
  const status: VerdictStatus = results.some((r) => r.status === 'fail')
    ? 'failed'
    : missing
      ? 'missing-provenance'
      : results.some((r) => r.check === 'identity' && r.status === 'skip')
        ? 'unpinned'
        : 'verified';
  return {
    package: input.project,
    version: input.version,
    filename: input.filename,
    status,
    sha256,
    integrity: `sha256-${Buffer.from(sha256, 'hex').toString('base64')}`,
    ...(time ? { publishedAt: time, publishedAtSource: 'transparency log' as const } : {}),
    results,
    notChecked: results.filter((r) => r.status === 'skip').map((r) => ({ check: r.check, reason: r.message })),
    roots: trust.roots,
  };
}
