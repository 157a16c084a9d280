/**
 * Every failure mcs-pkg reports is an McsError with a stable code. Codes are
 * grouped by domain; the list in docs/errors.md is the public contract.
 */

/** Input that is not acceptable JSON before any schema is applied. */
export type JsonErrorCode =
  | 'E_JSON_TOO_LARGE'
  | 'E_JSON_TOO_DEEP'
  | 'E_JSON_DUPLICATE_KEY'
  | 'E_JSON_SYNTAX';

/** An index document that parses but breaks the schema or the naming rules. */
export type ManifestErrorCode =
  | 'E_SCHEMA'
  | 'E_NAME_INVALID'
  | 'E_NAME_CLASS'
  | 'E_NAME_CONFUSABLE'
  | 'E_INDEX_PATH'
  | 'E_TEXT_INVISIBLE';

/** The index store: its source folder, its database, and lookups in it. */
export type IndexErrorCode =
  | 'E_INDEX_NOT_FOUND'
  | 'E_INDEX_DUPLICATE'
  | 'E_INDEX_DB_NEWER'
  | 'E_INDEX_CORRUPT'
  | 'E_INDEX_LOCKED'
  | 'E_INDEX_IO'
  | 'E_NOT_FOUND'
  | 'E_AMBIGUOUS';

/**
 * Verification failures: the artifact, its signatures or its attestations are
 * not what the trust inputs require. These exit 1.
 */
export type TrustErrorCode =
  | 'E_INTEGRITY_MISMATCH'
  | 'E_SIZE_MISMATCH'
  | 'E_MANIFEST_MISMATCH'
  | 'E_TARBALL_INVALID'
  | 'E_SIGNATURE_MISSING'
  | 'E_SIGNATURE_INVALID'
  | 'E_SIGNATURE_KEY_UNKNOWN'
  | 'E_SIGNATURE_KEY_EXPIRED'
  | 'E_PROVENANCE_MISSING'
  | 'E_PROVENANCE_INVALID'
  | 'E_ATTESTATION_MALFORMED'
  | 'E_ATTESTATION_PAYLOAD_TYPE'
  | 'E_ATTESTATION_PREDICATE'
  | 'E_ATTESTATION_SUBJECT'
  | 'E_ATTESTATION_KEYID'
  | 'E_IDENTITY_MISMATCH'
  | 'E_PUBLISH_ATTESTATION_MISSING'
  | 'E_PUBLISH_ATTESTATION_INVALID'
  | 'E_INSTALLED_MISMATCH'
  | 'E_DIST_NAME'
  | 'E_DIST_MISSING'
  | 'E_DIST_UNPINNED';

/** Trust-policy refusals: the package may be genuine, but the policy does not accept it. These exit 1. */
export type PolicyErrorCode =
  | 'E_POLICY_LABEL'
  | 'E_POLICY_DENIED'
  | 'E_POLICY_YANKED'
  | 'E_POLICY_CONTRACT'
  | 'E_POLICY_RELEASE_AGE'
  | 'E_POLICY_UNPINNED'
  | 'E_POLICY_QUARANTINED'
  | 'E_PROVENANCE_DOWNGRADE';

/** The gated loader: archives it will not unpack, cache entries that changed, drivers that break the contract. */
export type LoaderErrorCode =
  | 'E_TAR_PATH'
  | 'E_TAR_LINK'
  | 'E_TAR_SPECIAL'
  | 'E_TAR_DUPLICATE'
  | 'E_TAR_LIMIT'
  | 'E_WHEEL_INVALID'
  | 'E_WHEEL_LIMIT'
  | 'E_WHEEL_PATH'
  | 'E_WHEEL_LINK'
  | 'E_WHEEL_DUPLICATE'
  | 'E_WHEEL_RECORD'
  | 'E_WHEEL_METADATA'
  | 'E_CACHE_TAMPERED'
  | 'E_CACHE_IO'
  | 'E_DRIVER_SHAPE'
  | 'E_DRIVER_META'
  | 'E_DRIVER_CAPABILITY'
  | 'E_DRIVER_NOT_FOUND'
  | 'E_LOAD_REFUSED'
  | 'E_DRIVER_ENTRY'
  | 'E_DRIVER_COMMONJS'
  | 'E_DRIVER_IMPORT'
  | 'E_DRIVER_DEPENDENCY'
  | 'E_DRIVER_CONFIG'
  | 'E_ABORTED'
  | 'E_OFFLINE_NOT_CACHED'
  | 'E_DRIVER_ECOSYSTEM'
  | 'E_HOST_DENIED'
  | 'E_TOOL_REFUSED'
  | 'E_DRIVER_CALL'
  | 'E_HOST_TIMEOUT'
  | 'E_HOST_CRASHED'
  | 'E_HOST_MESSAGE_TOO_LARGE'
  | 'E_HOST_PROTOCOL'
  | 'E_HOST_RESTART_LIMIT'
  | 'E_DRIVER_NOT_IMPLEMENTED'
  | 'E_PYTHON_MISSING'
  | 'E_PYTHON_VERSION';

