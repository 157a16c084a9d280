/**
 * Trust roots are inputs, never fetched behind the user's back. Offline, the
 * Sigstore public-good trusted root and npm's registry keys come from the
 * snapshot that @sigstore/tuf ships in its seeds (its TUF root metadata has
 * expired, so the targets are read directly), or from files the user pins.
 * This module only reads and shapes data; sigstore.ts turns it into trust
 * material.
 */
import { createRequire } from 'node:module';
import { McsError } from '../errors.js';
import { readFileCapped } from '../files.js';
import { parseJsonStrict } from '../manifest/json.js';

const SEEDS_REPOSITORY = 'https://tuf-repo-cdn.sigstore.dev';
const TRUSTED_ROOT_TARGET = 'trusted_root.json';
const NPM_KEYS_TARGET = 'registry.npmjs.org%2Fkeys.json';
const MAX_ROOT_BYTES = 4 * 1024 * 1024;

/** What a registry key may vouch for; the TUF keys target gives each use its own validity window. */
export type KeyUsage = 'signatures' | 'attestations';

/** A registry public key with the window in which it was valid. */
export interface RegistryKey {
  keyid: string;
  /** SPKI DER. */
  publicKey: Buffer;
  usage: KeyUsage | 'any';
  validFrom?: Date;
  validUntil?: Date;
}

export interface TrustedRootInput {
  /** The trusted_root.json document (Sigstore TrustedRoot, JSON form). */
  json: Record<string, unknown>;
  /** Where it came from, for reports. */
  source: string;
}

export interface RegistryKeysInput {
  keys: RegistryKey[];
  source: string;
}

function readSeeds(): Record<string, unknown> {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@sigstore/tuf/seeds.json');
  const seeds = parseJsonStrict(readFileCapped(file, MAX_ROOT_BYTES, 'Sigstore TUF seeds', { code: 'E_TRUST_ROOT' }), { source: file, maxBytes: MAX_ROOT_BYTES, maxDepth: 8 }) as Record<string, { targets?: Record<string, string> }>;
  const targets = seeds[SEEDS_REPOSITORY]?.targets;
  if (!targets) throw new McsError('E_TRUST_ROOT', `${file}: no targets for ${SEEDS_REPOSITORY}`, { details: { source: file } });
  return targets;
}

function seedTarget(name: string, code: 'E_TRUST_ROOT' | 'E_REGISTRY_KEYS'): Record<string, unknown> {
  const encoded = readSeeds()[name];
  if (typeof encoded !== 'string') throw new McsError(code, `the @sigstore/tuf seeds have no ${name} target`, { details: { target: name } });
  return asObject(parseJsonStrict(Buffer.from(encoded, 'base64'), { source: `@sigstore/tuf seeds: ${name}`, maxBytes: MAX_ROOT_BYTES }), name, code);
}

function asObject(value: unknown, source: string, code: 'E_TRUST_ROOT' | 'E_REGISTRY_KEYS'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new McsError(code, `${source}: expected a JSON object`, { details: { source } });
  return value as Record<string, unknown>;
}

/** The public-good trusted root as shipped in @sigstore/tuf's seeds (usable offline; it is a snapshot). */
export function embeddedTrustedRoot(): TrustedRootInput {
  return { json: seedTarget(TRUSTED_ROOT_TARGET, 'E_TRUST_ROOT'), source: '@sigstore/tuf seeds: trusted_root.json (offline snapshot of the public-good root)' };
}

/**
 * The value of a trusted-root or registry-keys option that names the copies
 * shipped with mcs-pkg (the snapshot in @sigstore/tuf's seeds) instead of a
 * file: usable with no network. A file of that name is given as ./shipped.
 */
export const SHIPPED_ROOTS = 'shipped';

/** The trusted root an option names: the shipped copy for SHIPPED_ROOTS, else the file. */
export function trustedRootFrom(value: string): TrustedRootInput {
  return value === SHIPPED_ROOTS ? embeddedTrustedRoot() : trustedRootFromFile(value);
}

/** The registry keys an option names: npm's shipped keys for SHIPPED_ROOTS, else the file. */
export function registryKeysFrom(value: string): RegistryKeysInput {
  return value === SHIPPED_ROOTS ? embeddedRegistryKeys() : registryKeysFromFile(value);
}

