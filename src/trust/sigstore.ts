/**
 * The only module that imports sigstore packages. It turns trust roots into
 * trust material and verifies bundles with @sigstore/verify, and hands back
 * plain data: the signed payload, the transparency log facts and the signing
 * certificate's fields. Identity is never decided here: no verification
 * policy is passed to the library (its SAN policy is an unanchored regex);
 * identity.ts compares fields exactly.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { PublicKey, TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial, type TrustMaterial } from '@sigstore/verify';
import { McsError } from '../errors.js';
import { makeDirs } from '../files.js';
import { join } from 'node:path';
import { defaultCacheDir } from '../config.js';
import { SHIPPED_ROOTS, parseRegistryKeys, trustedRootFrom, type RegistryKey } from './roots.js';

export type { TrustMaterial };

/** Fulcio's OID arc for CI identity extensions (github.com/sigstore/fulcio docs/oid-info.md). */
const FULCIO_ARC = '1.3.6.1.4.1.57264.1.';
/** Extensions .1.1 to .1.6 (deprecated) hold the raw string; later ones a DER UTF8String. */
const RAW_VALUE_EXTENSIONS = new Set([1, 2, 3, 4, 5, 6].map((n) => FULCIO_ARC + n));

/** The signing certificate's identity fields, decoded by OID. */
export interface CertificateFields {
  subjectAlternativeName: string | null;
  /** Fulcio extensions by OID (e.g. "1.3.6.1.4.1.57264.1.12"), as text. */
  extensions: Record<string, string>;
  notBefore: string;
  notAfter: string;
}

export interface TlogFacts {
  logIndex: string;
  integratedTime: string | null;
  kind: string;
}

export interface VerifiedBundle {
  mediaType: string;
  /** What was signed: a DSSE envelope (its payload) or a message signature (the artifact given). */
  content: 'dsse' | 'message-signature';
  /** The DSSE payload (for a DSSE bundle). */
  payload?: Buffer;
  payloadType?: string;
  /** keyid of the DSSE signature ('' when absent). */
  signatureKeyid?: string;
  /** For a keyed bundle: the key hint it names. */
  keyHint?: string;
  /** For a certificate bundle: the signer's certificate fields. */
  certificate?: CertificateFields;
  tlog: TlogFacts[];
}

export type BundleOutcome = { ok: true; bundle: VerifiedBundle } | { ok: false; malformed: boolean; reason: string; libraryCode?: string };

const MAX_ROOT_ENTRIES = 1000;

/**
 * Refuses a trusted root in which a validity range has no start: the
 * protobuf-specs TimeRange requires one (only the end is optional), but
 * @sigstore/verify reads a missing start as the beginning of time
 * (dist/trust/index.js, BEGINNING_OF_TIME), so a malformed root would trust a
 * log key or authority for all of the past. A missing range is left to the
 * library (PublicKey.valid_for is optional).
 */
export function assertTrustedRootBounds(root: Record<string, unknown>): void {
  const lists = [
    ['tlogs', ['publicKey', 'validFor']],
    ['ctlogs', ['publicKey', 'validFor']],
    ['certificateAuthorities', ['validFor']],
    ['timestampAuthorities', ['validFor']],
  ] as const;
  for (const [name, path] of lists) {
    const list = root[name];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length > MAX_ROOT_ENTRIES) {
      throw new McsError('E_TRUST_ROOT', `the trusted root's ${name} is not a list of at most ${MAX_ROOT_ENTRIES} entries`, { details: { pointer: `/${name}` } });
    }
    list.forEach((entry: unknown, i) => {
      let range: unknown = entry;
      for (const key of path) range = typeof range === 'object' && range !== null ? (range as Record<string, unknown>)[key] : undefined;
      if (range === undefined || range === null) return;
      const start = (range as { start?: unknown }).start;
      const pointer = `/${name}/${i}/${path.join('/')}/start`;
      if (typeof start !== 'string' || Number.isNaN(Date.parse(start))) {
        throw new McsError('E_TRUST_ROOT', `the trusted root is malformed: ${pointer}: expected the start of the validity range, got ${JSON.stringify(start ?? null)}`, {
          details: { pointer, found: start ?? null },
        });
      }
    });
  }
}

/** Reads a trusted root for the library: bounds checked first, and any failure is E_TRUST_ROOT. */
function toTrustedRoot(json: Record<string, unknown>): TrustedRoot {
  assertTrustedRootBounds(json);
  try {
    return TrustedRoot.fromJSON(json);
  } catch (cause) {
    throw new McsError('E_TRUST_ROOT', `the trusted root cannot be read: ${(cause as Error).message}`, { cause });
  }
}

