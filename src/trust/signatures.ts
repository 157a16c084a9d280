/**
 * npm registry signatures (DESIGN.md §4 check 2): ECDSA P-256 / SHA-256 over
 * `${name}@${version}:${integrity}`, by the key whose keyid the signature
 * names, valid when the version was published. A registry that has keys but
 * no signature for a version fails: a stripped signature must not pass as
 * "unsigned".
 */
import { createPublicKey, verify } from 'node:crypto';
import { keyValidAt, type RegistryKey } from './roots.js';
import { fail, pass, skip, type CheckResult } from './result.js';

export interface RegistrySignature {
  keyid: string;
  sig: string;
}

export interface SignatureInput {
  name: string;
  version: string;
  /** dist.integrity as signed. */
  integrity: string;
  /** dist.signatures from the packument; anything, since it is untrusted. */
  signatures: unknown;
  keys: RegistryKey[];
  /** When the version was published (the transparency log's time when known); undefined when nothing says. */
  publishedAt: Date | undefined;
}

function asSignatures(value: unknown): RegistrySignature[] {
  if (!Array.isArray(value)) return [];
  return value
    .slice(0, 16)
    .filter((s): s is RegistrySignature => typeof s === 'object' && s !== null && typeof (s as RegistrySignature).keyid === 'string' && typeof (s as RegistrySignature).sig === 'string');
}

export function checkRegistrySignature(input: SignatureInput): CheckResult {
  const spec = `${input.name}@${input.version}`;
  if (input.keys.length === 0) return skip('registry-signature', `${spec}: no registry keys to check signatures with`);
  const signatures = asSignatures(input.signatures);
  if (signatures.length === 0) {
    return fail('registry-signature', 'E_SIGNATURE_MISSING', `${spec}: the registry has signing keys but the version carries no signature`, {
      keyids: input.keys.map((k) => k.keyid),
    });
  }
  const message = Buffer.from(`${input.name}@${input.version}:${input.integrity}`, 'utf8');
  let expired: { keyid: string } | undefined;
  let invalid: { keyid: string } | undefined;
  for (const signature of signatures) {
    const candidates = input.keys.filter((k) => k.keyid === signature.keyid && (k.usage === 'any' || k.usage === 'signatures'));
    if (candidates.length === 0) continue;
    let verified = false;
    try {
      const publicKey = createPublicKey({ key: candidates[0]!.publicKey, format: 'der', type: 'spki' });
      verified = verify('sha256', message, publicKey, Buffer.from(signature.sig, 'base64'));
    } catch {
      verified = false;
    }
    if (!verified) {
      invalid = { keyid: signature.keyid };
      continue;
    }
    // with no publish time, only a key without an expiry can be shown valid
    const valid = input.publishedAt ? candidates.some((k) => keyValidAt(k, 'signatures', input.publishedAt!)) : candidates.some((k) => !k.validUntil && (k.usage === 'any' || k.usage === 'signatures'));
    if (!valid) {
      expired = { keyid: signature.keyid };
      continue;
    }
    return pass('registry-signature', `${spec}: signed by registry key ${signature.keyid}`, { keyid: signature.keyid, publishedAt: input.publishedAt?.toISOString() ?? null });
  }
  const evidence = { keyids: signatures.map((s) => s.keyid), publishedAt: input.publishedAt?.toISOString() ?? null };
  if (invalid) return fail('registry-signature', 'E_SIGNATURE_INVALID', `${spec}: the signature by ${invalid.keyid} does not verify`, evidence);
  if (expired) {
    const when = input.publishedAt ? `when the version was published (${input.publishedAt.toISOString()})` : 'at an unknown publish time (the key has an expiry)';
    return fail('registry-signature', 'E_SIGNATURE_KEY_EXPIRED', `${spec}: key ${expired.keyid} cannot be shown valid ${when}`, evidence);
  }
  return fail('registry-signature', 'E_SIGNATURE_KEY_UNKNOWN', `${spec}: signed by ${signatures.map((s) => s.keyid).join(', ')}, none of them a known registry key`, evidence);
}
