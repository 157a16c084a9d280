/**
 * `mcs-pkg verify --dist FILE` run as a user runs it: offline, on real PyPI
 * data, and on a wheel attested at test time by the mock Sigstore with an
 * index that pins the file and its publisher.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir, writeEntry } from '../helpers/index-data.js';
import { startMockSigstore } from '../helpers/mock-sigstore.js';
import { distStatement, provenanceObject, sha256Hex, signAttestation } from '../helpers/pep740.js';
import { HAVE_REAL_PYPI, REAL_PYPI_DIR } from '../helpers/real-pypi.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
let scratch: string;

function run(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, 'verify', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: scratch, MCS_PKG_CACHE: join(scratch, 'cache'), PIP_INDEX_URL: 'http://127.0.0.1:9/simple' },
    encoding: 'utf8',
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const real = (file: string) => join(REAL_PYPI_DIR, file);
const check = (verdict: { results: Array<{ check: string }> }, name: string) => verdict.results.filter((r) => r.check === name);

beforeAll(() => {
  scratch = tempDir('mcs-verify-dist-');
});
afterAll(() => removeDir(scratch));

describe.skipIf(!HAVE_REAL_PYPI)('mcs-pkg verify --dist, real PyPI data', () => {
  const sdist = ['--dist', real('pypi_attestations-0.0.19.tar.gz'), '--package', 'pypi:pypi-attestations@0.0.19'];
  const github = ['--source-repo', 'github.com/trailofbits/pypi-attestations', '--workflow', 'release.yml', '--ref', 'refs/tags/v*'];

  it('verifies the sdist with its provenance object against the shipped root and exits 0', () => {
    const { status, stdout } = run([...sdist, '--provenance', real('pypi_attestations-0.0.19.tar.gz.provenance'), ...github]);
    expect(status).toBe(0);
    expect(stdout.split('\n')[0]).toBe('pypi-attestations@0.0.19  pypi_attestations-0.0.19.tar.gz  verified');
    expect(stdout).toContain('not checked: integrity');
  });

  it('verifies the publish attestation, as JSON with every check named', () => {
    const { status, stdout } = run([...sdist, '--attestation', real('pypi_attestations-0.0.19.tar.gz.publish.attestation'), ...github, '--json']);
    expect(status).toBe(0);
    const verdict = JSON.parse(stdout);
    expect(verdict).toMatchObject({ status: 'verified', identitySource: 'command line', indexed: { package: false, version: false, file: false } });
    expect(verdict.results.map((r: { check: string; status: string }) => `${r.check}:${r.status}`)).toEqual(['filename:pass', 'integrity:skip', 'provenance:pass', 'identity:pass']);
    expect(verdict.notChecked.map((n: { check: string }) => n.check)).toEqual(['integrity']);
  });

  it('exits 1 naming the field when the workflow differs', () => {
    const { status, stdout } = run([...sdist, '--attestation', real('pypi_attestations-0.0.19.tar.gz.publish.attestation'), '--source-repo', 'github.com/trailofbits/pypi-attestations', '--workflow', 'publish.yml', '--json']);
    expect(status).toBe(1);
    expect(check(JSON.parse(stdout), 'identity')[0]).toMatchObject({ code: 'E_IDENTITY_MISMATCH', evidence: { mismatch: { field: 'workflow' } } });
  });

  it('the staging-signed wheel fails against the shipped public-good root and verifies against the staging root', () => {
    const wheel = ['--dist', real('rfc8785-0.1.2-py3-none-any.whl'), '--attestation', real('rfc8785-0.1.2-py3-none-any.whl.publish.attestation'), '--package', 'pypi:rfc8785@0.1.2', '--certificate-identity', 'william@yossarian.net', '--certificate-oidc-issuer', 'https://github.com/login/oauth'];
    const publicGood = run([...wheel, '--trusted-root', 'shipped', '--json']);
    expect(publicGood.status).toBe(1);
    expect(check(JSON.parse(publicGood.stdout), 'provenance')[0]).toMatchObject({ code: 'E_PROVENANCE_INVALID' });
    expect(run([...wheel, '--trusted-root', real('staging.trusted_root.json')]).status).toBe(0);
  });
});

describe('mcs-pkg verify --dist: usage', () => {
  it.each([
    ['no --package', ['--dist', 'x.whl']],
    ['an npm package', ['--dist', 'x.whl', '--package', 'npm:x@1.0']],
    ['both kinds of evidence', ['--dist', 'x-1.0.tar.gz', '--package', 'pypi:x@1.0', '--attestation', 'a', '--provenance', 'p']],
    ['half a certificate identity', ['--dist', 'x-1.0.tar.gz', '--package', 'pypi:x@1.0', '--certificate-identity', 'me@example.com']],
    ['a certificate identity with a repository', ['--dist', 'x-1.0.tar.gz', '--package', 'pypi:x@1.0', '--certificate-identity', 'me@example.com', '--certificate-oidc-issuer', 'https://accounts.google.com', '--source-repo', 'github.com/a/b']],
    ['--dist with --tarball', ['--dist', 'x-1.0.tar.gz', '--package', 'pypi:x@1.0', '--tarball', 'x.tgz']],
  ])('%s exits 2', (_, args) => {
    const { status, stderr } = run(args);
    expect(status).toBe(2);
    expect(stderr).toContain('E_USAGE');
  });
});

describe('mcs-pkg verify --dist against an index that pins the file and its publisher', () => {
  const WHEEL = 'mcs_driver_csv-0.1.4-py3-none-any.whl';
  const BYTES = Buffer.from('the mcs-driver-csv wheel, as built by its release workflow');
  let dir: string;
  let attestationFile: string;
  let provenanceFile: string;
  let rootFile: string;
  let indexDir: string;

  beforeAll(async () => {
    dir = join(scratch, 'pinned');
    mkdirSync(dir, { recursive: true });
    const sigstore = await startMockSigstore();
    try {
      const attestation = await signAttestation(sigstore, { repository: 'acme/mcs-python', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v0.1.4' }, distStatement(WHEEL, BYTES));
      writeFileSync((attestationFile = join(dir, 'wheel.attestation')), JSON.stringify(attestation));
      writeFileSync((provenanceFile = join(dir, 'wheel.provenance')), JSON.stringify(provenanceObject([attestation])));
      writeFileSync((rootFile = join(dir, 'trusted_root.json')), JSON.stringify(sigstore.trustedRoot));
    } finally {
      await sigstore.close();
    }
    writeFileSync(join(dir, WHEEL), BYTES);
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'other', WHEEL), Buffer.from('another wheel under the pinned name'));
    writeFileSync(join(dir, 'other', 'mcs_driver_csv-0.1.4-py2.py3-none-any.whl'), BYTES);
    indexDir = join(dir, 'index');
    writeEntry(indexDir, {
      name: 'mcs-driver-csv',
      ecosystem: 'pypi',
      class: 'driver',
      description: 'CSV driver',
      label: { value: 'community', by: 'test', at: '2026-01-01T00:00:00Z', reason: 'test fixture' },
      trust: { publisher: { kind: 'github', issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/acme/mcs-python', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*' } },
      versions: {
        '0.1.4': {
          provenance: true,
          files: [{ filename: WHEEL, kind: 'wheel', integrity: `sha256-${Buffer.from(sha256Hex(BYTES), 'hex').toString('base64')}`, size: BYTES.length, requiresPython: '>=3.11', uploaded: '2026-01-02T03:04:05Z', provenance: true }],
        },
      },
    });
  }, 60_000);

  const base = (file: string) => ['--dist', file, '--package', 'pypi:mcs-driver-csv@0.1.4', '--index', indexDir, '--trusted-root', rootFile, '--json'];

  it('verifies against the pinned digest and the pinned publisher, and exits 0', () => {
    for (const evidence of [['--attestation', attestationFile], ['--provenance', provenanceFile]]) {
      const { status, stdout, stderr } = run([...base(join(dir, WHEEL)), ...evidence]);
      expect(stderr).toBe('');
      expect(status).toBe(0);
      const verdict = JSON.parse(stdout);
      expect(verdict).toMatchObject({ status: 'verified', identitySource: 'index', indexed: { package: true, version: true, file: true } });
      expect(verdict.results.map((r: { check: string; status: string }) => `${r.check}:${r.status}`)).toEqual(['filename:pass', 'integrity:pass', 'size:pass', 'provenance:pass', 'identity:pass']);
    }
  });

  it('the pinned publisher without evidence is E_PROVENANCE_MISSING, exit 1', () => {
    const { status, stdout } = run(base(join(dir, WHEEL)));
    expect(status).toBe(1);
    expect(check(JSON.parse(stdout), 'provenance')[0]).toMatchObject({ status: 'fail', code: 'E_PROVENANCE_MISSING' });
  });

  it('other bytes under the pinned name fail the pin and the attestation, exit 1', () => {
    const { status, stdout } = run([...base(join(dir, 'other', WHEEL)), '--attestation', attestationFile]);
    expect(status).toBe(1);
    const verdict = JSON.parse(stdout);
    expect(check(verdict, 'integrity')[0]).toMatchObject({ code: 'E_INTEGRITY_MISMATCH' });
    expect(check(verdict, 'provenance')[0]).toMatchObject({ code: 'E_ATTESTATION_SUBJECT' });
  });

  it('a file the pinned version does not list is refused, exit 1', () => {
    const { status, stdout } = run([...base(join(dir, 'other', 'mcs_driver_csv-0.1.4-py2.py3-none-any.whl'))]);
    expect(status).toBe(1);
    const verdict = JSON.parse(stdout);
    expect(verdict.indexed).toMatchObject({ version: true, file: false });
    expect(verdict.results.filter((r: { status: string }) => r.status === 'fail').map((r: { code: string }) => r.code)).toEqual(expect.arrayContaining(['E_INTEGRITY_MISMATCH', 'E_PROVENANCE_MISSING']));
  });

  it('a provenance file of another shape is E_ATTESTATION_MALFORMED, exit 1', () => {
    const bad = join(dir, 'bad.provenance');
    writeFileSync(bad, JSON.stringify({ version: 1, attestation_bundles: [] }));
    const { status, stdout } = run([...base(join(dir, WHEEL)), '--provenance', bad]);
    expect(status).toBe(1);
    const verdict = JSON.parse(stdout);
    expect(check(verdict, 'provenance')).toEqual([expect.objectContaining({ status: 'fail', code: 'E_ATTESTATION_MALFORMED' })]);
    expect(verdict.status).toBe('failed');
  });

  it('the command line overrides the pinned publisher, and a wrong one fails', () => {
    const { status, stdout } = run([...base(join(dir, WHEEL)), '--attestation', attestationFile, '--source-repo', 'github.com/acme/other']);
    expect(status).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ identitySource: 'command line' });
  });
});