/** Builds trust material; the library throws plain errors (TypeError, node:crypto) for some bad roots and keys. */
function buildTrustMaterial(root: TrustedRoot, keys: Parameters<typeof toTrustMaterial>[1]): TrustMaterial {
  try {
    return toTrustMaterial(root, keys);
  } catch (cause) {
    throw new McsError('E_TRUST_ROOT', `the trusted root cannot be used: ${(cause as Error).message}`, { cause });
  }
}

function toProtobufKey(key: RegistryKey): PublicKey {
  return PublicKey.fromJSON({
    rawBytes: key.publicKey.toString('base64'),
    keyDetails: 'PKIX_ECDSA_P256_SHA_256',
    validFor: { ...(key.validFrom ? { start: key.validFrom.toISOString() } : { start: new Date(0).toISOString() }), ...(key.validUntil ? { end: key.validUntil.toISOString() } : {}) },
  });
}

/**
 * Trust material from a trusted root and the registry's attestation keys.
 * Keys go in as a keyid map with their validity windows, so the library
 * checks each key against every verified timestamp of the log.
 */
export function createTrustMaterial(trustedRoot: Record<string, unknown>, keys: RegistryKey[] = []): TrustMaterial {
  const root = toTrustedRoot(trustedRoot);
  const map: Record<string, PublicKey> = {};
  for (const key of keys) if (key.usage === 'any' || key.usage === 'attestations') map[key.keyid] = toProtobufKey(key);
  return buildTrustMaterial(root, map);
}

/** Trust material that accepts exactly one key for any hint (a managed-key bundle checked against a key the user gives). */
export function createKeyTrustMaterial(trustedRoot: Record<string, unknown>, pem: string): TrustMaterial {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (cause) {
    throw new McsError('E_TRUST_ROOT', `the public key cannot be read: ${(cause as Error).message}`, { cause });
  }
  return buildTrustMaterial(toTrustedRoot(trustedRoot), () => ({ publicKey: key, validFor: () => true }));
}

function decodeExtension(oid: string, value: Buffer, parsed: { subs: Array<{ tag: { number: number }; value: Buffer }> }): string {
  if (RAW_VALUE_EXTENSIONS.has(oid)) return value.toString('utf8');
  const inner = parsed.subs[0];
  // a DER UTF8String (tag 12); anything else is kept as hex so it can never be mistaken for a string
  return inner && inner.tag.number === 0x0c ? inner.value.toString('utf8') : `hex:${value.toString('hex')}`;
}

function certificateFields(bundle: Bundle): CertificateFields | undefined {
  const content = bundle.verificationMaterial.content;
  let raw: Buffer | undefined;
  if (content.$case === 'certificate') raw = content.certificate.rawBytes;
  else if (content.$case === 'x509CertificateChain') raw = content.x509CertificateChain.certificates[0]?.rawBytes;
  if (!raw) return undefined;
  const cert = X509Certificate.parse(Buffer.from(raw));
  const extensions: Record<string, string> = {};
  for (let n = 1; n <= 40; n++) {
    const oid = FULCIO_ARC + n;
    const extension = cert.extension(oid);
    if (extension) extensions[oid] = decodeExtension(oid, extension.value, extension.valueObj as never);
  }
  return { subjectAlternativeName: cert.subjectAltName ?? null, extensions, notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString() };
}

function describe(bundle: Bundle): VerifiedBundle {
  const content = bundle.content;
  const material = bundle.verificationMaterial.content;
  const certificate = certificateFields(bundle);
  return {
    mediaType: bundle.mediaType,
    content: content.$case === 'dsseEnvelope' ? 'dsse' : 'message-signature',
    ...(content.$case === 'dsseEnvelope'
      ? {
          payload: Buffer.from(content.dsseEnvelope.payload),
          payloadType: content.dsseEnvelope.payloadType,
          signatureKeyid: content.dsseEnvelope.signatures[0]?.keyid ?? '',
        }
      : {}),
    ...(material.$case === 'publicKey' ? { keyHint: material.publicKey.hint } : {}),
    ...(certificate ? { certificate } : {}),
    tlog: bundle.verificationMaterial.tlogEntries.map((entry) => ({
      logIndex: String(entry.logIndex),
      integratedTime: entry.integratedTime ? new Date(Number(entry.integratedTime) * 1000).toISOString() : null,
      kind: `${entry.kindVersion?.kind ?? '?'}/${entry.kindVersion?.version ?? '?'}`,
    })),
  };
}

/** Most transparency log entries, RFC 3161 timestamps and chain certificates a bundle may carry. */
export const MAX_BUNDLE_TLOG_ENTRIES = 8;
export const MAX_BUNDLE_TIMESTAMPS = 8;
export const MAX_BUNDLE_CHAIN = 10;

