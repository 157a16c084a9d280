/** `mcs-pkg verify` on downloaded artifacts, run as a user runs it: offline, on real npm data. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedTrustedRoot } from '../../src/trust/roots.js';
import { removeDir, tempDir } from '../helpers/index-data.js';
import { HAVE_REAL_NPM, REAL_NPM_DIR, realNpmJson } from '../helpers/real-npm.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
let scratch: string;

function run(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, 'verify', ...args], {
    // no proxy and no registry: anything that tried the network would fail
    env: { PATH: process.env.PATH ?? '', HOME: scratch, MCS_PKG_CACHE: join(scratch, 'cache'), npm_config_registry: 'http://127.0.0.1:9' },
    encoding: 'utf8',
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const real = (file: string) => join(REAL_NPM_DIR, file);

beforeAll(() => {
  scratch = tempDir('mcs-verify-cli-');
});
afterAll(() => removeDir(scratch));

describe.skipIf(!HAVE_REAL_NPM)('mcs-pkg verify --tarball', () => {
  const sigstore = ['--tarball', real('sigstore-1.0.0.tgz'), '--attestations', real('sigstore-1.0.0.attestations.json'), '--package', 'sigstore@1.0.0'];

  it('verifies a real package against its source repository and exits 0', () => {
    const { status, stdout } = run([...sigstore, '--source-repo', 'github.com/sigstore/sigstore-js', '--workflow', '.github/workflows/publish.yml', '--ref', 'refs/tags/v*', '--offline']);
    expect(status).toBe(0);
    expect(stdout.split('\n')[0]).toBe('sigstore@1.0.0  verified');
    expect(stdout).toContain('identity from: command line');
  });

  it('exits 1 and names the field when the repository differs', () => {
    const { status, stdout } = run([...sigstore, '--source-repo', 'github.com/someone/sigstore-js', '--json']);
    expect(status).toBe(1);
    const verdict = JSON.parse(stdout);
    expect(verdict.status).toBe('failed');
    const identity = verdict.results.find((r: { check: string }) => r.check === 'identity');
    expect(identity).toMatchObject({ status: 'fail', code: 'E_IDENTITY_MISMATCH', evidence: { mismatch: { field: 'repository' } } });
  });

  it('reports unpinned with exit 0 when no identity is pinned, and gives the evidence', () => {
    const { status, stdout } = run([...sigstore, '--json']);
    expect(status).toBe(0);
    const verdict = JSON.parse(stdout);
    expect(verdict).toMatchObject({ status: 'unpinned', identitySource: 'none', indexed: { package: false, version: false } });
    const provenance = verdict.results.find((r: { check: string }) => r.check === 'provenance');
    expect(provenance.evidence.tlog[0]).toMatchObject({ logIndex: '12988397', kind: 'intoto/0.0.2' });
  });

  it('exits 1 for a tampered publish attestation', () => {
    const { status, stdout } = run(['--tarball', real('sigstore-0.4.0.tgz'), '--attestations', real('sigstore-0.4.0.invalid.attestations.json'), '--package', 'sigstore@0.4.0']);
    expect(status).toBe(1);
    expect(stdout).toContain('E_PUBLISH_ATTESTATION_INVALID');
  });

  it('uses a pinned trusted root and registry keys file', () => {
    const rootFile = join(scratch, 'trusted_root.json');
    writeFileSync(rootFile, JSON.stringify(embeddedTrustedRoot().json));
    const keysFile = join(scratch, 'keys.json');
    writeFileSync(keysFile, JSON.stringify((realNpmJson('registry-signatures.json') as { keys_v1_response: unknown }).keys_v1_response));
    const { status, stdout } = run([...sigstore, '--trusted-root', rootFile, '--registry-keys', keysFile]);
    expect(status).toBe(0);
    expect(stdout).toContain(`trusted root: ${rootFile}`);
    expect(stdout).toContain(`registry keys: ${keysFile}`);
  });

  it('refuses a trusted root that is not one, with exit 2', () => {
    const bad = join(scratch, 'not-a-root.json');
    writeFileSync(bad, '{"hello": "world"}');
    const { status, stderr } = run([...sigstore, '--trusted-root', bad]);
    expect(status).toBe(2);
    expect(stderr).toMatch(/^error E_TRUST_ROOT: /);
  });
});

describe('mcs-pkg verify usage', () => {
  it('asks for the tarball and the package', () => {
    const { status, stderr } = run(['--tarball', 'x.tgz']);
    expect(status).toBe(2);
    expect(stderr).toContain('E_USAGE');
  });

  it('refuses an identity without a repository', () => {
    const tarball = join(scratch, 'empty.tgz');
    writeFileSync(tarball, '');
    const { status, stderr } = run(['--tarball', tarball, '--package', 'a@1.0.0', '--workflow', 'x.yml']);
    expect(status).toBe(2);
    expect(stderr).toContain('give --source-repo');
  });

  it('refuses an oversized attestations file before reading it', () => {
    const tarball = join(scratch, 'empty2.tgz');
    writeFileSync(tarball, '');
    const big = join(scratch, 'big.json');
    writeFileSync(big, Buffer.alloc(17 * 1024 * 1024, 0x20));
    const { status, stderr } = run(['--tarball', tarball, '--package', 'a@1.0.0', '--attestations', big]);
    expect(status).toBe(2);
    expect(stderr).toMatch(/E_USAGE: attestations file .* over the limit/);
  });
});

describe('mcs-pkg verify from the registry', () => {
  it('takes --integrity and --packument only with a downloaded tarball', () => {
    for (const flag of [['--integrity', 'sha512-AAAA'], ['--packument', 'packument.json']]) {
      const { status, stderr } = run(['mcs-driver-csv', ...flag]);
      expect(status, flag[0]).toBe(2);
      expect(stderr, flag[0]).toMatch(/^error E_USAGE: --integrity and --packument describe a downloaded tarball/);
    }
  });

  it('documents the shipped trust roots in --help, and --offline names them', () => {
    const help = spawnSync(process.execPath, [BIN, 'verify', '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: scratch } });
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('--trusted-root Sigstore trusted_root.json to trust, or "shipped" for the public-good root');
    const { status, stderr } = run(['mcs-driver-csv', '--offline']);
    expect(status).toBe(2);
    expect(stderr).toContain('--trusted-root shipped');
  });

  it('refuses an unusable --concurrency before reaching for the network', () => {
    for (const value of ['0', '65', '1.5', 'many']) {
      const { status, stderr } = run(['mcs-driver-csv', '--concurrency', value]);
      expect(status, value).toBe(2);
      expect(stderr, value).toMatch(/^error E_USAGE: concurrency must be a whole number from 1 to 64/);
    }
  });
});
