/**
 * Signed index snapshots, after TUF's model (theupdateframework.io
 * specification, sections 5.3 root and 5.4-5.6 freshness): an index root
 * lists the maintainers' keys and a threshold; a snapshot's metadata signs,
 * as one unit, a monotonically increasing version, an expiry, and the length
 * and sha512 of the content. Like TUF, the root names two roles: `root`
 * (the maintainers' keys that sign the next root) and `snapshot` (who signs
 * snapshots: maintainer keys and, optionally, a Sigstore keyless identity,
 * the index's pinned publishing workflow, after TUF TAP 18). Both kinds of
 * signer count toward one threshold through the same code. Pure apart from
 * the Sigstore bundle check: bytes, keys and trust material in, decisions
 * out; the caller reads the clock once and passes it in.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonical } from '../contract/index.js';
import { McsError } from '../errors.js';
import { parseJsonStrict } from '../manifest/json.js';
import { compareIdentity, observedIdentity } from '../trust/identity.js';
import { verifyBundle, type CertificateFields, type TrustMaterial } from '../trust/sigstore.js';

export const ROOT_TYPE = 'mcs-pkg/index-root';
export const SNAPSHOT_TYPE = 'mcs-pkg/index-snapshot';
export const MAX_METADATA_BYTES = 1024 * 1024;
const MAX_KEYS = 64;

export type KeyType = 'ed25519' | 'ecdsa-p256';
export const KEYLESS_TYPE = 'sigstore-keyless';

export interface PublicKeyRecord {
  keytype: KeyType;
  /** SPKI DER, base64. */
  public: string;
  /** The maintainer's name: the `by` of the audit log records the key signs (default: key: and the start of its id). */
  name?: string;
}

/**
 * The workflow allowed to sign snapshots keylessly: every field is compared
 * exactly with its Fulcio certificate. The ref is exact, or a tag prefix
 * ending in * (refs/tags/v*): a branch pattern would let anyone who can push
 * a branch run an edited copy of the workflow.
 */
export interface KeylessIdentity {
  issuer: string;
  /** https://github.com/owner/repo */
  repository: string;
  /** Workflow path inside the repository: .github/workflows/publish.yml */
  workflow: string;
  ref: string;
  /** GitHub's numeric repository id (Fulcio .1.15): survives no rename, so a re-registered name does not match. */
  repositoryId?: string;
  /** GitHub's numeric owner id (Fulcio .1.17). */
  ownerId?: string;
}

const IDENTITY_FIELDS = new Set(['issuer', 'repository', 'workflow', 'ref', 'repositoryId', 'ownerId']);

export interface KeylessRecord {
  keytype: typeof KEYLESS_TYPE;
  identity: KeylessIdentity;
}

export type KeyRecord = PublicKeyRecord | KeylessRecord;

export interface Role {
  keyids: string[];
  threshold: number;
}

export interface RootSigned {
  _type: typeof ROOT_TYPE;
  version: number;
  expires: string;
  keys: Record<string, KeyRecord>;
  roles: { root: Role; snapshot: Role };
}

export type RoleName = keyof RootSigned['roles'];

export interface SnapshotSigned {
  _type: typeof SNAPSHOT_TYPE;
  version: number;
  expires: string;
  /** The root version whose keys signed this snapshot. */
  rootVersion: number;
  content: { file: string; length: number; sha512: string };
  /** The audit log the content was published from: its record count, the sha256 of its last line, and its size in bytes (clients read no more). The next publish must extend it; clients refuse a snapshot without it. */
  log?: { records: number; head: string; length?: number };
}

/** A maintainer key's signature (`sig`), or a keyless one: a Sigstore message-signature bundle over the same bytes. */
export interface Signature {
  keyid: string;
  sig?: string;
  bundle?: unknown;
}

export interface Signed<T> {
  signed: T;
  signatures: Signature[];
}

/** The keyid of a public key: sha256 of its SPKI DER, hex, so a key can never be listed under another key's id. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** The keyid of a keyless identity: sha256 of its record's canonical JSON. */
export function keylessKeyId(record: KeylessRecord): string {
  return createHash('sha256').update(canonical(record)).digest('hex');
}