/** A trusted_root.json the user pins (like gh attestation verify --custom-trusted-root). */
export function trustedRootFromFile(file: string): TrustedRootInput {
  const bytes = readFileCapped(file, MAX_ROOT_BYTES, 'trusted root', { code: 'E_TRUST_ROOT' });
  const json = asObject(parseJsonStrict(bytes, { source: file, maxBytes: MAX_ROOT_BYTES }), file, 'E_TRUST_ROOT');
  if (typeof json.mediaType !== 'string' || !json.mediaType.startsWith('application/vnd.dev.sigstore.trustedroot')) {
    throw new McsError('E_TRUST_ROOT', `${file}: not a Sigstore trusted root (mediaType ${JSON.stringify(json.mediaType)})`, { details: { source: file } });
  }
  return { json, source: file };
}

/** A key's validity date; absent is open-ended, but a date that does not parse is refused (it must not mean "never expires"). */
function date(value: unknown, source: string): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const parsed = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(parsed.getTime())) throw new McsError('E_REGISTRY_KEYS', `${source}: ${JSON.stringify(value)} is not a date`, { details: { source } });
  return parsed;
}

/**
 * Reads registry keys in either shape npm publishes them: the registry's
 * `/-/npm/v1/keys` answer ({keys: [{keyid, key, expires}]}) or the TUF
 * `keys.json` target ({keys: [{keyId, keyUsage, publicKey: {rawBytes, validFor}}]}).
 */
export function parseRegistryKeys(value: unknown, source: string): RegistryKey[] {
  const keys = asObject(value, source, 'E_REGISTRY_KEYS').keys;
  if (!Array.isArray(keys) || keys.length > 100) throw new McsError('E_REGISTRY_KEYS', `${source}: expected "keys" to be a list of at most 100 keys`, { details: { source } });
  return keys.map((raw, i): RegistryKey => {
    const key = asObject(raw, `${source}: /keys/${i}`, 'E_REGISTRY_KEYS');
    const bad = (what: string) => new McsError('E_REGISTRY_KEYS', `${source}: /keys/${i}: ${what}`, { details: { source, pointer: `/keys/${i}` } });
    if (typeof key.keyid === 'string' && typeof key.key === 'string') {
      const validUntil = date(key.expires, `${source}: /keys/${i}/expires`);
      return { keyid: key.keyid, publicKey: Buffer.from(key.key, 'base64'), usage: 'any', ...(validUntil ? { validUntil } : {}) };
    }
    if (typeof key.keyId === 'string' && typeof key.publicKey === 'object' && key.publicKey !== null) {
      const publicKey = key.publicKey as { rawBytes?: unknown; validFor?: { start?: unknown; end?: unknown } };
      if (typeof publicKey.rawBytes !== 'string') throw bad('publicKey.rawBytes is missing');
      const usage = key.keyUsage === 'npm:signatures' ? 'signatures' : key.keyUsage === 'npm:attestations' ? 'attestations' : undefined;
      if (!usage) throw bad(`unknown keyUsage ${JSON.stringify(key.keyUsage)}`);
      const validFrom = date(publicKey.validFor?.start, `${source}: /keys/${i}/publicKey/validFor/start`);
      const validUntil = date(publicKey.validFor?.end, `${source}: /keys/${i}/publicKey/validFor/end`);
      return { keyid: key.keyId, publicKey: Buffer.from(publicKey.rawBytes, 'base64'), usage, ...(validFrom ? { validFrom } : {}), ...(validUntil ? { validUntil } : {}) };
    }
    throw bad('neither the /-/npm/v1/keys shape nor the keys.json shape');
  });
}

/** npm's registry keys from @sigstore/tuf's seeds (both the signing and the attestation windows). */
export function embeddedRegistryKeys(): RegistryKeysInput {
  return { keys: parseRegistryKeys(seedTarget(NPM_KEYS_TARGET, 'E_REGISTRY_KEYS'), 'keys.json'), source: '@sigstore/tuf seeds: registry.npmjs.org/keys.json' };
}

export function registryKeysFromFile(file: string): RegistryKeysInput {
  const bytes = readFileCapped(file, MAX_ROOT_BYTES, 'registry keys', { code: 'E_REGISTRY_KEYS' });
  return { keys: parseRegistryKeys(parseJsonStrict(bytes, { source: file, maxBytes: MAX_ROOT_BYTES }), file), source: file };
}

/** Is the key usable for `usage` at `time`? (validFrom inclusive, validUntil exclusive) */
export function keyValidAt(key: RegistryKey, usage: KeyUsage, time: Date): boolean {
  if (key.usage !== 'any' && key.usage !== usage) return false;
  if (key.validFrom && time < key.validFrom) return false;
  if (key.validUntil && time >= key.validUntil) return false;
  return true;
}
