/**
 * The policy's provenance rule names, and applies the setting of, the
 * ecosystem the verified artifact belongs to: an npm tarball the index does
 * not list is npm's, not "a package of unknown ecosystem".
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../../helpers/index-data.js';
import { makeTarball } from '../../helpers/tarball.js';

const BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url));
let work: string;
let tarball: string;

function verify(policy: object): { status: number | null; verdict: { status: string; results: Array<{ check: string; status: string; code?: string; message: string; evidence?: Record<string, unknown> }> } } {
  const file = join(work, `policy-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(policy));
  const run = spawnSync(process.execPath, [BIN, 'verify', '--tarball', tarball, '--package', 'mcs-driver-unlisted@1.0.0', '--policy', file, '--json'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: work, MCS_PKG_CACHE: join(work, 'cache') } });
  return { status: run.status, verdict: JSON.parse(run.stdout) };
}

beforeAll(() => {
  work = tempDir('mcs-adv-policy-eco-');
  tarball = join(work, 'unlisted.tgz');
  writeFileSync(tarball, makeTarball([{ path: 'package/package.json', content: JSON.stringify({ name: 'mcs-driver-unlisted', version: '1.0.0' }) }]));
});
afterAll(() => removeDir(work));

describe('provenance required by the policy, for an npm tarball the index does not list', () => {
  it('npm required: E_PROVENANCE_MISSING naming npm, exit 1', () => {
    const { status, verdict } = verify({ requireProvenance: { npm: true, pypi: false } });
    expect(status).toBe(1);
    const rule = verdict.results.find((r) => r.evidence?.rule === 'provenance-required')!;
    expect(rule).toMatchObject({ status: 'fail', code: 'E_PROVENANCE_MISSING', evidence: { ecosystem: 'npm' } });
    expect(rule.message).toContain('requires provenance for npm');
    expect(JSON.stringify(verdict)).not.toContain('unknown ecosystem');
  });

  it('only pypi required: the npm setting applies, the rule does not refuse', () => {
    const { verdict } = verify({ requireProvenance: { npm: false, pypi: true } });
    const rule = verdict.results.find((r) => r.evidence?.rule === 'provenance-required')!;
    expect(rule).toMatchObject({ status: 'skip', evidence: { ecosystem: 'npm', required: false } });
    expect(rule.message).toContain('does not require provenance for npm');
  });
});