/** Maintaining the index: the audit log, the rules a label must meet, adding a package. These exit 1, except E_ALREADY_INDEXED and E_LOG_LOCKED. */
export type MaintainErrorCode = 'E_LOG_CHAIN' | 'E_LOG_UNEXPLAINED' | 'E_LABEL_REQUIREMENTS' | 'E_IDENTITY_CHANGED' | 'E_MCS_METADATA' | 'E_ADD_REFUSED' | 'E_ALREADY_INDEXED' | 'E_LOG_LOCKED' | 'E_LOG_UNSIGNED' | 'E_LOG_SIGNATURE' | 'E_LOG_TOO_LARGE';

/** A PyPI version's dependency lock (src/pypi/lock.ts) and what needs one. These exit 1, except E_LOCK_TOO_LARGE. */
export type LockErrorCode = 'E_LOCK_NO_WHEEL' | 'E_LOCK_UNRESOLVED' | 'E_LOCK_TOO_LARGE' | 'E_LOCK_MISSING';

/** Signed index snapshots and the index root that signs them. These exit 1 (an update that fails them is refused), except E_SIGSTORE_SIGN. */
export type SnapshotErrorCode = 'E_INDEX_SIGNATURE' | 'E_INDEX_ROLLBACK' | 'E_INDEX_EXPIRED' | 'E_INDEX_MIXED' | 'E_INDEX_ROOT' | 'E_INDEX_TOO_LARGE' | 'E_SIGSTORE_SIGN';

/** The registry: what it answered, or failed to. */
export type RegistryErrorCode = 'E_REGISTRY_HTTP' | 'E_REGISTRY_TIMEOUT' | 'E_REGISTRY_TOO_LARGE' | 'E_REGISTRY_REDIRECT' | 'E_REGISTRY_MALFORMED' | 'E_REGISTRY_NETWORK' | 'E_VERSION_NOT_FOUND';

/** Trust inputs (trusted root, registry keys) that cannot be used. */
export type TrustInputErrorCode = 'E_TRUST_ROOT' | 'E_REGISTRY_KEYS';

/** Command-line and API arguments. */
export type UsageErrorCode = 'E_USAGE' | 'E_QUERY_EMPTY';

/** The HTTP API of `mcs-pkg serve`: requests it refuses before or instead of answering them. */
export type ServeErrorCode = 'E_CURSOR_INVALID' | 'E_RATE_LIMITED' | 'E_REQUEST_TOO_LARGE' | 'E_METHOD_NOT_ALLOWED';

export type McsErrorCode =
  | JsonErrorCode
  | ManifestErrorCode
  | IndexErrorCode
  | UsageErrorCode
  | ServeErrorCode
  | TrustErrorCode
  | PolicyErrorCode
  | LoaderErrorCode
  | MaintainErrorCode
  | LockErrorCode
  | SnapshotErrorCode
  | RegistryErrorCode
  | TrustInputErrorCode
  | 'E_INTERNAL';

export interface McsErrorOptions {
  cause?: unknown;
  /** Facts behind the failure (file, pointer, expected, found, ...), shown in --json output. */
  details?: Record<string, unknown>;
}

export class McsError<C extends McsErrorCode = McsErrorCode> extends Error {
  readonly code: C;
  readonly details: Record<string, unknown>;