export function publicKeyRecord(publicKey: KeyObject): PublicKeyRecord {
  const type = publicKey.asymmetricKeyType;
  const curve = publicKey.asymmetricKeyDetails?.namedCurve;
  const keytype: KeyType | undefined = type === 'ed25519' ? 'ed25519' : type === 'ec' && curve === 'prime256v1' ? 'ecdsa-p256' : undefined;
  if (!keytype) throw new McsError('E_USAGE', `only Ed25519 and ECDSA P-256 keys can sign an index (got ${type}${curve ? ` ${curve}` : ''})`);
  return { keytype, public: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') };
}

/** The bytes that are signed: the canonical JSON (keys sorted) of the `signed` part. */
export function signingBytes(signed: unknown): Buffer {
  return Buffer.from(canonical(signed), 'utf8');
}

/** Signs metadata with each private key given (a KeyObject or PEM); the keyid is derived from the key itself. */
export function signMetadata<T>(signed: T, privateKeys: Array<KeyObject | string>): Signed<T> {
  const bytes = signingBytes(signed);
  const signatures = privateKeys.map((key) => {
    const privateKey = typeof key === 'string' ? createPrivateKey(key) : key;
    const publicKey = createPublicKey(privateKey);
    const record = publicKeyRecord(publicKey);
    const sig = sign(record.keytype === 'ed25519' ? null : 'sha256', bytes, privateKey).toString('base64');
    return { keyid: keyIdOf(publicKey), sig };
  });
  return { signed, signatures };
}

export interface RootPlan {
  version: number;
  expires: string;
  /** The maintainers' public keys; they sign roots and snapshots, and the audit log's records. */
  maintainers: KeyObject[];
  /** Their names, in the same order (the `by` of the records each key signs). */
  names?: Array<string | undefined>;
  /** Maintainer signatures a new root needs. */
  threshold: number;
  /** Publishing workflows that may also sign snapshots keylessly. */
  keyless?: KeylessIdentity[];
  /** Signatures a snapshot needs (default: `threshold`), maintainers and workflows counted alike. */
  snapshotThreshold?: number;
}

/** The `signed` part of an index root: every maintainer in both roles, the keyless identities in the snapshot role only. */
export function makeRoot(plan: RootPlan): RootSigned {
  const keys: Record<string, KeyRecord> = {};
  const names = new Set<string>();
  const maintainers = plan.maintainers.map((key, i) => {
    const id = keyIdOf(key);
    const name = plan.names?.[i];
    if (name !== undefined) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(name) || names.has(name)) throw new McsError('E_USAGE', `maintainer name ${JSON.stringify(name)}: names are unique, up to 64 letters, digits and . _ @ -`, { details: { name } });
      names.add(name);
    }
    keys[id] = { ...publicKeyRecord(key), ...(name !== undefined ? { name } : {}) };
    return id;
  });
  const workflows = (plan.keyless ?? []).map((identity) => {
    const record: KeylessRecord = { keytype: KEYLESS_TYPE, identity: { ...identity } };
    const id = keylessKeyId(record);
    keys[id] = record;
    return id;
  });
  return {
    _type: ROOT_TYPE,
    version: plan.version,
    expires: plan.expires,
    keys,
    roles: {
      root: { keyids: maintainers, threshold: plan.threshold },
      snapshot: { keyids: [...maintainers, ...workflows], threshold: plan.snapshotThreshold ?? plan.threshold },
    },
  };
}

function fail(code: 'E_INDEX_SIGNATURE' | 'E_INDEX_ROOT' | 'E_INDEX_EXPIRED' | 'E_INDEX_ROLLBACK' | 'E_INDEX_MIXED' | 'E_INDEX_TOO_LARGE', message: string, details: Record<string, unknown> = {}): McsError {
  return new McsError(code, message, { details });
}

/** Parses signed metadata of the expected type, refusing anything over the cap or shaped otherwise. */
export function parseSigned<T>(bytes: Uint8Array, type: string, source: string): Signed<T> {
  if (bytes.byteLength > MAX_METADATA_BYTES) throw fail('E_INDEX_TOO_LARGE', `${source}: ${bytes.byteLength} bytes, over the limit of ${MAX_METADATA_BYTES}`, { source });
  let value: unknown;
  const code = type === ROOT_TYPE ? 'E_INDEX_ROOT' : 'E_INDEX_SIGNATURE';
  try {
    value = parseJsonStrict(bytes, { source, maxBytes: MAX_METADATA_BYTES, maxDepth: 16 });
  } catch (cause) {
    throw new McsError(code, `${source}: not usable signed metadata: ${(cause as Error).message}`, { cause, details: { source } });
  }
  const doc = value as { signed?: { _type?: unknown; version?: unknown; expires?: unknown }; signatures?: unknown };
  if (!doc || typeof doc !== 'object' || !doc.signed || doc.signed._type !== type || !Number.isSafeInteger(doc.signed.version) || typeof doc.signed.expires !== 'string' || !Array.isArray(doc.signatures) || doc.signatures.length > MAX_KEYS) {
    throw fail(code, `${source}: not ${type} metadata`, { source });
  }
  return doc as Signed<T>;
}

