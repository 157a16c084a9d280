/** The registry client against a loopback fixture registry that misbehaves on demand. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, packumentPath } from '../../src/registry/client.js';
import { authHeaders, resolveRegistryConfig } from '../../src/registry/config.js';
import { startFixtureRegistry, type FixtureRegistry } from '../helpers/fixture-registry.js';
import { removeDir, tempDir } from '../helpers/index-data.js';
import { makePackage } from '../helpers/tarball.js';

let registry: FixtureRegistry;
let elsewhere: FixtureRegistry | undefined;
const tarball = makePackage({ name: 'mcs-driver-csv', version: '1.0.0' });

function client(options: ConstructorParameters<typeof RegistryClient>[0] = {}): RegistryClient {
  return new RegistryClient({ registry: registry.url, timeoutMs: 2000, retries: 2, env: {}, cwd: '/nonexistent', ...options });
}

beforeAll(async () => {
  registry = await startFixtureRegistry();
  registry.publish({ name: 'mcs-driver-csv', version: '1.0.0', tarball, attestations: { attestations: [] } });
  registry.publish({ name: '@acme/mcs-driver-xml', version: '2.0.0', tarball: makePackage({ name: '@acme/mcs-driver-xml', version: '2.0.0' }) });
  try {
    elsewhere = await startFixtureRegistry({ host: '127.0.0.2' });
  } catch {
    elsewhere = undefined;
  }
});
afterEach(() => registry.clearMisbehavior());
afterAll(async () => {
  await Promise.all([registry.close(), elsewhere?.close()]);
});

describe('RegistryClient', () => {
  it('reads packuments, scoped ones too, into domain data', async () => {
    const packument = await client().packument('mcs-driver-csv');
    expect(packument.versions['1.0.0']!.dist.tarball).toBe(`${registry.url}mcs-driver-csv/-/mcs-driver-csv-1.0.0.tgz`);
    expect(packument.versions['1.0.0']!.dist.attestationsUrl).toBe(`${registry.url}-/npm/v1/attestations/mcs-driver-csv@1.0.0`);
    expect(packument.time['1.0.0']).toBeInstanceOf(Date);
    expect(packumentPath('@acme/mcs-driver-xml')).toBe('@acme%2Fmcs-driver-xml');
    expect(Object.keys((await client().packument('@acme/mcs-driver-xml')).versions)).toEqual(['2.0.0']);
  });

  it('fetches tarball bytes', async () => {
    const c = client();
    const packument = await c.packument('mcs-driver-csv');
    expect((await c.tarball('mcs-driver-csv', packument.versions['1.0.0']!.dist)).equals(tarball)).toBe(true);
  });

  it('reports a package the registry does not have', async () => {
    await expect(client().packument('mcs-driver-nothing')).rejects.toThrowWithCode('E_VERSION_NOT_FOUND');
  });

  it('times out on a stalled answer', async () => {
    registry.misbehave({ kind: 'stall', path: '/mcs-driver-csv' });
    const started = Date.now();
    await expect(client({ timeoutMs: 300, retries: 0 }).packument('mcs-driver-csv')).rejects.toThrowWithCode('E_REGISTRY_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops reading an oversized body at the cap', async () => {
    registry.misbehave({ kind: 'oversize', path: '/mcs-driver-csv', bytes: 50 * 1024 * 1024 });
    await expect(client({ maxPackumentBytes: 1024 * 1024 }).packument('mcs-driver-csv')).rejects.toThrowWithCode('E_REGISTRY_TOO_LARGE');
  });

  it('refuses malformed JSON, duplicate keys and a packument for another name', async () => {
    registry.misbehave({ kind: 'body', path: '/mcs-driver-csv', body: '{"name": "mcs-driver-csv", "versions": ' });
    await expect(client().packument('mcs-driver-csv')).rejects.toThrowWithCode('E_REGISTRY_MALFORMED');
    registry.clearMisbehavior();
    registry.misbehave({ kind: 'body', path: '/mcs-driver-csv', body: '{"name": "mcs-driver-csv", "name": "x", "versions": {}}' });
    await expect(client().packument('mcs-driver-csv')).rejects.toThrowWithCode('E_REGISTRY_MALFORMED');
    registry.clearMisbehavior();
    registry.misbehave({ kind: 'body', path: '/mcs-driver-csv', body: '{"name": "left-pad", "versions": {}}' });
    await expect(client().packument('mcs-driver-csv')).rejects.toThrowWithCode('E_REGISTRY_MALFORMED');
  });

  it('retries 5xx a bounded number of times', async () => {
    registry.misbehave({ kind: 'status', path: '/mcs-driver-csv', status: 503, times: 2 });
    const before = registry.requests.length;
    await expect(client({ retries: 2 }).packument('mcs-driver-csv')).resolves.toMatchObject({ name: 'mcs-driver-csv' });
    expect(registry.requests.length - before).toBe(3);
    registry.misbehave({ kind: 'status', path: '/mcs-driver-csv', status: 500 });
    await expect(client({ retries: 1 }).packument('mcs-driver-csv')).rejects.toThrowWithCode('E_REGISTRY_HTTP');
  });

  it('follows a redirect on the same origin and refuses one to another host', async () => {
    registry.misbehave({ kind: 'redirect', path: '/mcs-driver-moved', location: '/mcs-driver-csv' });
    await expect(client().packument('mcs-driver-moved')).rejects.toThrowWithCode('E_REGISTRY_MALFORMED'); // followed: the answer is the csv packument, not for this name
    if (!elsewhere) return;
    registry.clearMisbehavior();
    registry.misbehave({ kind: 'redirect', path: '/mcs-driver-csv', location: `${elsewhere.url}mcs-driver-csv` });
    await expect(client().packument('mcs-driver-csv')).rejects.toThrowWithCode('E_REGISTRY_REDIRECT');
  });

  it('refuses tarball and attestation URLs off the registry', async () => {
    const c = client();
    await expect(c.tarball('mcs-driver-csv', { tarball: 'http://127.0.0.2:1/x.tgz', integrity: 'sha512-x', signatures: undefined })).rejects.toThrowWithCode('E_REGISTRY_REDIRECT');
    await expect(c.attestations('mcs-driver-csv', 'https://attacker.invalid/a.json')).rejects.toThrowWithCode('E_REGISTRY_REDIRECT');
  });
});

describe('hostile registry answers', () => {
  it('never takes a prototype key for a version or a tag', async () => {
    registry.misbehave({ kind: 'body', path: '/mcs-driver-csv', body: JSON.stringify({ name: 'mcs-driver-csv', 'dist-tags': { latest: 'constructor' }, versions: {} }) });
    const packument = await client().packument('mcs-driver-csv');
    expect(packument.versions.constructor).toBeUndefined();
    expect(Object.hasOwn(packument.versions, '__proto__')).toBe(false);
  });

  it('reports an unusable redirect location with a code', async () => {
    registry.misbehave({ kind: 'redirect', path: '/mcs-driver-csv', location: 'http://[::1' });
    await expect(client().packument('mcs-driver-csv')).rejects.toThrowWithCode('E_REGISTRY_MALFORMED');
  });
});

describe('registry configuration', () => {
  it('takes the registry and tokens from .npmrc, an explicit --registry first', () => {
    const dir = tempDir('mcs-npmrc-');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.npmrc'), 'registry=http://127.0.0.1:4873\n@acme:registry=http://127.0.0.1:4874/\n//127.0.0.1:4873/:_authToken=${TOKEN}\n');
    const config = resolveRegistryConfig({ cwd: dir, env: { TOKEN: 'secret' } });
    expect(config.registry).toBe('http://127.0.0.1:4873/');
    expect(config.scopes['@acme']).toBe('http://127.0.0.1:4874/');
    expect(authHeaders(config, 'http://127.0.0.1:4873/mcs-driver-csv')).toEqual({ authorization: 'Bearer secret' });
    expect(authHeaders(config, 'http://127.0.0.1:4874/x')).toEqual({});
    expect(resolveRegistryConfig({ cwd: dir, env: {}, registry: 'http://127.0.0.1:9/' }).registry).toBe('http://127.0.0.1:9/');
    expect(resolveRegistryConfig({ cwd: dir, env: { npm_config_registry: 'http://127.0.0.1:8' } }).registry).toBe('http://127.0.0.1:8/');
    removeDir(dir);
  });
});
