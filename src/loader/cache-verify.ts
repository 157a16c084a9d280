/**
 * `mcs-pkg cache verify`: every entry of a cache root checked as a load
 * would check it just before use. An npm entry is re-hashed against its
 * manifest; a wheel entry is, in addition, derived again from its kept wheel
 * (pypi/wheel.ts verifyWheelEntry), so a file changed together with its
 * manifest line is reported as well.
 */
import { defaultDriverCacheDir } from '../config.js';
import { isMcsError } from '../errors.js';
import { verifyWheelEntry } from '../pypi/wheel.js';
import { listCache, verifyCacheEntry, type CacheCheck } from './cache.js';

/** Checks every entry of a cache root (what `mcs-pkg cache verify` reports). */
export async function verifyCache(cacheRoot: string = defaultDriverCacheDir()): Promise<CacheCheck[]> {
  const checks: CacheCheck[] = [];
  for (const listing of listCache(cacheRoot)) {
    try {
      if (listing.integrity.startsWith('sha256-')) await verifyWheelEntry(cacheRoot, Buffer.from(listing.integrity.slice('sha256-'.length), 'base64').toString('hex'));
      else verifyCacheEntry(listing.path, { integrity: listing.integrity });
      checks.push({ ...listing, ok: true });
    } catch (error) {
      if (!isMcsError(error)) throw error;
      checks.push({ ...listing, ok: false, error: error.toJSON() });
    }
  }
  return checks;
}