/** Where keyless signatures are checked: the Sigstore trust material (Fulcio, Rekor, TSA) to verify bundles against. */
export interface KeylessTrust {
  sigstore: TrustMaterial;
}

/** Why a keyless identity record cannot be pinned, or null: exactly the known fields, strings, an exact or tag-prefix ref, numeric ids. */
export function keylessRecordProblem(record: KeylessRecord): string | null {
  const identity = record.identity as unknown as Record<string, unknown> | null;
  if (Object.keys(record).some((key) => key !== 'keytype' && key !== 'identity') || typeof identity !== 'object' || identity === null) return 'a keyless record holds exactly keytype and identity';
  const unknown = Object.keys(identity).find((key) => !IDENTITY_FIELDS.has(key));
  if (unknown !== undefined) return `unknown identity field ${JSON.stringify(unknown)}`;
  for (const field of ['issuer', 'repository', 'workflow', 'ref']) if (typeof identity[field] !== 'string' || identity[field] === '') return `identity.${field} is missing`;
  for (const field of ['repositoryId', 'ownerId']) if (identity[field] !== undefined && (typeof identity[field] !== 'string' || !/^[0-9]+$/.test(identity[field]))) return `identity.${field} is not a numeric id`;
  const ref = identity.ref as string;
  if (ref.includes('*') && !/^refs\/tags\/[^*]+\*$/.test(ref)) return `ref ${JSON.stringify(ref)}: a publishing workflow is pinned to one ref, or to tags by a prefix (refs/tags/v*)`;
  return null;
}

/**
 * Why a verified certificate is not the pinned workflow, or null: the
 * identity compared field by field, the build signer being the pinned
 * workflow at the same ref (not a reusable workflow called from elsewhere),
 * and GitHub's immutable ids when pinned.
 */
export function keylessMismatch(identity: KeylessIdentity, certificate: CertificateFields): string | null {
  const observed = observedIdentity(certificate);
  const mismatch = compareIdentity(observed, { ...identity, runner: 'github-hosted' });
  if (mismatch) return `${mismatch.field} is ${JSON.stringify(mismatch.found)}, not ${JSON.stringify(mismatch.expected)}`;
  const signer = `${identity.repository}/${identity.workflow}@${observed.ref}`;
  if (observed.buildSigner !== signer) return `the build signer is ${JSON.stringify(observed.buildSigner)}, not ${JSON.stringify(signer)}`;
  if (identity.repositoryId !== undefined && observed.repositoryId !== identity.repositoryId) return `repository id is ${JSON.stringify(observed.repositoryId)}, not ${identity.repositoryId}`;
  if (identity.ownerId !== undefined && observed.ownerId !== identity.ownerId) return `owner id is ${JSON.stringify(observed.ownerId)}, not ${identity.ownerId}`;
  return null;
}

function verifyKeyless(record: KeylessRecord, bundle: unknown, bytes: Buffer, trust: KeylessTrust | undefined): boolean {
  if (!trust) return false;
  const outcome = verifyBundle(bundle, trust.sigstore, bytes);
  // a DSSE bundle is checked over its own payload, not over `bytes`, so only a message signature binds these bytes
  if (!outcome.ok || outcome.bundle.content !== 'message-signature' || !outcome.bundle.certificate) return false;
  return keylessMismatch(record.identity, outcome.bundle.certificate) === null;
}

/**
 * Counts the distinct keys of one role of `root` that validly signed
 * `metadata` (TUF 5.3.4): signatures by keys outside the role, repeated
 * keyids and bad signatures do not count. A keyless key counts when its
 * bundle verifies over the same bytes and the certificate names the pinned
 * workflow; without Sigstore trust material it counts for nothing.
 */
