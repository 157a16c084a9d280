/** A tampered cache entry's error says the way out: mcs-pkg cache clean. */
import { chmodSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanCache, verifyCacheEntry } from '../../../src/loader/cache.js';
import { extractToCache } from '../../../src/loader/extract.js';
import { removeReadOnlyDir, tempDir } from '../../helpers/index-data.js';
import { makeTarball } from '../../helpers/tarball.js';
import '../../helpers/matchers.js';

const tgz = makeTarball([
  { path: 'package/package.json', content: JSON.stringify({ name: 'mcs-driver-csv', version: '1.2.3', type: 'module' }) },
  { path: 'package/index.js', content: 'export default 1;\n' },
]);
const integrity = 'sha512-' + createHash('sha512').update(tgz).digest('base64');
let root: string | undefined;
afterEach(() => root && removeReadOnlyDir(root));

describe('E_CACHE_TAMPERED', () => {
  it('for a cached folder whose mode changed, names mcs-pkg cache clean as the way out', async () => {
    root = tempDir('mcs-cache-tampered-');
    const entry = await extractToCache(tgz, integrity, join(root, 'cache'));
    chmodSync(entry.path, 0o755);
    expect(() => verifyCacheEntry(entry.path)).toThrowWithCode('E_CACHE_TAMPERED');
    expect(() => verifyCacheEntry(entry.path)).toThrow(/mcs-pkg cache clean/);
    // and that way out works
    cleanCache(join(root, 'cache'));
    expect(existsSync(entry.path)).toBe(false);
  });
});
