/**
 * The trust policy rules (DESIGN.md §4 check 6), one rule per block, each
 * refusal asserted by its code and each acceptance by its status.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { IndexEntry, TrustPolicy, VersionRecord } from '../../src/manifest/types.js';
import { DEFAULT_POLICY, evaluatePolicy, policyAllows, resolvePolicy, type PolicyInput } from '../../src/trust/policy.js';
import type { CheckResult } from '../../src/trust/result.js';
import type { Verdict, VerdictStatus } from '../../src/trust/verifier.js';
import { SAMPLE_SHA512, npmDriver } from '../helpers/index-data.js';

const NAME = 'mcs-driver-csv';
const NOW = new Date('2026-03-01T00:00:00Z');
const DAY = 24 * 60 * 60 * 1000;
const ACTIONS = 'https://token.actions.githubusercontent.com';
const PUBLISHER = { issuer: ACTIONS, repository: 'https://github.com/acme/mcs-driver-csv', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*' };

function record(overrides: Partial<VersionRecord> = {}): VersionRecord {
  return { integrity: SAMPLE_SHA512, size: 1234, provenance: true, published: '2026-01-01T00:00:00Z', ...overrides };
}

/** A Verified npm entry whose versions all have provenance, pinned to PUBLISHER. */
function verifiedEntry(overrides: Partial<IndexEntry> = {}): IndexEntry {
  return npmDriver(NAME, {
    label: { value: 'verified', by: 'test', at: '2026-01-01T00:00:00Z', reason: 'reviewed' },
    trust: { repository: PUBLISHER.repository, publisher: PUBLISHER },
    versions: { '1.0.0': record() },
    ...overrides,
  });
}

function verdict(status: VerdictStatus, results: CheckResult[] = []): Verdict {
  return { package: NAME, version: '1.0.0', status, integrity: SAMPLE_SHA512, results, roots: { trustedRoot: 'test', registryKeys: 'test' } };
}

function observedIdentity(repository: string, workflow: string, status: 'pass' | 'fail' | 'skip' = 'pass'): CheckResult {
  return {
    check: 'identity',
    status,
    ...(status === 'fail' ? { code: 'E_IDENTITY_MISMATCH' as const } : {}),
    message: 'identity',
    evidence: { observed: { issuer: ACTIONS, repository, workflow, buildSigner: `${repository}/${workflow}@refs/tags/v1.0.0`, ref: 'refs/tags/v1.0.0', runner: 'github-hosted', legacy: false } },
  };
}

const provenancePass: CheckResult = { check: 'provenance', status: 'pass', message: 'provenance', evidence: {} };

function evaluate(overrides: Partial<PolicyInput> = {}, policy: TrustPolicy = {}): CheckResult[] {
  return evaluatePolicy({ name: NAME, version: '1.0.0', entry: verifiedEntry(), policy: resolvePolicy(policy), now: NOW, ...overrides });
}

/** The result of one named rule. */
function rule(results: CheckResult[], name: string): CheckResult {
  const found = results.find((r) => r.evidence['rule'] === name);
  if (!found) throw new Error(`no result for rule ${name}`);
  return found;
}