export function countValidSignatures(metadata: Signed<unknown>, root: RootSigned, role: RoleName, trust?: KeylessTrust): number {
  const bytes = signingBytes(metadata.signed);
  const allowed = new Set(root.roles[role].keyids);
  const counted = new Set<string>();
  for (const signature of metadata.signatures) {
    if (typeof signature?.keyid !== 'string' || counted.has(signature.keyid) || !allowed.has(signature.keyid)) continue;
    if (!Object.hasOwn(root.keys, signature.keyid)) continue;
    const record = root.keys[signature.keyid]!;
    try {
      if (record.keytype === KEYLESS_TYPE) {
        if (keylessKeyId(record) === signature.keyid && verifyKeyless(record, signature.bundle, bytes, trust)) counted.add(signature.keyid);
        continue;
      }
      if (typeof signature.sig !== 'string') continue;
      const key = createPublicKey({ key: Buffer.from(record.public, 'base64'), format: 'der', type: 'spki' });
      if (keyIdOf(key) !== signature.keyid) continue;
      if (verify(record.keytype === 'ed25519' ? null : 'sha256', bytes, key, Buffer.from(signature.sig, 'base64'))) counted.add(signature.keyid);
    } catch {
      // an unusable key or signature counts for nothing
    }
  }
  return counted.size;
}

/** True when a snapshot carries a signature under the keyless identity its root pins, so Sigstore trust material is needed to count it. */
export function needsSigstore(root: RootSigned, metadata: Signed<unknown>): boolean {
  const keyless = new Set(root.roles.snapshot.keyids.filter((id) => root.keys[id]?.keytype === KEYLESS_TYPE));
  return metadata.signatures.some((signature) => keyless.has(signature?.keyid));
}

function assertRole(root: RootSigned, name: RoleName, source: string): void {
  const role = (root.roles as Partial<RootSigned['roles']> | undefined)?.[name];
  const keyids = Array.isArray(role?.keyids) ? role.keyids : [];
  if (!role || keyids.length === 0 || keyids.length > MAX_KEYS || new Set(keyids).size !== keyids.length || !Number.isSafeInteger(role.threshold) || role.threshold < 1 || role.threshold > keyids.length) {
    throw fail('E_INDEX_ROOT', `${source}: the ${name} role lists ${keyids.length} key(s)${new Set(keyids).size !== keyids.length ? ' with repeats' : ''} and threshold ${String(role?.threshold)}; it needs 1 to ${MAX_KEYS} distinct keys and a threshold between 1 and their number`, { source, role: name });
  }
  let keyless = 0;
  for (const id of keyids) {
    const record = typeof id === 'string' && Object.hasOwn(root.keys, id) ? root.keys[id] : undefined;
    if (record?.keytype === KEYLESS_TYPE) {
      const problem = name === 'root' ? 'a keyless identity may sign snapshots only' : keylessRecordProblem(record) ?? (++keyless > 1 ? 'at most one publishing workflow may sign snapshots (two records could name one workflow and count it twice)' : null);
      if (problem) throw fail('E_INDEX_ROOT', `${source}: the ${name} role lists keyless identity ${id}: ${problem}`, { source, role: name, keyid: id });
      continue;
    }
    if ((record?.keytype !== 'ed25519' && record?.keytype !== 'ecdsa-p256') || typeof record.public !== 'string') {
      throw fail('E_INDEX_ROOT', `${source}: the ${name} role lists ${JSON.stringify(id)}, which is not a key it can use`, { source, role: name, keyid: id });
    }
  }
}

/** Checks a root's shape: its keys, both roles and their thresholds. */
export function assertRootShape(root: RootSigned, source: string): void {
  if (typeof root.keys !== 'object' || root.keys === null || Object.keys(root.keys).length > MAX_KEYS) throw fail('E_INDEX_ROOT', `${source}: no key list of at most ${MAX_KEYS} keys`, { source });
  assertRole(root, 'root', source);
  assertRole(root, 'snapshot', source);
}

function assertNotExpired(signed: { expires: string }, now: Date, source: string): void {
  const expires = new Date(signed.expires);
  if (Number.isNaN(expires.getTime()) || expires <= now) {
    throw fail('E_INDEX_EXPIRED', `${source}: expired at ${signed.expires} (checked at ${now.toISOString()})`, { source, expires: signed.expires, now: now.toISOString() });
  }
}

