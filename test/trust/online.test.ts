/**
 * Verification of packages as a registry serves them: the loopback fixture
 * registry serves a driver whose attestations the mock Sigstore signed, and
 * the index pins its publisher. Each test changes one thing an attacker could.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTarball } from '../../src/tar/read.js';
import { NPM_PUBLISH_PREDICATE } from '../../src/trust/provenance.js';
import { verifyFromRegistry, verifyInstalled, type RegistryVerdict } from '../../src/verify.js';
import { startFixtureRegistry, type FixtureRegistry } from '../helpers/fixture-registry.js';
import { npmDriver, removeDir, tempDir, writeEntry } from '../helpers/index-data.js';
import { createRegistryKey, keysResponse, signForRegistry, startMockSigstore, type GithubIdentity, type MockSigstore, type RegistryKey } from '../helpers/mock-sigstore.js';
import { makePackage } from '../helpers/tarball.js';
import { startTufRepository } from '../helpers/tuf-repo.js';

const SLSA_V1 = 'https://slsa.dev/provenance/v1';
const NAME = 'mcs-driver-csv';
const PINNED = { issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/acme/mcs-driver-csv', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*' };
const IDENTITY: GithubIdentity = { repository: 'acme/mcs-driver-csv', ref: 'refs/tags/v1.0.0', workflow: '.github/workflows/release.yml' };

let registry: FixtureRegistry;
let sigstore: MockSigstore;
let key: RegistryKey;
let work: string;
let files: { trustedRoot: string; indexDir: string; cacheDir: string };

function integrityOf(bytes: Buffer): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

async function publish(version: string, options: { identity?: GithubIdentity; attest?: boolean; sign?: boolean; tarball?: Buffer } = {}): Promise<{ tarball: Buffer; integrity: string }> {
  const tarball = options.tarball ?? makePackage({ name: NAME, version, type: 'module' }, { 'index.js': `export const version = '${version}';\n` });
  const integrity = integrityOf(tarball);
  const hex = createHash('sha512').update(tarball).digest('hex');
  const statement = (predicateType: string) => ({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: `pkg:npm/${NAME}@${version}`, digest: { sha512: hex } }], predicateType, predicate: {} });
  const attestations =
    options.attest === false
      ? undefined
      : {
          attestations: [
            { predicateType: SLSA_V1, bundle: await sigstore.signStatement(statement(SLSA_V1), options.identity ?? { ...IDENTITY, ref: `refs/tags/v${version}` }) },
            { predicateType: NPM_PUBLISH_PREDICATE, bundle: await sigstore.signStatementWithKey(statement(NPM_PUBLISH_PREDICATE), key) },
          ],
        };
  registry.publish({ name: NAME, version, tarball, ...(attestations ? { attestations } : {}), ...(options.sign === false ? {} : { signatures: [signForRegistry(key, NAME, version, integrity)] }) });
  return { tarball, integrity };
}

beforeAll(async () => {
  [registry, sigstore] = await Promise.all([startFixtureRegistry(), startMockSigstore()]);
  key = createRegistryKey();
  registry.setKeys(keysResponse([{ key }]));
  work = tempDir('mcs-online-');
  const v1 = await publish('1.0.0');
  const v11 = await publish('1.1.0');
  files = { trustedRoot: join(work, 'trusted_root.json'), indexDir: join(work, 'index'), cacheDir: join(work, 'cache') };
  writeFileSync(files.trustedRoot, JSON.stringify(sigstore.trustedRoot));
  writeEntry(files.indexDir, npmDriver(NAME, {
    label: { value: 'verified', by: 'test', at: '2026-01-01T00:00:00Z', reason: 'fixture' },
    trust: { repository: PINNED.repository, publisher: PINNED },
    versions: {
      '1.0.0': { integrity: v1.integrity, size: v1.tarball.length, provenance: true },
      '1.1.0': { integrity: v11.integrity, size: v11.tarball.length, provenance: true },
    },
  }));
});

afterAll(async () => {
  await Promise.all([registry.close(), sigstore.close()]);
  removeDir(work);
});

function options() {
  return { registry: { registry: registry.url, env: {}, timeoutMs: 5000 }, trustedRoot: files.trustedRoot, index: { indexDir: files.indexDir, cacheDir: files.cacheDir } };
}

function only(results: Awaited<ReturnType<typeof verifyFromRegistry>>): RegistryVerdict {
  expect(results).toHaveLength(1);
  const [result] = results;
  if ('error' in result!) throw result.error;
  return result!;
}

function failures(verdict: RegistryVerdict): string[] {
  return verdict.results.filter((r) => r.status === 'fail').map((r) => `${r.check}:${r.code}`);
}

describe('verify from the registry', () => {
  it('verifies the highest pinned version of a range, every check passing', async () => {
    const verdict = only(await verifyFromRegistry([`${NAME}@^1`], options()));
    expect(verdict).toMatchObject({ version: '1.1.0', status: 'verified', identitySource: 'index', indexed: { package: true, version: true } });
    expect(verdict.results.map((r) => `${r.check}:${r.status}`)).toEqual(['integrity:pass', 'size:pass', 'manifest:pass', 'registry-signature:pass', 'provenance:pass', 'identity:pass', 'publish-attestation:pass']);
  });

  it('catches a version published from another repository (account takeover)', async () => {
    await publish('1.2.0', { identity: { repository: 'mallory/mcs-driver-csv', ref: 'refs/tags/v1.2.0', workflow: '.github/workflows/release.yml' } });
    const verdict = only(await verifyFromRegistry([`${NAME}@1.2.0`], options()));
    expect(verdict.indexed).toEqual({ package: true, version: false });
    expect(failures(verdict)).toEqual(['identity:E_IDENTITY_MISMATCH', 'policy:E_POLICY_UNPINNED', 'policy:E_PROVENANCE_DOWNGRADE']);
  });

  it('fails a pinned version whose attestations were stripped', async () => {
    const original = await publish('1.0.0', { attest: false, tarball: makePackage({ name: NAME, version: '1.0.0', type: 'module' }, { 'index.js': "export const version = '1.0.0';\n" }) });
    expect(original.integrity).toBeDefined();
    const verdict = only(await verifyFromRegistry([`${NAME}@1.0.0`], options()));
    expect(failures(verdict)).toEqual(['provenance:E_PROVENANCE_MISSING']);
    await publish('1.0.0');
  });

  it('fails a version without registry signature when the registry has keys', async () => {
    await publish('1.0.0', { sign: false });
    expect(failures(only(await verifyFromRegistry([`${NAME}@1.0.0`], options())))).toEqual(['registry-signature:E_SIGNATURE_MISSING']);
    await publish('1.0.0');
  });

  it('fails bytes that are not the pinned ones, even when the registry vouches for them', async () => {
    await publish('1.0.0', { tarball: makePackage({ name: NAME, version: '1.0.0', type: 'module' }, { 'index.js': 'steal();\n' }) });
    const verdict = only(await verifyFromRegistry([`${NAME}@1.0.0`], options()));
    expect(failures(verdict)).toEqual(['integrity:E_INTEGRITY_MISMATCH', 'size:E_SIZE_MISMATCH']);
    await publish('1.0.0');
  });

  it('takes the trusted root from a TUF repository when none is pinned', async () => {
    const tuf = await startTufRepository({ 'trusted_root.json': JSON.stringify(sigstore.trustedRoot) }, work);
    try {
      const { trustedRoot: _pinned, ...rest } = options();
      const verdict = only(await verifyFromRegistry([`${NAME}@1.1.0`], { ...rest, tuf: { mirrorURL: tuf.url, rootPath: tuf.rootPath, cachePath: join(work, 'tuf-cache') } }));
      expect(verdict.status).toBe('verified');
      expect(verdict.roots.trustedRoot).toContain(`TUF ${tuf.url}`);
    } finally {
      await tuf.close();
    }
  });

  it('reports a registry that cannot be reached as an error per package, not a crash', async () => {
    const results = await verifyFromRegistry([`${NAME}@1.0.0`], { ...options(), registry: { registry: 'http://127.0.0.1:9/', env: {}, timeoutMs: 1000, retries: 0 } });
    expect(results).toHaveLength(1);
    expect('error' in results[0]! && results[0].error.code).toBe('E_REGISTRY_NETWORK');
  });
});

describe('what the index says of a version applies without a policy file', () => {
  it('fails a version the index has yanked, with the reason', async () => {
    const indexDir = tempDir('mcs-yanked-');
    const v = await publish('1.3.0');
    writeEntry(indexDir, npmDriver(NAME, { trust: { publisher: PINNED }, versions: { '1.3.0': { integrity: v.integrity, size: v.tarball.length, provenance: true, yanked: { reason: 'leaks credentials' } } } }));
    const verdict = only(await verifyFromRegistry([`${NAME}@1.3.0`], { ...options(), index: { indexDir, cacheDir: join(indexDir, '.cache') } }));
    expect(failures(verdict)).toEqual(['policy:E_POLICY_YANKED']);
    expect(verdict.results.find((r) => r.code === 'E_POLICY_YANKED')!.message).toContain('leaks credentials');
    removeDir(indexDir);
  });
});

describe('verify --installed', () => {
  let v11: Buffer;

  /** Writes a tarball's files into a folder, the way npm installs a package. */
  function install(tarball: Buffer, dir: string): void {
    for (const entry of readTarball(tarball)) {
      if (entry.type !== 'file') continue;
      const file = join(dir, entry.path.replace(/^[^/]+\//, ''));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, entry.data!);
    }
  }

  beforeAll(async () => {
    v11 = (await publish('1.1.0')).tarball;
  });

  it('verifies every MCS package in node_modules against the verified tarball and counts the outcomes', async () => {
    const project = join(work, 'project');
    install(v11, join(project, 'node_modules', NAME));
    mkdirSync(join(project, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(join(project, 'node_modules', 'left-pad', 'package.json'), JSON.stringify({ name: 'left-pad', version: '1.3.0' }));
    const report = await verifyInstalled(project, options());
    expect(report.results.map((r) => r.requested)).toEqual([`${NAME}@1.1.0`]);
    expect(report.counts).toEqual({ verified: 1, failed: 0, 'missing-provenance': 0, unpinned: 0, error: 0 });

    const bin = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
    // asynchronous: the fixture registry lives in this process and must keep answering
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'verify', '--installed', project, '--registry', registry.url, '--trusted-root', files.trustedRoot, '--index', files.indexDir], {
      env: { PATH: process.env.PATH ?? '', HOME: work, MCS_PKG_CACHE: files.cacheDir },
    });
    expect(stdout).toContain('1 MCS packages: 1 verified, 0 failed');
  });

  it('fails an installed tree that is not the verified tarball (edited, added or removed files)', async () => {
    const project = join(work, 'tampered');
    install(v11, join(project, 'node_modules', NAME));
    writeFileSync(join(project, 'node_modules', NAME, 'index.js'), 'steal();\n');
    writeFileSync(join(project, 'node_modules', NAME, 'postinstall.js'), 'steal();\n');
    const report = await verifyInstalled(project, options());
    expect(report.counts.failed).toBe(1);
    const verdict = report.results[0] as RegistryVerdict;
    const installed = verdict.results.find((r) => r.check === 'installed')!;
    expect(installed).toMatchObject({ status: 'fail', code: 'E_INSTALLED_MISMATCH' });
    expect((installed.evidence.problems as string[]).sort()).toEqual(['index.js: differs from the verified tarball', 'postinstall.js: not in the verified tarball']);
  });

  it('finds packages behind symlinks (pnpm) and in nested node_modules, and reports unreadable ones', async () => {
    const project = join(work, 'pnpm');
    const store = join(project, 'node_modules', '.pnpm', `${NAME}@1.1.0`, 'node_modules', NAME);
    install(v11, store);
    symlinkSync(store, join(project, 'node_modules', NAME));
    install(v11, join(project, 'node_modules', 'some-host', 'node_modules', NAME));
    mkdirSync(join(project, 'node_modules', 'some-host'), { recursive: true });
    writeFileSync(join(project, 'node_modules', 'some-host', 'package.json'), JSON.stringify({ name: 'some-host', version: '1.0.0' }));
    mkdirSync(join(project, 'node_modules', 'mcs-driver-broken'), { recursive: true });
    writeFileSync(join(project, 'node_modules', 'mcs-driver-broken', 'package.json'), '{"name": ');
    const report = await verifyInstalled(project, options());
    expect(report.counts).toEqual({ verified: 2, failed: 0, 'missing-provenance': 0, unpinned: 0, error: 1 });
  });
});