/**
 * Refuses bundles with more entries than any real one has, before the
 * library sees them: @sigstore/verify compares every timestamp with every
 * other one before any cryptographic check, so thousands of junk log entries
 * would keep it busy for minutes to hours.
 */
function bundleSizeProblem(json: unknown): string | null {
  const material = (json as { verificationMaterial?: Record<string, unknown> } | null)?.verificationMaterial;
  if (typeof material !== 'object' || material === null) return null; // the parser reports the shape
  const count = (value: unknown): number => (Array.isArray(value) ? value.length : 0);
  const tlog = count(material.tlogEntries);
  const timestamps = count((material.timestampVerificationData as { rfc3161Timestamps?: unknown } | undefined)?.rfc3161Timestamps);
  const chain = count((material.x509CertificateChain as { certificates?: unknown } | undefined)?.certificates);
  if (tlog > MAX_BUNDLE_TLOG_ENTRIES) return `the bundle carries ${tlog} transparency log entries; at most ${MAX_BUNDLE_TLOG_ENTRIES} are accepted`;
  if (timestamps > MAX_BUNDLE_TIMESTAMPS) return `the bundle carries ${timestamps} RFC 3161 timestamps; at most ${MAX_BUNDLE_TIMESTAMPS} are accepted`;
  if (chain > MAX_BUNDLE_CHAIN) return `the bundle's certificate chain has ${chain} certificates; at most ${MAX_BUNDLE_CHAIN} are accepted`;
  return null;
}

/**
 * Verifies a bundle cryptographically: the signature (over `artifact` for a
 * message-signature bundle, over the DSSE payload otherwise), the
 * certificate chain to the trusted root, the transparency log entry and its
 * timestamps, with the library's default thresholds (at least one verified
 * timestamp, so key and certificate validity are always checked). Never
 * throws for bad input: the library throws more than VerificationError
 * (ValidationError, TypeError, 'invalid time'), so every throw is an outcome.
 */
export function verifyBundle(bundleJson: unknown, trust: TrustMaterial, artifact?: Buffer): BundleOutcome {
  const oversized = bundleSizeProblem(bundleJson);
  if (oversized) return { ok: false, malformed: true, reason: oversized };
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(bundleJson);
  } catch (cause) {
    return { ok: false, malformed: true, reason: `not a Sigstore bundle: ${(cause as Error).message}` };
  }
  try {
    new Verifier(trust).verify(toSignedEntity(bundle, artifact));
    return { ok: true, bundle: describe(bundle) };
  } catch (cause) {
    const libraryCode = (cause as { code?: unknown }).code;
    return {
      ok: false,
      malformed: false,
      reason: (cause as Error).message || String(cause),
      ...(typeof libraryCode === 'string' ? { libraryCode } : {}),
    };
  }
}

/** Where keyless signing goes: Fulcio, Rekor, an optional timestamp authority, and the OIDC token (default: the CI provider's, e.g. GitHub Actions with `id-token: write`). */
export interface KeylessSignOptions {
  fulcioURL?: string;
  rekorURL?: string;
  tsaServerURL?: string;
  identityToken?: string;
  timeoutMs?: number;
}

/**
 * Signs bytes keylessly (a message-signature bundle: a short-lived Fulcio
 * certificate for the OIDC identity, logged in Rekor). The sigstore client is
 * loaded only here, and only when signing.
 */
export async function signKeyless(bytes: Buffer, options: KeylessSignOptions): Promise<Record<string, unknown>> {
  const { sign } = await import('sigstore');
  try {
    const bundle = await sign(bytes, {
      ...(options.fulcioURL ? { fulcioURL: options.fulcioURL } : {}),
      ...(options.rekorURL ? { rekorURL: options.rekorURL } : {}),
      ...(options.tsaServerURL ? { tsaServerURL: options.tsaServerURL } : {}),
      ...(options.identityToken ? { identityToken: options.identityToken } : {}),
      timeout: options.timeoutMs ?? 30_000,
      retry: 2,
    });
    return bundle as unknown as Record<string, unknown>;
  } catch (cause) {
    throw new McsError('E_SIGSTORE_SIGN', `keyless signing failed: ${(cause as Error).message}; in GitHub Actions the job needs \`permissions: id-token: write\`, elsewhere give an OIDC token with --identity-token`, { cause });
  }
}

/** The signing certificate's fields of a bundle, read without verifying it (to tell a signer which identity it signed as). */
export function bundleCertificate(bundleJson: unknown): CertificateFields | undefined {
  try {
    return certificateFields(bundleFromJSON(bundleJson));
  } catch {
    return undefined;
  }
}

/** The Sigstore public-good TUF repository. */
export const PUBLIC_GOOD_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