/** Checks a root the user pins as the starting point: well formed and signed by a threshold of its own keys. */
export function trustInitialRoot(bytes: Uint8Array, source: string): RootSigned {
  const root = parseSigned<RootSigned>(bytes, ROOT_TYPE, source);
  assertRootShape(root.signed, source);
  const threshold = root.signed.roles.root.threshold;
  if (countValidSignatures(root, root.signed, 'root') < threshold) throw fail('E_INDEX_ROOT', `${source}: not signed by ${threshold} of its own root keys`, { source });
  return root.signed;
}

/**
 * Accepts the next root (TUF 5.3.4-5.3.5): exactly one version after the
 * trusted one, and signed by a threshold of the trusted root's keys AND a
 * threshold of its own, so a rotation is authorized by the keys it replaces.
 */
export function rotateRoot(trusted: RootSigned, bytes: Uint8Array, source: string): RootSigned {
  const next = parseSigned<RootSigned>(bytes, ROOT_TYPE, source);
  assertRootShape(next.signed, source);
  if (next.signed.version !== trusted.version + 1) {
    throw fail('E_INDEX_ROOT', `${source}: version ${next.signed.version} does not follow the trusted root version ${trusted.version}`, { source, expected: trusted.version + 1, found: next.signed.version });
  }
  const [old, own] = [trusted.roles.root.threshold, next.signed.roles.root.threshold];
  if (countValidSignatures(next, trusted, 'root') < old) throw fail('E_INDEX_ROOT', `${source}: not signed by ${old} root keys of root version ${trusted.version}`, { source });
  if (countValidSignatures(next, next.signed, 'root') < own) throw fail('E_INDEX_ROOT', `${source}: not signed by ${own} of its own root keys`, { source });
  return next.signed;
}

/**
 * Accepts snapshot metadata (TUF 5.4-5.6 applied to one document): signed by
 * a threshold of the current root's keys, for that root's version, not
 * expired at `now` (one reading of the clock for the whole update), and not
 * older than the version already stored.
 */
export function verifySnapshot(bytes: Uint8Array, root: RootSigned, options: { now: Date; storedVersion?: number; source: string; trust?: KeylessTrust }): SnapshotSigned {
  const snapshot = parseSigned<SnapshotSigned>(bytes, SNAPSHOT_TYPE, options.source);
  const valid = countValidSignatures(snapshot, root, 'snapshot', options.trust);
  const threshold = root.roles.snapshot.threshold;
  if (valid < threshold) {
    throw fail('E_INDEX_SIGNATURE', `${options.source}: signed by ${valid} of the ${threshold} signers index root version ${root.version} requires`, { source: options.source, valid, threshold });
  }
  if (snapshot.signed.rootVersion !== root.version) {
    throw fail('E_INDEX_SIGNATURE', `${options.source}: made for index root version ${snapshot.signed.rootVersion}, but root version ${root.version} is trusted`, { source: options.source });
  }
  if (options.storedVersion !== undefined && snapshot.signed.version < options.storedVersion) {
    throw fail('E_INDEX_ROLLBACK', `${options.source}: version ${snapshot.signed.version} is older than the stored version ${options.storedVersion}`, { source: options.source, stored: options.storedVersion, found: snapshot.signed.version });
  }
  assertNotExpired(snapshot.signed, options.now, options.source);
  assertNotExpired(root, options.now, `index root version ${root.version}`);
  const content = snapshot.signed.content;
  if (!content || typeof content.file !== 'string' || !/^[A-Za-z0-9._-]+$/.test(content.file) || !Number.isSafeInteger(content.length) || !/^[0-9a-f]{128}$/.test(content.sha512)) {
    throw fail('E_INDEX_SIGNATURE', `${options.source}: the signed content reference is malformed`, { source: options.source });
  }
  return snapshot.signed;
}

/** The content must be exactly the bytes the snapshot signed (length, then sha512): anything else is a mixed or swapped index. */
export function verifyContent(bytes: Uint8Array, snapshot: SnapshotSigned, source: string): void {
  if (bytes.byteLength !== snapshot.content.length) {
    throw fail('E_INDEX_MIXED', `${source}: ${bytes.byteLength} bytes, but the snapshot signed ${snapshot.content.length}`, { source, expected: snapshot.content.length, found: bytes.byteLength });
  }
  const digest = createHash('sha512').update(bytes).digest('hex');
  if (digest !== snapshot.content.sha512) throw fail('E_INDEX_MIXED', `${source}: sha512 ${digest} is not the signed ${snapshot.content.sha512}`, { source, expected: snapshot.content.sha512, found: digest });
}
