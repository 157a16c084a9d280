/** The trusted root through TUF, from a loopback repository with real signed metadata. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmRegistryKeysFromTuf, trustedRootFromTuf } from '../../src/trust/sigstore.js';
import { removeDir, tempDir } from '../helpers/index-data.js';
import { startTufRepository, type TufRepository } from '../helpers/tuf-repo.js';

const KEYS = { keys: [{ keyId: 'SHA256:test', keyUsage: 'npm:signatures', publicKey: { rawBytes: Buffer.alloc(91, 1).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2025-01-13T00:00:00.000Z' } } }] };
const ROOT = { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] };

let dir: string;
let repository: TufRepository;

beforeAll(async () => {
  dir = tempDir('mcs-tuf-');
  repository = await startTufRepository({ 'trusted_root.json': JSON.stringify(ROOT), 'registry.npmjs.org/keys.json': JSON.stringify(KEYS) }, dir);
});
afterAll(async () => {
  await repository.close();
  removeDir(dir);
});

describe('trustedRootFromTuf', () => {
  it('gets the trusted root through the TUF client workflow and says where from', async () => {
    const root = await trustedRootFromTuf({ mirrorURL: repository.url, rootPath: repository.rootPath, cachePath: join(dir, 'cache-a') });
    expect(root.json).toEqual(ROOT);
    expect(root.source).toContain(`TUF ${repository.url}`);
  });

  it("gets npm's registry keys through TUF, not from the registry being checked", async () => {
    const keys = await npmRegistryKeysFromTuf({ mirrorURL: repository.url, rootPath: repository.rootPath, cachePath: join(dir, 'cache-keys') });
    expect(keys.keys).toMatchObject([{ keyid: 'SHA256:test', usage: 'signatures' }]);
    expect(keys.source).toContain('registry.npmjs.org/keys.json');
  });

  it('refuses a target whose bytes are not the ones the metadata signs', async () => {
    repository.tamper('trusted_root.json', JSON.stringify({ ...ROOT, tlogs: [{ baseUrl: 'https://attacker.invalid' }] }));
    await expect(trustedRootFromTuf({ mirrorURL: repository.url, rootPath: repository.rootPath, cachePath: join(dir, 'cache-b') })).rejects.toThrowWithCode('E_TRUST_ROOT');
  });

  it('reports a repository that cannot be reached, with the ways out', async () => {
    let error: any;
    try {
      await trustedRootFromTuf({ mirrorURL: 'http://127.0.0.1:9', rootPath: repository.rootPath, cachePath: join(dir, 'cache-c'), timeoutMs: 1000 });
    } catch (e) {
      error = e;
    }
    expect(error).toThrowWithCode('E_TRUST_ROOT');
    expect(error.message).toContain('--trusted-root FILE');
  });
});