export interface TufOptions {
  /** TUF repository; default the public-good one. */
  mirrorURL?: string;
  /** Initial root.json for a mirror other than the public-good one (whose root @sigstore/tuf ships). */
  rootPath?: string;
  /** Where TUF metadata and targets are cached between runs. */
  cachePath: string;
  timeoutMs?: number;
}

/** Creates the TUF cache folder, failing fast (no network) where it cannot be: @sigstore/tuf creates it with a recursive mkdir, which never returns under /proc. */
export function prepareTufCache(options: TufOptions, code: 'E_TRUST_ROOT' | 'E_REGISTRY_KEYS' = 'E_TRUST_ROOT'): void {
  makeDirs(options.cachePath, 'TUF cache folder', { code, hint: 'give --cache-dir (or MCS_PKG_CACHE) a writable folder' });
}

/** Fetches targets from a TUF repository (TUF client workflow: root rotation, timestamp, snapshot, targets, each signed and fresh; each target checked against its recorded length and hashes). */
async function tufTarget(options: TufOptions, target: string, code: 'E_TRUST_ROOT' | 'E_REGISTRY_KEYS'): Promise<unknown> {
  const mirrorURL = options.mirrorURL ?? PUBLIC_GOOD_TUF_MIRROR;
  prepareTufCache(options, code);
  const { initTUF } = await import('@sigstore/tuf');
  let text: string;
  try {
    const tuf = await initTUF({
      mirrorURL,
      cachePath: options.cachePath,
      ...(options.rootPath ? { rootPath: options.rootPath } : {}),
      forceCache: false,
      forceInit: false,
      retry: 1,
      timeout: options.timeoutMs ?? 30_000,
    });
    text = await tuf.getTarget(target);
  } catch (cause) {
    const option = code === 'E_TRUST_ROOT' ? '--trusted-root' : '--registry-keys';
    throw new McsError(
      code,
      `cannot get ${target} from the TUF repository ${mirrorURL}: ${(cause as Error).message}; without network, use the copy shipped with mcs-pkg with ${option} ${SHIPPED_ROOTS} (a snapshot: signers added since need a newer one), or pin a file with ${option} FILE`,
      { cause, details: { mirrorURL, target } },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new McsError(code, `the TUF repository ${mirrorURL} served a ${target} that is not JSON`, { cause, details: { mirrorURL, target } });
  }
}

/** TUF options with the default cache folder (<cache>/tuf) filled in. */
export function tufDefaults(tuf: Partial<TufOptions> = {}): TufOptions {
  return { ...tuf, cachePath: tuf.cachePath ?? join(defaultCacheDir(), 'tuf') };
}

/** The Sigstore trusted root to verify against: the pinned file (or the shipped copy) when given, else the one the TUF repository serves now. */
export async function resolveTrustedRoot(pinned: string | undefined, tuf: Partial<TufOptions> = {}): Promise<{ json: Record<string, unknown>; source: string }> {
  return pinned ? trustedRootFrom(pinned) : trustedRootFromTuf(tufDefaults(tuf));
}

/**
 * The trusted root as the TUF repository serves it now. A repository that
 * cannot be reached or does not verify is an error, never a silent fallback.
 */
export async function trustedRootFromTuf(options: TufOptions): Promise<{ json: Record<string, unknown>; source: string }> {
  const mirrorURL = options.mirrorURL ?? PUBLIC_GOOD_TUF_MIRROR;
  const json = await tufTarget(options, 'trusted_root.json', 'E_TRUST_ROOT');
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new McsError('E_TRUST_ROOT', `the TUF repository ${mirrorURL} served a trusted_root.json that is not an object`, { details: { mirrorURL } });
  return { json: json as Record<string, unknown>, source: `TUF ${mirrorURL} (cached in ${options.cachePath})` };
}

/**
 * npm's registry keys as the TUF repository serves them (target
 * registry.npmjs.org/keys.json): for the public registry the keys must not
 * come from the registry being checked, which a mirror could replace.
 */
export async function npmRegistryKeysFromTuf(options: TufOptions): Promise<{ keys: RegistryKey[]; source: string }> {
  const mirrorURL = options.mirrorURL ?? PUBLIC_GOOD_TUF_MIRROR;
  const json = await tufTarget(options, NPM_KEYS_TUF_TARGET, 'E_REGISTRY_KEYS');
  return { keys: parseRegistryKeys(json, `TUF ${mirrorURL}: ${NPM_KEYS_TUF_TARGET}`), source: `TUF ${mirrorURL}: ${NPM_KEYS_TUF_TARGET}` };
}

export const NPM_KEYS_TUF_TARGET = 'registry.npmjs.org/keys.json';
