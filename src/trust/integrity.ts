/**
 * Integrity of the bytes themselves (DESIGN.md §4 check 1): the SRI sha512 of
 * the tarball equals the index pin and the registry's dist.integrity, its
 * size equals the pin, and its own package.json names the requested package
 * and version (a mismatch is manifest confusion).
 */
import ssri from 'ssri';
import { McsError, isMcsError } from '../errors.js';
import { planTarball } from '../loader/extract.js';
import { parseJsonStrict } from '../manifest/json.js';
import { fail, pass, skip, type CheckResult } from './result.js';

export interface IntegrityInput {
  name: string;
  version: string;
  bytes: Uint8Array;
  /** What the index pins for this version, when it is listed. */
  pinned?: { integrity: string; size?: number };
  /** dist.integrity from the registry's packument, when fetched or given. */
  registryIntegrity?: string;
  /** The integrity the caller expects (a lockfile's), when given. */
  expectedIntegrity?: string;
}

/** An expected integrity as a lockfile records it: an SRI string with a sha512 digest (weaker digests alone are refused). */
export function parseExpectedIntegrity(value: string): string {
  const parsed = ssri.parse(value);
  if (!parsed?.sha512?.length) {
    throw new McsError('E_USAGE', `--integrity: expected an SRI string with a sha512 digest (sha512-BASE64, as package-lock.json records it), got ${JSON.stringify(value.slice(0, 120))}`, { details: { integrity: value.slice(0, 120) } });
  }
  return value.trim();
}

/** SRI sha512 of the bytes, as npm writes dist.integrity. */
export function sha512Integrity(bytes: Uint8Array): string {
  return ssri.fromData(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { algorithms: ['sha512'] }).toString();
}

export function checkIntegrity(input: IntegrityInput): CheckResult[] {
  const spec = `${input.name}@${input.version}`;
  const computed = sha512Integrity(input.bytes);
  const evidence = { computed, pinned: input.pinned?.integrity ?? null, registry: input.registryIntegrity ?? null, expected: input.expectedIntegrity ?? null };
  const results: CheckResult[] = [];
  const expectations: Array<[string, string]> = [];
  if (input.pinned) expectations.push(['the index pin', input.pinned.integrity]);
  if (input.registryIntegrity) expectations.push(["the registry's dist.integrity", input.registryIntegrity]);
  if (input.expectedIntegrity) expectations.push(['the expected integrity', input.expectedIntegrity]);
  const mismatch = expectations.find(([, expected]) => !ssri.checkData(Buffer.from(input.bytes), expected));
  if (mismatch) {
    results.push(fail('integrity', 'E_INTEGRITY_MISMATCH', `${spec}: tarball digest ${computed} does not match ${mismatch[0]} ${mismatch[1]}`, evidence));
  } else if (expectations.length === 0) {
    results.push(skip('integrity', `${spec}: not checked: no expected digest (no index pin, no lockfile integrity given with --integrity, no packument given with --packument); only a verified attestation subject binds these bytes`, evidence));
  } else {
    results.push(pass('integrity', `${spec}: sha512 matches ${expectations.map(([what]) => what).join(' and ')}`, evidence));
  }
  if (input.pinned?.size !== undefined) {
    const size = input.bytes.byteLength;
    results.push(
      size === input.pinned.size
        ? pass('size', `${spec}: ${size} bytes as pinned`, { size })
        : fail('size', 'E_SIZE_MISMATCH', `${spec}: expected ${input.pinned.size} bytes, got ${size}`, { expected: input.pinned.size, found: size }),
    );
  }
  results.push(checkManifest(input));
  return results;
}

/**
 * The tarball's own package.json, read the way the loader would unpack the
 * tarball: through the same extraction plan, so links, traversal, devices,
 * duplicate paths (a second package.json, a second top folder) and bombs are
 * refused here too, and the manifest checked is the one that would be used.
 */
const TAR_REFUSALS = ['E_TARBALL_INVALID', 'E_TAR_PATH', 'E_TAR_LINK', 'E_TAR_SPECIAL', 'E_TAR_DUPLICATE', 'E_TAR_LIMIT'] as const;
function isTarRefusal(code: string): code is (typeof TAR_REFUSALS)[number] {
  return (TAR_REFUSALS as readonly string[]).includes(code);
}

function checkManifest(input: IntegrityInput): CheckResult {
  const spec = `${input.name}@${input.version}`;
  let manifest: Record<string, unknown>;
  try {
    const plan = planTarball(input.bytes, {}, spec);
    const file = plan.files.find((f) => f.relativePath === 'package.json')!;
    const value = parseJsonStrict(file.data, { source: `${spec}: package.json` });
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new McsError('E_TARBALL_INVALID', `${spec}: its package.json is not a JSON object`);
    manifest = value as Record<string, unknown>;
  } catch (error) {
    if (isMcsError(error)) return fail('manifest', isTarRefusal(error.code) ? error.code : 'E_TARBALL_INVALID', error.message, { reason: error.code });
    throw error;
  }
  const found = { name: manifest.name, version: manifest.version };
  if (found.name !== input.name || found.version !== input.version) {
    return fail('manifest', 'E_MANIFEST_MISMATCH', `${spec}: the tarball's package.json says ${String(found.name)}@${String(found.version)}`, {
      expected: { name: input.name, version: input.version },
      found,
    });
  }
  return pass('manifest', `${spec}: the tarball's package.json names this package and version`, found);
}
