import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveDriver, toDriverQuery } from '../../src/loader/resolve.js';
import { openIndex, type McsIndex } from '../../src/index/store.js';
import { resolvePolicy } from '../../src/trust/policy.js';
import { SAMPLE_SHA512, npmDriver, removeDir, tempDir, writeIndex } from '../helpers/index-data.js';

const NOW = new Date('2026-11-21T00:00:00Z');
const label = (value: 'verified' | 'reference' | 'community') => ({ value, by: 't', at: '2026-01-01T00:00:00Z', reason: 'r' });
const pinned = (extra = {}) => ({ integrity: SAMPLE_SHA512, size: 100, provenance: true, published: '2026-01-01T00:00:00Z', ...extra });

let dir: string;
let index: McsIndex;

beforeAll(async () => {
  dir = tempDir('mcs-resolve-');
  writeIndex(join(dir, 'index'), [
    npmDriver('mcs-driver-csv', { label: label('verified'), versions: { '1.0.0': pinned(), '1.1.0': pinned(), '2.0.0': pinned({ yanked: { reason: 'leaks file paths' } }) } }),
    npmDriver('mcs-driver-csv-fast', { label: label('community'), versions: { '3.0.0': pinned() } }),
    npmDriver('mcs-driver-csv-arrow', { label: label('reference'), versions: { '0.9.0': pinned({ contract: '>=0.7' }) } }),
    { ...npmDriver('mcs-driver-rest'), label: label('verified'), versions: {} },
  ]);
  index = await openIndex({ indexDir: join(dir, 'index'), cacheDir: join(dir, 'cache') });
});
afterAll(() => {
  index.close();
  removeDir(dir);
});

describe('resolveDriver', () => {
  it('reads a package name or a capability from a query string', () => {
    expect(toDriverQuery('mcs-driver-csv')).toEqual({ name: 'mcs-driver-csv' });
    expect(toDriverQuery('csv')).toEqual({ capability: 'csv' });
    expect(() => toDriverQuery('csv; rm -rf /')).toThrowWithCode('E_USAGE');
    expect(toDriverQuery('mcs-driver-csv@1.2.0')).toEqual({ name: 'mcs-driver-csv', version: '1.2.0' });
    expect(toDriverQuery('npm:mcs-driver-csv@^1 || >=3')).toEqual({ name: 'mcs-driver-csv', version: '^1 || >=3', ecosystem: 'npm' });
    expect(toDriverQuery('pypi:MCS_Driver_CSV@0.1.3')).toEqual({ name: 'mcs-driver-csv', version: '0.1.3', ecosystem: 'pypi' });
    expect(toDriverQuery('pypi:csv')).toEqual({ capability: 'csv', ecosystem: 'pypi' });
    for (const bad of ['csv@1.0.0', 'mcs-driver-csv@', 'mcs-driver-csv@ ', 'mcs-driver-csv@$(id)', 'mcs-driver-csv@' + '1'.repeat(300)]) expect(() => toDriverQuery(bad), bad).toThrowWithCode('E_USAGE');
    expect(() => toDriverQuery({ capability: 'csv', version: '1.0.0' })).toThrowWithCode('E_USAGE');
  });

  it('picks by capability the best label, then its highest accepted version, and says why the rest lost', () => {
    const resolution = resolveDriver(index, 'csv', { policy: resolvePolicy({}), now: NOW, contractVersion: '0.6.0' });
    expect(resolution.chosen).toMatchObject({ name: 'mcs-driver-csv', version: '1.1.0' });
    const reasons = Object.fromEntries(resolution.rejected.map((r) => [`${r.name}@${r.version}`, r.code]));
    expect(reasons).toEqual({
      'mcs-driver-csv@2.0.0': 'E_POLICY_YANKED',
      'mcs-driver-csv-fast@3.0.0': 'E_POLICY_LABEL',
      'mcs-driver-csv-arrow@0.9.0': 'E_POLICY_CONTRACT',
    });
  });

  it('takes a Community driver only when the policy allows it', () => {
    const resolution = resolveDriver(index, 'mcs-driver-csv-fast', { policy: resolvePolicy({ labels: ['verified', 'reference', 'community'] }), now: NOW });
    expect(resolution.chosen).toMatchObject({ name: 'mcs-driver-csv-fast', version: '3.0.0' });
  });

  it('honours the minimum release age', () => {
    const resolution = resolveDriver(index, 'mcs-driver-csv', { policy: resolvePolicy({ minReleaseAgeDays: 400 }), now: NOW });
    expect(resolution.chosen).toBeUndefined();
    expect(resolution.rejected.map((r) => r.code)).toEqual(['E_POLICY_YANKED', 'E_POLICY_RELEASE_AGE', 'E_POLICY_RELEASE_AGE']);
  });

  it('takes only the pinned versions a version or range asks for, and names the pinned ones when none matches', () => {
    expect(resolveDriver(index, 'mcs-driver-csv@1.0.0').chosen).toMatchObject({ name: 'mcs-driver-csv', version: '1.0.0' });
    expect(resolveDriver(index, 'mcs-driver-csv@<1.1').chosen?.version).toBe('1.0.0');
    const yanked = resolveDriver(index, 'mcs-driver-csv@2', { policy: resolvePolicy({}), now: NOW });
    expect(yanked.chosen).toBeUndefined();
    expect(yanked.rejected).toEqual([expect.objectContaining({ version: '2.0.0', code: 'E_POLICY_YANKED' })]);
    const unpinned = resolveDriver(index, 'mcs-driver-csv@1.0.1');
    expect(unpinned.rejected).toEqual([{ name: 'mcs-driver-csv', version: '1.0.1', code: 'E_POLICY_UNPINNED', reason: 'the index pins no version that matches 1.0.1 (pinned: 2.0.0, 1.1.0, 1.0.0)' }]);
  });

  it('finds nothing for an unknown name and explains a package with no pinned version', () => {
    expect(resolveDriver(index, 'mcs-driver-nope', { policy: resolvePolicy({}), now: NOW })).toEqual({ query: { name: 'mcs-driver-nope' }, rejected: [] });
    expect(resolveDriver(index, 'mcs-driver-rest', { policy: resolvePolicy({}), now: NOW }).rejected).toEqual([{ name: 'mcs-driver-rest', code: 'E_POLICY_UNPINNED', reason: 'the index pins no version of it' }]);
  });
});