describe('evaluatePolicy', () => {
  it('returns one policy result per rule, in a fixed order, each with a message', () => {
    const results = evaluate();
    expect(results.map((r) => r.evidence['rule'])).toEqual(['deny', 'quarantine', 'label', 'yanked', 'contract', 'min-release-age', 'provenance-downgrade', 'provenance-required']);
    for (const r of results) {
      expect(r.check).toBe('policy');
      expect(r.message).toMatch(/^mcs-driver-csv@1\.0\.0: /);
    }
    expect(results.filter((r) => r.status === 'fail')).toEqual([]);
    expect(policyAllows(results)).toBe(true);
  });

  describe('quarantine', () => {
    it('refuses a quarantined package whatever the allow list says', () => {
      const entry = npmDriver('mcs-driver-csv', { label: { value: 'verified', by: 't', at: '2026-01-01T00:00:00Z', reason: 'r' }, quarantine: { reason: 'exfiltrates files', by: 'sec-team' } });
      const results = evaluatePolicy({ name: 'mcs-driver-csv', version: '1.0.0', entry, policy: resolvePolicy({ allow: ['mcs-driver-csv'], labels: ['verified', 'reference', 'community'] }), now: new Date('2026-11-21T00:00:00Z') });
      const quarantine = results.find((r) => r.evidence['rule'] === 'quarantine')!;
      expect(quarantine).toMatchObject({ status: 'fail', code: 'E_POLICY_QUARANTINED' });
      expect(quarantine.message).toContain('exfiltrates files');
    });
  });

  describe('deny', () => {
    it('refuses a denied package even when it is allow-listed and carries an accepted label', () => {
      const results = evaluate({}, { deny: [NAME], allow: [NAME] });
      expect(rule(results, 'deny')).toMatchObject({ status: 'fail', code: 'E_POLICY_DENIED' });
      expect(rule(results, 'label').status).toBe('pass');
      expect(policyAllows(results)).toBe(false);
    });

    it('passes a package that is not on the deny list', () => {
      expect(rule(evaluate({}, { deny: ['mcs-driver-other'] }), 'deny').status).toBe('pass');
    });
  });

  describe('label', () => {
    const community = npmDriver(NAME, { versions: { '1.0.0': record() } });

    it('refuses a community package by default', () => {
      const result = rule(evaluate({ entry: community }), 'label');
      expect(result).toMatchObject({ status: 'fail', code: 'E_POLICY_LABEL' });
      expect(result.message).toContain('got community');
      expect(result.evidence).toMatchObject({ label: 'community', accepted: ['verified', 'reference'], allowListed: false });
    });

    it('accepts a community package on the allow list', () => {
      const result = rule(evaluate({ entry: community }, { allow: [NAME] }), 'label');
      expect(result.status).toBe('pass');
      expect(result.evidence['allowListed']).toBe(true);
    });

    it('accepts a community package when the policy accepts the community label', () => {
      expect(rule(evaluate({ entry: community }, { labels: ['community'] }), 'label').status).toBe('pass');
    });

    it('accepts a reference package by default', () => {
      const reference = verifiedEntry({ label: { value: 'reference', by: 'test', at: '2026-01-01T00:00:00Z', reason: 'MCS project' } });
      expect(rule(evaluate({ entry: reference }), 'label').status).toBe('pass');
    });

    it('refuses a package the index does not list', () => {
      const results = evaluatePolicy({ name: 'mcs-driver-unknown', version: '1.0.0', policy: DEFAULT_POLICY, now: NOW });
      const result = rule(results, 'label');
      expect(result).toMatchObject({ status: 'fail', code: 'E_POLICY_LABEL' });
      expect(result.message).toContain('unlisted');
      expect(policyAllows(results)).toBe(false);
    });

    it('accepts an unlisted package on the allow list', () => {
      const results = evaluatePolicy({ name: 'mcs-driver-unknown', version: '1.0.0', policy: resolvePolicy({ allow: ['mcs-driver-unknown'] }), now: NOW });
      expect(rule(results, 'label').status).toBe('pass');
      expect(rule(results, 'yanked').status).toBe('skip');
    });
  });

  describe('yanked', () => {
    const yanked = verifiedEntry({ versions: { '1.0.0': record({ yanked: { reason: 'leaked an API key in the tarball' } }) } });

    it('refuses a yanked version and gives the reason', () => {
      const result = rule(evaluate({ entry: yanked }), 'yanked');
      expect(result).toMatchObject({ status: 'fail', code: 'E_POLICY_YANKED' });
      expect(result.message).toContain('leaked an API key in the tarball');
    });

    it('accepts a yanked version when the policy allows yanked versions', () => {
      const result = rule(evaluate({ entry: yanked }, { allowYanked: true }), 'yanked');
      expect(result.status).toBe('pass');
      expect(result.message).toContain('leaked an API key in the tarball');
    });

    it('passes a pinned version that is not yanked', () => {
      expect(rule(evaluate(), 'yanked')).toMatchObject({ status: 'pass', evidence: { pinned: true } });
    });

    it('refuses a version the index does not pin', () => {
      const result = rule(evaluate({ version: '1.0.1' }), 'yanked');
      expect(result).toMatchObject({ status: 'fail', code: 'E_POLICY_UNPINNED', evidence: { pinned: false } });
      expect(result.message).toContain('the index pins no digest for this version');
    });

    it('does not take an inherited property for a pinned version', () => {
      expect(rule(evaluate({ version: 'constructor' }), 'yanked').code).toBe('E_POLICY_UNPINNED');
    });
  });

  describe('contract', () => {
    it('passes when the client contract satisfies the version range', () => {
      const entry = verifiedEntry({ versions: { '1.0.0': record({ contract: '>=0.6.0 <0.7.0' }) } });
      expect(rule(evaluate({ entry, contractVersion: '0.6.2' }), 'contract')).toMatchObject({ status: 'pass', evidence: { range: '>=0.6.0 <0.7.0', source: 'version' } });
    });

    it('refuses when the client contract is outside the version range', () => {
      const entry = verifiedEntry({ versions: { '1.0.0': record({ contract: '^0.5.0' }) } });
      const result = rule(evaluate({ entry, contractVersion: '0.6.0' }), 'contract');
      expect(result).toMatchObject({ status: 'fail', code: 'E_POLICY_CONTRACT' });
      expect(result.message).toContain('^0.5.0');
    });

    it('falls back to the compatibility range of the entry', () => {
      const entry = verifiedEntry({ compatibility: { contract: '~0.6.0' } });
      expect(rule(evaluate({ entry, contractVersion: '0.6.1' }), 'contract')).toMatchObject({ status: 'pass', evidence: { source: 'compatibility' } });
      expect(rule(evaluate({ entry, contractVersion: '0.7.0' }), 'contract').code).toBe('E_POLICY_CONTRACT');
    });

    it('prefers the version range over the compatibility range', () => {
      const entry = verifiedEntry({ compatibility: { contract: '^0.6.0' }, versions: { '1.0.0': record({ contract: '^0.7.0' }) } });
      expect(rule(evaluate({ entry, contractVersion: '0.6.0' }), 'contract').code).toBe('E_POLICY_CONTRACT');
    });

    it('refuses a client contract version that is not semver', () => {
      const entry = verifiedEntry({ compatibility: { contract: '^0.6.0' } });
      expect(rule(evaluate({ entry, contractVersion: 'v-six' }), 'contract').code).toBe('E_POLICY_CONTRACT');
    });

    it('skips, with an explanation, when no range is known', () => {
      const result = rule(evaluate({ contractVersion: '0.6.0' }), 'contract');
      expect(result).toMatchObject({ status: 'skip', evidence: { range: null } });
      expect(result.message).toContain('no contract range');
    });

    it('skips when the client states no contract version', () => {
      const entry = verifiedEntry({ compatibility: { contract: '^0.6.0' } });
      expect(rule(evaluate({ entry }), 'contract').status).toBe('skip');
    });
  });

  describe('min-release-age', () => {
    it('refuses a version younger than the minimum age', () => {
      const result = rule(evaluate({ publishedAt: new Date(NOW.getTime() - 2 * DAY) }, { minReleaseAgeDays: 7 }), 'min-release-age');
      expect(result).toMatchObject({ status: 'fail', code: 'E_POLICY_RELEASE_AGE', evidence: { publishedSource: 'registry', ageDays: 2 } });
      expect(result.message).toContain('at least 7 days');
    });

    it('accepts a version old enough, exactly at the boundary too', () => {
      expect(rule(evaluate({ publishedAt: new Date(NOW.getTime() - 30 * DAY) }, { minReleaseAgeDays: 7 }), 'min-release-age').status).toBe('pass');
      expect(rule(evaluate({ publishedAt: new Date(NOW.getTime() - 7 * DAY) }, { minReleaseAgeDays: 7 }), 'min-release-age').status).toBe('pass');
    });

    it('uses the index publish time when the registry time is not given', () => {
      const young = verifiedEntry({ versions: { '1.0.0': record({ published: '2026-02-28T00:00:00Z' }) } });
      expect(rule(evaluate({ entry: young }, { minReleaseAgeDays: 7 }), 'min-release-age')).toMatchObject({ status: 'fail', code: 'E_POLICY_RELEASE_AGE', evidence: { publishedSource: 'index' } });
      expect(rule(evaluate({}, { minReleaseAgeDays: 7 }), 'min-release-age')).toMatchObject({ status: 'pass', evidence: { publishedSource: 'index' } });
    });

    it('prefers the registry publish time over the index one', () => {
      const result = rule(evaluate({ publishedAt: new Date(NOW.getTime() - DAY) }, { minReleaseAgeDays: 7 }), 'min-release-age');
      expect(result.code).toBe('E_POLICY_RELEASE_AGE');
    });

    it('refuses a version whose publish time is unknown', () => {
      const undated = verifiedEntry({ versions: { '1.0.0': { integrity: SAMPLE_SHA512, provenance: true } } });
      const result = rule(evaluate({ entry: undated }, { minReleaseAgeDays: 1 }), 'min-release-age');
      expect(result).toMatchObject({ status: 'fail', code: 'E_POLICY_RELEASE_AGE', evidence: { published: null } });
      expect(result.message).toContain('cannot tell how old it is');
    });

    it('refuses a publish time in the future', () => {
      expect(rule(evaluate({ publishedAt: new Date(NOW.getTime() + DAY) }, { minReleaseAgeDays: 1 }), 'min-release-age').code).toBe('E_POLICY_RELEASE_AGE');
    });

    it('skips when the rule is off (the default)', () => {
      const undated = verifiedEntry({ versions: { '1.0.0': { integrity: SAMPLE_SHA512, provenance: true } } });
      expect(rule(evaluate({ entry: undated }), 'min-release-age').status).toBe('skip');
    });
  });

  describe('provenance-downgrade', () => {
    const history = { '1.0.0': record({ provenance: false }), '1.1.0': record(), '1.2.0': record(), '1.10.0': record({ provenance: false }) };

    it('refuses a version without provenance after versions that had it, naming the last one', () => {
      const entry = verifiedEntry({ versions: history });
      const result = rule(evaluate({ entry, version: '1.10.0' }), 'provenance-downgrade');
      expect(result).toMatchObject({ status: 'fail', code: 'E_PROVENANCE_DOWNGRADE', evidence: { lastWithProvenance: '1.2.0' } });
      expect(result.message).toContain('mcs-driver-csv@1.2.0');
    });

    it('does not count later versions with provenance against an earlier one without', () => {
      const entry = verifiedEntry({ versions: history });
      expect(rule(evaluate({ entry, version: '1.0.0' }), 'provenance-downgrade')).toMatchObject({ status: 'pass', evidence: { lastWithProvenance: null } });
    });

    it('refuses an unpinned version the verifier found without provenance after versions with it', () => {
      const entry = verifiedEntry({ versions: { '1.0.0': record() } });
      const result = rule(evaluate({ entry, version: '1.0.1', verdict: verdict('missing-provenance') }), 'provenance-downgrade');
      expect(result).toMatchObject({ status: 'fail', code: 'E_PROVENANCE_DOWNGRADE', evidence: { lastWithProvenance: '1.0.0' } });
    });

    it('passes a version that keeps provenance', () => {
      const entry = verifiedEntry({ versions: history });
      expect(rule(evaluate({ entry, version: '1.2.0' }), 'provenance-downgrade').status).toBe('pass');
    });

    it('refuses a build from another repository than the pinned one', () => {
      const v = verdict('failed', [provenancePass, observedIdentity('https://github.com/mallory/mcs-driver-csv', PUBLISHER.workflow, 'fail')]);
      const result = rule(evaluate({ verdict: v }), 'provenance-downgrade');
      expect(result).toMatchObject({ status: 'fail', code: 'E_PROVENANCE_DOWNGRADE' });
      expect(result.message).toContain('another repository');
      expect(result.message).toContain('https://github.com/mallory/mcs-driver-csv');
    });

    it('refuses a build by another workflow than the pinned one', () => {
      const v = verdict('failed', [provenancePass, observedIdentity(PUBLISHER.repository, '.github/workflows/debug.yml', 'fail')]);
      const result = rule(evaluate({ verdict: v }), 'provenance-downgrade');
      expect(result).toMatchObject({ status: 'fail', code: 'E_PROVENANCE_DOWNGRADE' });
      expect(result.message).toContain('another workflow');
    });

    it('passes a build from the pinned repository and workflow', () => {
      const v = verdict('verified', [provenancePass, observedIdentity(PUBLISHER.repository, PUBLISHER.workflow)]);
      expect(rule(evaluate({ verdict: v }), 'provenance-downgrade')).toMatchObject({ status: 'pass', evidence: { observed: { repository: PUBLISHER.repository, workflow: PUBLISHER.workflow } } });
    });

    it('does not compare when the index pins no publisher', () => {
      const entry = verifiedEntry({ trust: {} });
      const v = verdict('unpinned', [provenancePass, observedIdentity('https://github.com/mallory/mcs-driver-csv', PUBLISHER.workflow, 'skip')]);
      expect(rule(evaluate({ entry, verdict: v }), 'provenance-downgrade').status).toBe('pass');
    });

    it('skips a package the index does not list', () => {
      expect(rule(evaluatePolicy({ name: 'mcs-driver-unknown', version: '1.0.0', policy: DEFAULT_POLICY, now: NOW }), 'provenance-downgrade').status).toBe('skip');
    });
  });

  describe('provenance-required', () => {
    it('refuses an npm version the verifier found without provenance, by default', () => {
      const entry = verifiedEntry({ versions: { '1.0.0': record({ provenance: false }) } });
      const result = rule(evaluate({ entry, verdict: verdict('missing-provenance') }), 'provenance-required');
      expect(result).toMatchObject({ status: 'fail', code: 'E_PROVENANCE_MISSING', evidence: { ecosystem: 'npm', required: true } });
    });

    it('refuses an npm version the index records without provenance when no verification ran', () => {
      const entry = verifiedEntry({ versions: { '1.0.0': record({ provenance: false }) } });
      expect(rule(evaluate({ entry }), 'provenance-required').code).toBe('E_PROVENANCE_MISSING');
    });

    it('refuses when the verifier could not verify the provenance', () => {
      const invalid: CheckResult = { check: 'provenance', status: 'fail', code: 'E_PROVENANCE_INVALID', message: 'bad', evidence: {} };
      const result = rule(evaluate({ verdict: verdict('failed', [invalid]) }), 'provenance-required');
      expect(result).toMatchObject({ status: 'fail', code: 'E_PROVENANCE_MISSING' });
      expect(result.message).toContain('E_PROVENANCE_INVALID');
    });

    it('passes an npm version with verified provenance', () => {
      const v = verdict('verified', [provenancePass, observedIdentity(PUBLISHER.repository, PUBLISHER.workflow)]);
      expect(rule(evaluate({ verdict: v }), 'provenance-required').status).toBe('pass');
    });

    it('accepts an npm version without provenance when the policy does not require it', () => {
      const entry = verifiedEntry({ versions: { '1.0.0': record({ provenance: false }) } });
      expect(rule(evaluate({ entry, verdict: verdict('missing-provenance') }, { requireProvenance: { npm: false } }), 'provenance-required').status).toBe('skip');
    });

    it('does not require provenance for a PyPI reference package by default', () => {
      const pypi = verifiedEntry({
        name: 'mcs-driver-csv',
        ecosystem: 'pypi',
        label: { value: 'reference', by: 'test', at: '2026-01-01T00:00:00Z', reason: 'MCS project' },
        versions: { '0.3.0': { files: [{ filename: 'mcs_driver_csv-0.3.0.tar.gz', kind: 'sdist', integrity: SAMPLE_SHA512 }], provenance: false } },
      });
      const results = evaluate({ entry: pypi, version: '0.3.0' });
      expect(rule(results, 'provenance-required')).toMatchObject({ status: 'skip', evidence: { ecosystem: 'pypi', required: false } });
      expect(policyAllows(results)).toBe(true);
    });

    it('requires provenance for PyPI when the policy says so', () => {
      const pypi = verifiedEntry({ ecosystem: 'pypi', versions: { '0.3.0': { provenance: false } } });
      expect(rule(evaluate({ entry: pypi, version: '0.3.0' }, { requireProvenance: { pypi: true } }), 'provenance-required').code).toBe('E_PROVENANCE_MISSING');
    });

    it('applies the stricter setting to an unlisted package', () => {
      const results = evaluatePolicy({ name: 'mcs-driver-unknown', version: '1.0.0', policy: resolvePolicy({ allow: ['mcs-driver-unknown'] }), now: NOW });
      expect(rule(results, 'provenance-required')).toMatchObject({ status: 'fail', code: 'E_PROVENANCE_MISSING', evidence: { ecosystem: null, required: true } });
    });
  });
});

