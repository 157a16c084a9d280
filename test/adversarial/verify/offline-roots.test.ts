/**
 * Verification without network to TUF. The trust roots shipped with mcs-pkg
 * (the snapshot in @sigstore/tuf's seeds) are usable from the registry with
 * `--trusted-root shipped`, the E_TRUST_ROOT error names that way out, and
 * `verify --installed` with nothing to verify touches no network at all.
 * The TUF mirror and npm's registry point at a closed loopback port, so any
 * attempt to reach them fails.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureRegistry, type FixtureRegistry } from '../../helpers/fixture-registry.js';
import { removeDir, tempDir } from '../../helpers/index-data.js';
import { createRegistryKey, keysResponse, signForRegistry } from '../../helpers/mock-sigstore.js';
import { HAVE_REAL_NPM, realNpm, realNpmJson } from '../../helpers/real-npm.js';
import { makePackage } from '../../helpers/tarball.js';
import { closedPort, runVerify } from './run.js';

let work: string;
let dead: string;
let registry: FixtureRegistry;

beforeAll(async () => {
  work = tempDir('mcs-adv-roots-');
  dead = `http://127.0.0.1:${await closedPort()}`;
  registry = await startFixtureRegistry();
});

afterAll(async () => {
  await registry?.close();
  removeDir(work);
});

describe('verify --installed with no MCS packages', () => {
  it('finishes with exit 0, saying it found none, with TUF and the registry unreachable', async () => {
    const project = join(work, 'plain-project');
    mkdirSync(join(project, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(join(project, 'node_modules', 'left-pad', 'package.json'), JSON.stringify({ name: 'left-pad', version: '1.3.0' }));
    const text = await runVerify(['--installed', project, '--tuf-mirror', dead, '--registry', dead], work, dead);
    expect(text.stderr).toBe('');
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`No MCS packages in ${project}/node_modules.`);
    const json = await runVerify(['--installed', project, '--tuf-mirror', dead, '--json'], work, dead);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ results: [], counts: { verified: 0, failed: 0, 'missing-provenance': 0, unpinned: 0, error: 0 } });
  });
});

describe('the trust roots shipped with mcs-pkg, from the registry', () => {
  it('without network to TUF, a version with attestations to check: E_TRUST_ROOT names --trusted-root shipped as the way out', async () => {
    const key = createRegistryKey();
    registry.setKeys(keysResponse([{ key }]));
    const tarball = makePackage({ name: 'mcs-driver-attested', version: '1.0.0', type: 'module' }, { 'index.js': 'export default 1;\n' });
    const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
    registry.publish({ name: 'mcs-driver-attested', version: '1.0.0', tarball, signatures: [signForRegistry(key, 'mcs-driver-attested', '1.0.0', integrity)], attestations: { attestations: [] } });
    const run = await runVerify(['mcs-driver-attested@1.0.0', '--registry', registry.url, '--tuf-mirror', dead], work, dead);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^error E_TRUST_ROOT: /);
    expect(run.stderr).toContain('--trusted-root shipped');
  });

  it('without network to TUF and no --trusted-root, a version with nothing for the Sigstore root to check never asks TUF', async () => {
    const key = createRegistryKey();
    registry.setKeys(keysResponse([{ key }]));
    const tarball = makePackage({ name: 'mcs-driver-unattested', version: '1.0.0', type: 'module' }, { 'index.js': 'export default 1;\n' });
    const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
    registry.publish({ name: 'mcs-driver-unattested', version: '1.0.0', tarball, signatures: [signForRegistry(key, 'mcs-driver-unattested', '1.0.0', integrity)] });
    const project = join(work, 'unattested-project');
    mkdirSync(join(project, 'node_modules', 'mcs-driver-unattested'), { recursive: true });
    writeFileSync(join(work, 'unattested.tgz'), tarball);
    execFileSync('tar', ['-xzf', join(work, 'unattested.tgz'), '-C', join(project, 'node_modules', 'mcs-driver-unattested'), '--strip-components=1']);
    for (const args of [['mcs-driver-unattested@1.0.0'], ['--installed', project]]) {
      const run = await runVerify([...args, '--registry', registry.url, '--tuf-mirror', dead, '--json'], work, dead);
      expect(run.stderr, args.join(' ')).not.toContain('E_TRUST_ROOT');
      const [verdict] = JSON.parse(run.stdout).results;
      expect(verdict, args.join(' ')).toMatchObject({ status: 'missing-provenance', roots: { trustedRoot: 'not needed (no attestations to verify)' } });
      expect(verdict.results.find((r: { check: string }) => r.check === 'registry-signature').status).toBe('pass');
      expect(run.status).toBe(0);
    }
  });

  it('--trusted-root shipped verifies with the shipped root and no TUF access', async () => {
    const key = createRegistryKey();
    registry.setKeys(keysResponse([{ key }]));
    const tarball = makePackage({ name: 'mcs-driver-plain', version: '1.0.0', type: 'module' }, { 'index.js': 'export default 1;\n' });
    const integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
    registry.publish({ name: 'mcs-driver-plain', version: '1.0.0', tarball, signatures: [signForRegistry(key, 'mcs-driver-plain', '1.0.0', integrity)] });
    const run = await runVerify(['mcs-driver-plain@1.0.0', '--registry', registry.url, '--tuf-mirror', dead, '--trusted-root', 'shipped', '--json'], work, dead);
    expect(run.status).toBe(0);
    const [verdict] = JSON.parse(run.stdout).results;
    expect(verdict.status).toBe('missing-provenance');
    expect(verdict.roots.trustedRoot).toMatch(/^@sigstore\/tuf seeds: trusted_root\.json/);
    expect(verdict.results.find((r: { check: string }) => r.check === 'registry-signature').status).toBe('pass');
  });

  it.skipIf(!HAVE_REAL_NPM)('a real package with real provenance verifies against the shipped root, TUF unreachable', async () => {
    const signatures = (realNpmJson('registry-signatures.json') as { keys_v1_response: unknown; signatures: Array<{ name: string; version: string; keyid: string; sig: string }> });
    const signature = signatures.signatures.find((s) => s.name === 'sigstore' && s.version === '1.0.0')!;
    registry.setKeys(signatures.keys_v1_response);
    registry.publish({
      name: 'sigstore',
      version: '1.0.0',
      tarball: realNpm('sigstore-1.0.0.tgz'),
      attestations: realNpmJson('sigstore-1.0.0.attestations.json'),
      signatures: [{ keyid: signature.keyid, sig: signature.sig }],
      publishedAt: new Date('2023-01-31T00:00:00Z'),
    });
    const run = await runVerify(['sigstore@1.0.0', '--registry', registry.url, '--tuf-mirror', dead, '--trusted-root', 'shipped', '--source-repo', 'github.com/sigstore/sigstore-js', '--json'], work, dead);
    expect(run.status).toBe(0);
    const [verdict] = JSON.parse(run.stdout).results;
    expect(verdict.status).toBe('verified');
    expect(verdict.results.map((r: { check: string; status: string }) => `${r.check}:${r.status}`)).toEqual(['integrity:pass', 'manifest:pass', 'registry-signature:pass', 'provenance:pass', 'identity:pass', 'publish-attestation:pass']);
  });

  it.skipIf(!HAVE_REAL_NPM)('offline, "shipped" names the shipped root and npm keys explicitly', async () => {
    const tarball = join(work, 'sigstore-1.0.0.tgz');
    writeFileSync(tarball, realNpm('sigstore-1.0.0.tgz'));
    const attestations = join(work, 'sigstore-1.0.0.attestations.json');
    writeFileSync(attestations, JSON.stringify(realNpmJson('sigstore-1.0.0.attestations.json')));
    const run = await runVerify(['--tarball', tarball, '--attestations', attestations, '--package', 'sigstore@1.0.0', '--trusted-root', 'shipped', '--registry-keys', 'shipped', '--source-repo', 'github.com/sigstore/sigstore-js'], work, dead);
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('sigstore@1.0.0  verified');
    expect(run.stdout).toContain('registry keys: @sigstore/tuf seeds');
  });
});