  constructor(code: C, message: string, options: McsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'McsError';
    this.code = code;
    this.details = options.details ?? {};
  }

  toJSON(): { code: C; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isMcsError<C extends McsErrorCode>(
  value: unknown,
  code?: C,
): value is McsError<C> {
  return value instanceof McsError && (code === undefined || value.code === code);
}

/**
 * Codes that mean "the thing checked is not trustworthy or not allowed" (exit
 * 1); every other code is a usage or operational error (exit 2).
 */
export const FAILURE_CODES: ReadonlySet<McsErrorCode> = new Set<McsErrorCode>([
  'E_INTEGRITY_MISMATCH',
  'E_SIZE_MISMATCH',
  'E_MANIFEST_MISMATCH',
  'E_TARBALL_INVALID',
  'E_SIGNATURE_MISSING',
  'E_SIGNATURE_INVALID',
  'E_SIGNATURE_KEY_UNKNOWN',
  'E_SIGNATURE_KEY_EXPIRED',
  'E_PROVENANCE_MISSING',
  'E_PROVENANCE_INVALID',
  'E_ATTESTATION_MALFORMED',
  'E_ATTESTATION_PAYLOAD_TYPE',
  'E_ATTESTATION_PREDICATE',
  'E_ATTESTATION_SUBJECT',
  'E_ATTESTATION_KEYID',
  'E_IDENTITY_MISMATCH',
  'E_PUBLISH_ATTESTATION_MISSING',
  'E_PUBLISH_ATTESTATION_INVALID',
  'E_INSTALLED_MISMATCH',
  'E_DIST_NAME',
  'E_DIST_MISSING',
  'E_DIST_UNPINNED',
  'E_POLICY_LABEL',
  'E_POLICY_DENIED',
  'E_POLICY_YANKED',
  'E_POLICY_CONTRACT',
  'E_POLICY_RELEASE_AGE',
  'E_POLICY_UNPINNED',
  'E_POLICY_QUARANTINED',
  'E_PROVENANCE_DOWNGRADE',
  'E_TAR_PATH',
  'E_TAR_LINK',
  'E_TAR_SPECIAL',
  'E_TAR_DUPLICATE',
  'E_TAR_LIMIT',
  'E_WHEEL_INVALID',
  'E_WHEEL_LIMIT',
  'E_WHEEL_PATH',
  'E_WHEEL_LINK',
  'E_WHEEL_DUPLICATE',
  'E_WHEEL_RECORD',
  'E_WHEEL_METADATA',
  'E_CACHE_TAMPERED',
  'E_DRIVER_SHAPE',
  'E_DRIVER_META',
  'E_DRIVER_CAPABILITY',
  'E_LOAD_REFUSED',
  'E_DRIVER_ENTRY',
  'E_DRIVER_COMMONJS',
  'E_DRIVER_IMPORT',
  'E_DRIVER_DEPENDENCY',
  'E_HOST_DENIED',
  'E_TOOL_REFUSED',
  'E_LOG_CHAIN',
  'E_LOG_UNEXPLAINED',
  'E_LOG_UNSIGNED',
  'E_LOG_SIGNATURE',
  'E_LOG_TOO_LARGE',
  'E_LABEL_REQUIREMENTS',
  'E_IDENTITY_CHANGED',
  'E_MCS_METADATA',
  'E_ADD_REFUSED',
  'E_LOCK_NO_WHEEL',
  'E_LOCK_UNRESOLVED',
  'E_LOCK_MISSING',
  'E_INDEX_SIGNATURE',
  'E_INDEX_ROLLBACK',
  'E_INDEX_EXPIRED',
  'E_INDEX_MIXED',
  'E_INDEX_ROOT',
  'E_INDEX_TOO_LARGE',
]);

/** A whole number from `min` to `max`, or E_USAGE naming the setting (numbers reach the library from flags and from callers alike). */
export function wholeNumber(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new McsError('E_USAGE', `${name} must be a whole number from ${min} to ${max}, got ${String(value)}`, { details: { setting: name, found: String(value), min, max } });
  }
  return value;
}

export function exitCodeFor(error: unknown): 1 | 2 {
  return isMcsError(error) && FAILURE_CODES.has(error.code) ? 1 : 2;
}
