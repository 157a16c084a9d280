/**
 * The signed statement's content (DESIGN.md §4 check 3): @sigstore/verify
 * proves who signed the payload, not what it says. An attestation counts for
 * a package only if it is an in-toto statement of the expected predicate
 * whose single subject is exactly pkg:npm/<name>@<version> with the
 * tarball's sha512, so a bundle replayed from another version or package is
 * refused.
 */
import type { TrustErrorCode } from '../errors.js';
import { parseJsonStrict } from '../manifest/json.js';

const MAX_STATEMENT_BYTES = 4 * 1024 * 1024;

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_TYPES = ['https://in-toto.io/Statement/v0.1', 'https://in-toto.io/Statement/v1'] as const;
export const SLSA_PROVENANCE_PREDICATES = ['https://slsa.dev/provenance/v0.2', 'https://slsa.dev/provenance/v1'] as const;
export const NPM_PUBLISH_PREDICATE = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';

/** The package URL npm puts in attestation subjects: a scope's "@" is percent-encoded (pkg:npm/%40scope/name@1.0.0). */
export function npmPurl(name: string, version: string): string {
  return `pkg:npm/${name.startsWith('@') ? '%40' + name.slice(1) : name}@${version}`;
}

export interface StatementExpectation {
  name: string;
  version: string;
  /** Hex sha512 of the tarball. */
  sha512: string;
  predicateTypes: readonly string[];
}

export type StatementOutcome =
  | { ok: true; predicateType: string; subject: string }
  | { ok: false; code: TrustErrorCode; message: string; evidence: Record<string, unknown> };

function bad(code: TrustErrorCode, message: string, evidence: Record<string, unknown> = {}): StatementOutcome {
  return { ok: false, code, message, evidence };
}

export function checkStatement(payload: Buffer | undefined, payloadType: string | undefined, expected: StatementExpectation): StatementOutcome {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE || !payload) {
    return bad('E_ATTESTATION_PAYLOAD_TYPE', `expected a DSSE payload of type ${IN_TOTO_PAYLOAD_TYPE}, got ${JSON.stringify(payloadType ?? null)}`, { payloadType: payloadType ?? null });
  }
  let statement: Record<string, unknown>;
  try {
    // strict: a statement that repeats "subject" would say one thing to us and another to a lenient reader
    const value = parseJsonStrict(payload, { source: 'statement', maxBytes: MAX_STATEMENT_BYTES, maxDepth: 64 });
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    statement = value as Record<string, unknown>;
  } catch (error) {
    return bad('E_ATTESTATION_MALFORMED', `the signed payload is not a usable JSON object: ${(error as Error).message}`);
  }
  if (!STATEMENT_TYPES.includes(statement._type as (typeof STATEMENT_TYPES)[number])) {
    return bad('E_ATTESTATION_MALFORMED', `expected an in-toto statement, got _type ${JSON.stringify(statement._type ?? null)}`, { type: statement._type ?? null });
  }
  const predicateType = statement.predicateType;
  if (typeof predicateType !== 'string' || !expected.predicateTypes.includes(predicateType)) {
    return bad('E_ATTESTATION_PREDICATE', `expected predicate ${expected.predicateTypes.join(' or ')}, got ${JSON.stringify(predicateType ?? null)}`, { predicateType: predicateType ?? null });
  }
  const subjects = statement.subject;
  const purl = npmPurl(expected.name, expected.version);
  if (!Array.isArray(subjects) || subjects.length !== 1) {
    return bad('E_ATTESTATION_SUBJECT', `expected exactly one subject ${purl}, got ${Array.isArray(subjects) ? subjects.length : 'none'}`, {
      subjects: Array.isArray(subjects) ? subjects.length : 0,
    });
  }
  const subject = subjects[0] as { name?: unknown; digest?: { sha512?: unknown } } | null;
  if (subject?.name !== purl) {
    return bad('E_ATTESTATION_SUBJECT', `expected subject ${purl}, got ${JSON.stringify(subject?.name ?? null)}`, { expected: purl, found: subject?.name ?? null });
  }
  const digest = subject.digest?.sha512;
  if (typeof digest !== 'string' || digest.toLowerCase() !== expected.sha512) {
    return bad('E_ATTESTATION_SUBJECT', `${purl}: the attested sha512 ${String(digest)} is not the tarball's ${expected.sha512}`, {
      expected: expected.sha512,
      found: digest ?? null,
    });
  }
  return { ok: true, predicateType, subject: purl };
}
