/**
 * The Sigstore conformance suite's bundle-verify cases (third-party data in
 * ../shared/conformance, or $MCS_CONFORMANCE_DIR), run through the same
 * code path as `mcs-pkg verify --artifact`. Skipped, saying why, when the
 * data is absent.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KNOWN_UNSUPPORTED, runConformance, type ConformanceReport } from '../../src/conformance/run.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFORMANCE_DIR = resolve(process.env.MCS_CONFORMANCE_DIR ?? join(REPO_ROOT, '..', 'shared', 'conformance', 'sigstore-bundle-verify'));
const HAVE_CONFORMANCE = existsSync(CONFORMANCE_DIR);

if (!HAVE_CONFORMANCE) {
  process.stderr.write(`Sigstore conformance data not found at ${CONFORMANCE_DIR} (set MCS_CONFORMANCE_DIR): the conformance tests are skipped\n`);
}

describe.skipIf(!HAVE_CONFORMANCE)('Sigstore conformance: bundle-verify', () => {
  const report: ConformanceReport = HAVE_CONFORMANCE ? runConformance(CONFORMANCE_DIR) : { folder: CONFORMANCE_DIR, cases: [], passed: 0, failed: 0 };
  const names = new Set(report.cases.map((c) => c.name));

  it('finds the cases', () => {
    expect(report.cases.length).toBeGreaterThan(0);
    expect(report.cases.some((c) => c.expected === 'fail')).toBe(true);
  });

  for (const c of report.cases.filter((c) => c.unsupported === undefined)) {
    it(`${c.name} ${c.expected === 'fail' ? 'fails' : 'verifies'}`, () => {
      expect(c.actual, c.reason).toBe(c.expected);
    });
  }

  it('KNOWN_UNSUPPORTED names only existing cases, none of them a _fail case', () => {
    const listed = Object.keys(KNOWN_UNSUPPORTED);
    expect(listed.filter((name) => !names.has(name))).toEqual([]);
    expect(listed.filter((name) => name.endsWith('_fail'))).toEqual([]);
    for (const name of listed) expect(KNOWN_UNSUPPORTED[name]?.length ?? 0).toBeGreaterThan(20);
  });

  it('every known-unsupported case still fails (an entry that now passes is stale)', () => {
    const stale = report.cases.filter((c) => c.unsupported !== undefined && c.ok).map((c) => c.name);
    expect(stale).toEqual([]);
  });

  it('the totals count every case except the known-unsupported ones', () => {
    expect(report.failed).toBe(0);
    expect(report.passed).toBe(report.cases.length - Object.keys(KNOWN_UNSUPPORTED).length);
  });
});
