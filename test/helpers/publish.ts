/**
 * Publishes a driver the way a real release would reach a client: provenance
 * signed by the mock Sigstore for a GitHub Actions identity, npm's publish
 * attestation and registry signature by the registry key, the tarball on the
 * loopback registry, and an index entry pinning its publisher and digest.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeclaredDriver, Permission } from '../../src/manifest/types.js';
import { parsePackageName } from '../../src/manifest/names.js';
import { NPM_PUBLISH_PREDICATE } from '../../src/trust/provenance.js';
import { startFixtureRegistry, type FixtureRegistry } from './fixture-registry.js';
import { npmDriver, removeDir, tempDir, writeEntry } from './index-data.js';
import { createRegistryKey, keysResponse, signForRegistry, startMockSigstore, type MockSigstore, type RegistryKey } from './mock-sigstore.js';

export const SLSA_V1 = 'https://slsa.dev/provenance/v1';

export interface PublishTarget {
  registry: FixtureRegistry;
  sigstore: MockSigstore;
  key: RegistryKey;
  indexDir: string;
  /** owner/repo the release workflow runs in. */
  repository: string;
  /** The ref it runs at (default refs/tags/v<version>) and its runner (default GitHub-hosted). */
  ref?: string;
  runnerEnvironment?: 'github-hosted' | 'self-hosted';
}

export interface PublishOptions {
  name: string;
  version: string;
  tarball: Buffer;
  /** The drivers this version declares, for the index entry. */
  drivers?: DeclaredDriver[];
  label?: 'verified' | 'reference' | 'community';
  yanked?: string;
  /** Bytes the registry serves instead of the pinned ones (an attack). */
  served?: Buffer;
  /** The permission tags the index declares (security.permissions). */
  permissions?: Permission[];
}

function sri(bytes: Buffer): { hex: string; integrity: string } {
  const hex = createHash('sha512').update(bytes).digest('hex');
  return { hex, integrity: `sha512-${Buffer.from(hex, 'hex').toString('base64')}` };
}

/** Signs, serves and pins one version; returns the pinned integrity. */
export async function publishSigned(target: PublishTarget, options: PublishOptions): Promise<string> {
  const { name, version } = options;
  const pinned = sri(options.tarball);
  const served = options.served ?? options.tarball;
  const servedDigest = sri(served);
  const statement = (predicateType: string) => ({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: `pkg:npm/${name}@${version}`, digest: { sha512: servedDigest.hex } }], predicateType, predicate: {} });
  const [provenance, publish] = await Promise.all([
    target.sigstore.signStatement(statement(SLSA_V1), { repository: target.repository, ref: target.ref ?? `refs/tags/v${version}`, workflow: '.github/workflows/release.yml', ...(target.runnerEnvironment ? { runnerEnvironment: target.runnerEnvironment } : {}) }),
    target.sigstore.signStatementWithKey(statement(NPM_PUBLISH_PREDICATE), target.key),
  ]);
  target.registry.publish({
    name,
    version,
    tarball: served,
    attestations: { attestations: [{ predicateType: SLSA_V1, bundle: provenance }, { predicateType: NPM_PUBLISH_PREDICATE, bundle: publish }] },
    signatures: [signForRegistry(target.key, name, version, servedDigest.integrity)],
  });
  const repository = `https://github.com/${target.repository}`;
  writeEntry(target.indexDir, npmDriver(name, {
    class: parsePackageName(name, 'npm').class,
    label: { value: options.label ?? 'verified', by: 'fixture', at: '2026-01-01T00:00:00Z', reason: 'published by the fixture release workflow' },
    trust: { repository, publisher: { issuer: 'https://token.actions.githubusercontent.com', repository, workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*' } },
    ...(options.permissions ? { security: { permissions: options.permissions } } : {}),
    ...(options.drivers ? { declarations: [{ versions: [version], drivers: options.drivers }] } : {}),
    versions: { [version]: { integrity: pinned.integrity, size: options.tarball.length, provenance: true, ...(options.yanked ? { yanked: { reason: options.yanked } } : {}) } },
  }));
  return pinned.integrity;
}

/** A loopback registry with a signing key, a mock Sigstore, and a work folder holding its trusted_root.json. */
export interface ReleaseWorld {
  registry: FixtureRegistry;
  sigstore: MockSigstore;
  key: RegistryKey;
  work: string;
  rootFile: string;
  close(): Promise<void>;
}

export async function startReleaseWorld(prefix: string): Promise<ReleaseWorld> {
  const [registry, sigstore] = await Promise.all([startFixtureRegistry(), startMockSigstore()]);
  const key = createRegistryKey();
  registry.setKeys(keysResponse([{ key }]));
  const work = tempDir(prefix);
  const rootFile = join(work, 'trusted_root.json');
  writeFileSync(rootFile, JSON.stringify(sigstore.trustedRoot));
  return {
    registry,
    sigstore,
    key,
    work,
    rootFile,
    async close() {
      await Promise.all([registry.close(), sigstore.close()]);
      removeDir(work);
    },
  };
}