describe('policyAllows', () => {
  it('is true when nothing failed, skips included, and false when anything failed', () => {
    const ok: CheckResult = { check: 'policy', status: 'pass', message: 'ok', evidence: {} };
    const skipped: CheckResult = { check: 'policy', status: 'skip', message: 'skipped', evidence: {} };
    const refused: CheckResult = { check: 'policy', status: 'fail', code: 'E_POLICY_LABEL', message: 'no', evidence: {} };
    expect(policyAllows([])).toBe(true);
    expect(policyAllows([ok, skipped])).toBe(true);
    expect(policyAllows([ok, refused, skipped])).toBe(false);
  });
});

describe('resolvePolicy', () => {
  const schema = JSON.parse(readFileSync(fileURLToPath(new URL('../../schemas/trust-policy.v1.schema.json', import.meta.url)), 'utf8')) as {
    properties: Record<string, { default?: unknown; properties?: Record<string, { default?: unknown }> }>;
  };

  it('fills each default the schema states', () => {
    const resolved = resolvePolicy() as unknown as Record<string, unknown>;
    let compared = 0;
    for (const [key, property] of Object.entries(schema.properties)) {
      if ('default' in property) {
        expect(resolved[key], key).toEqual(property.default);
        compared++;
      }
      for (const [inner, innerProperty] of Object.entries(property.properties ?? {})) {
        if ('default' in innerProperty) {
          expect((resolved[key] as Record<string, unknown>)[inner], `${key}.${inner}`).toEqual(innerProperty.default);
          compared++;
        }
      }
    }
    expect(compared).toBe(5); // labels, requireProvenance.npm, requireProvenance.pypi, minReleaseAgeDays, allowYanked
    expect(resolved).toEqual(DEFAULT_POLICY);
    expect(resolvePolicy({})).toEqual(DEFAULT_POLICY);
  });

  it('leaves allow and deny empty when the policy gives none', () => {
    expect(resolvePolicy()).toMatchObject({ allow: [], deny: [] });
  });

  it('keeps the fields the policy sets and defaults the rest, one ecosystem at a time', () => {
    expect(resolvePolicy({ labels: ['community'], requireProvenance: { pypi: true }, minReleaseAgeDays: 3, deny: ['x'] })).toEqual({
      labels: ['community'],
      requireProvenance: { npm: true, pypi: true },
      minReleaseAgeDays: 3,
      allowYanked: false,
      allow: [],
      deny: ['x'],
    });
  });

  it('returns lists that can be changed without touching the defaults', () => {
    const resolved = resolvePolicy();
    resolved.labels.push('community');
    resolved.allow.push('x');
    expect(DEFAULT_POLICY.labels).toEqual(['verified', 'reference']);
    expect(DEFAULT_POLICY.allow).toEqual([]);
  });
});
