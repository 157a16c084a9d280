import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFixtureRegistry, type FixtureRegistry } from './fixture-registry.js';
import { createRegistryKey, keysResponse, signForRegistry } from './mock-sigstore.js';
import { makePackage } from './tarball.js';

const sri = (bytes: Buffer) => `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

interface VersionDoc {
  _id: string;
  name: string;
  version: string;
  description?: string;
  deprecated?: string;
  dist: {
    tarball: string;
    integrity: string;
    shasum: string;
    signatures?: Array<{ keyid: string; sig: string }>;
    attestations?: { url: string; provenance: { predicateType: string } };
  };
}
interface Packument {
  _id: string;
  name: string;
  'dist-tags': { latest?: string };
  versions: Record<string, VersionDoc>;
  time: Record<string, string>;
}

async function getJson<T>(url: string): Promise<{ status: number; contentType: string | null; body: T }> {
  const response = await fetch(url);
  return { status: response.status, contentType: response.headers.get('content-type'), body: (await response.json()) as T };
}

/** Reads a response body chunk by chunk, cancelling once more than `cap` bytes arrived; returns the byte count. */
async function readCapped(response: Response, cap: number): Promise<number> {
  const reader = response.body!.getReader();
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return received;
    received += value.byteLength;
    if (received > cap) {
      await reader.cancel();
      return received;
    }
  }
}

const key = createRegistryKey();
const csvTarball = makePackage({ name: 'mcs-driver-csv', version: '1.2.0', description: 'CSV driver for MCS' }, { 'index.js': 'export {};\n' });
const csvOldTarball = makePackage({ name: 'mcs-driver-csv', version: '1.10.0-beta.1' });
const scopedTarball = makePackage({ name: '@mcs-example/driver-sql', version: '0.3.1' }, { 'index.js': 'export const sql = 1;\n' });
const csvSignature = signForRegistry(key, 'mcs-driver-csv', '1.2.0', sri(csvTarball));
const attestations = { attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle: { mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' } }] };

describe('fixture npm registry', () => {
  let registry: FixtureRegistry;

  beforeAll(async () => {
    registry = await startFixtureRegistry();
    registry.publish({ name: 'mcs-driver-csv', version: '1.2.0', tarball: csvTarball, publishedAt: new Date('2025-03-01T10:00:00Z'), signatures: [csvSignature] });
    registry.publish({ name: 'mcs-driver-csv', version: '1.10.0-beta.1', tarball: csvOldTarball, publishedAt: new Date('2025-02-01T10:00:00Z'), deprecated: 'use 1.2.0' });
    registry.publish({ name: '@mcs-example/driver-sql', version: '0.3.1', tarball: scopedTarball, attestations });
    registry.setKeys(keysResponse([{ key }]));
  });
  afterAll(() => registry.close());
  afterEach(() => registry.clearMisbehavior());

  it('serves a full packument with sha512 integrity, sha1 shasum, signatures and times', async () => {
    expect(registry.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const { status, contentType, body } = await getJson<Packument>(`${registry.url}mcs-driver-csv`);
    expect(status).toBe(200);
    expect(contentType).toBe('application/json');
    expect(body._id).toBe('mcs-driver-csv');
    expect(body.name).toBe('mcs-driver-csv');
    expect(body['dist-tags'].latest).toBe('1.10.0-beta.1'); // semver-highest, not the last published nor the lexically highest
    expect(Object.keys(body.versions).sort()).toEqual(['1.10.0-beta.1', '1.2.0']);
    const doc = body.versions['1.2.0']!;
    expect(doc).toMatchObject({ _id: 'mcs-driver-csv@1.2.0', name: 'mcs-driver-csv', version: '1.2.0', description: 'CSV driver for MCS' });
    expect(doc.dist.integrity).toBe(sri(csvTarball));
    expect(doc.dist.shasum).toBe(createHash('sha1').update(csvTarball).digest('hex'));
    expect(doc.dist.tarball).toBe(`${registry.url}mcs-driver-csv/-/mcs-driver-csv-1.2.0.tgz`);
    expect(doc.dist.signatures).toEqual([csvSignature]);
    expect(doc.dist.attestations).toBeUndefined();
    expect(doc.deprecated).toBeUndefined();
    expect(body.versions['1.10.0-beta.1']!.deprecated).toBe('use 1.2.0');
    expect(body.time).toEqual({
      created: '2025-02-01T10:00:00.000Z',
      modified: '2025-03-01T10:00:00.000Z',
      '1.2.0': '2025-03-01T10:00:00.000Z',
      '1.10.0-beta.1': '2025-02-01T10:00:00.000Z',
    });
  });

  it('honours integrity and tarball URL overrides, and replaces a republished version', async () => {
    const local = await startFixtureRegistry();
    try {
      local.publish({ name: 'lying', version: '1.0.0', tarball: csvTarball, integrity: 'sha512-AAAA', tarballUrl: 'http://127.0.0.1:9/elsewhere.tgz' });
      let { body } = await getJson<Packument>(`${local.url}lying`);
      expect(body.versions['1.0.0']!.dist).toMatchObject({ integrity: 'sha512-AAAA', tarball: 'http://127.0.0.1:9/elsewhere.tgz' });
      local.publish({ name: 'lying', version: '1.0.0', tarball: scopedTarball });
      ({ body } = await getJson<Packument>(`${local.url}lying`));
      expect(body.versions['1.0.0']!.dist.integrity).toBe(sri(scopedTarball));
    } finally {
      await local.close();
    }
  });

  it('serves scoped packuments at both /@scope%2fname (either case) and /@scope/name', async () => {
    const forms = ['@mcs-example%2fdriver-sql', '@mcs-example%2Fdriver-sql', '@mcs-example/driver-sql'];
    for (const form of forms) {
      const { status, body } = await getJson<Packument>(`${registry.url}${form}`);
      expect(status, form).toBe(200);
      expect(body.name).toBe('@mcs-example/driver-sql');
      expect(body['dist-tags'].latest).toBe('0.3.1');
      const dist = body.versions['0.3.1']!.dist;
      expect(dist.integrity).toBe(sri(scopedTarball));
      expect(dist.tarball).toBe(`${registry.url}@mcs-example/driver-sql/-/driver-sql-0.3.1.tgz`);
      expect(dist.attestations).toEqual({
        url: `${registry.url}-/npm/v1/attestations/@mcs-example/driver-sql@0.3.1`,
        provenance: { predicateType: 'https://slsa.dev/provenance/v1' },
      });
    }
  });

  it('serves tarball bytes with the right headers, at the real registry layout', async () => {
    for (const [path, bytes] of [
      ['mcs-driver-csv/-/mcs-driver-csv-1.2.0.tgz', csvTarball],
      ['@mcs-example/driver-sql/-/driver-sql-0.3.1.tgz', scopedTarball],
    ] as const) {
      const response = await fetch(`${registry.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      expect(response.headers.get('content-length')).toBe(String(bytes.length));
      const received = Buffer.from(await response.arrayBuffer());
      expect(received.equals(bytes)).toBe(true);
    }
    expect((await fetch(`${registry.url}mcs-driver-csv/-/mcs-driver-csv-9.9.9.tgz`)).status).toBe(404);
    expect((await fetch(`${registry.url}@mcs-example/driver-sql/-/@mcs-example/driver-sql-0.3.1.tgz`)).status).toBe(404);
  });

  it('serves the keys body, and 404 before keys are set', async () => {
    const { status, body } = await getJson<unknown>(`${registry.url}-/npm/v1/keys`);
    expect(status).toBe(200);
    expect(body).toEqual(keysResponse([{ key }]));
    const bare = await startFixtureRegistry();
    try {
      const missing = await getJson<unknown>(`${bare.url}-/npm/v1/keys`);
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ error: 'Not found' });
    } finally {
      await bare.close();
    }
  });

  it('serves attestations for scoped names both raw and percent-encoded, 404 when none', async () => {
    for (const spec of ['@mcs-example/driver-sql@0.3.1', '%40mcs-example%2fdriver-sql@0.3.1', '%40mcs-example%2Fdriver-sql%400.3.1']) {
      const { status, contentType, body } = await getJson<unknown>(`${registry.url}-/npm/v1/attestations/${spec}`);
      expect(status, spec).toBe(200);
      expect(contentType).toBe('application/json');
      expect(body).toEqual(attestations);
    }
    expect((await fetch(`${registry.url}-/npm/v1/attestations/mcs-driver-csv@1.2.0`)).status).toBe(404);
    expect((await fetch(`${registry.url}-/npm/v1/attestations/nope@1.0.0`)).status).toBe(404);
  });

  it('searches published names case-insensitively, honouring size', async () => {
    type Search = { objects: Array<{ package: { name: string; version: string; description?: string; date: string } }>; total: number; time: string };
    const all = await getJson<Search>(`${registry.url}-/v1/search?text=MCS&size=20`);
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(2);
    expect(all.body.objects.map((o) => o.package.name).sort()).toEqual(['@mcs-example/driver-sql', 'mcs-driver-csv']);
    expect(all.body.objects.find((o) => o.package.name === 'mcs-driver-csv')!.package).toEqual({
      name: 'mcs-driver-csv',
      version: '1.10.0-beta.1',
      date: '2025-02-01T10:00:00.000Z',
    });
    expect(typeof all.body.time).toBe('string');
    const one = await getJson<Search>(`${registry.url}-/v1/search?text=driver&size=1`);
    expect(one.body.total).toBe(2);
    expect(one.body.objects).toHaveLength(1);
    const sql = await getJson<Search>(`${registry.url}-/v1/search?text=SQL`);
    expect(sql.body.objects.map((o) => o.package.name)).toEqual(['@mcs-example/driver-sql']);
    expect((await getJson<Search>(`${registry.url}-/v1/search?text=zzz`)).body).toMatchObject({ objects: [], total: 0 });
  });

  it('answers 404 with a JSON error for unknown routes and 405 for other methods, and records requests', async () => {
    const before = registry.requests.length;
    const unknown = await getJson<unknown>(`${registry.url}no-such-package`);
    expect(unknown).toEqual({ status: 404, contentType: 'application/json', body: { error: 'Not found' } });
    expect((await fetch(`${registry.url}-/whoami`)).status).toBe(404);
    const put = await fetch(`${registry.url}mcs-driver-csv`, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET');
    await put.arrayBuffer();
    expect(registry.requests.slice(before)).toEqual([
      { method: 'GET', path: '/no-such-package' },
      { method: 'GET', path: '/-/whoami' },
      { method: 'PUT', path: '/mcs-driver-csv' },
    ]);
  });

  it("'status' answers with the status `times` times, then behaves; without times it persists", async () => {
    registry.misbehave({ kind: 'status', path: '/mcs-driver-csv', status: 503, times: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${registry.url}mcs-driver-csv`);
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses).toEqual([503, 503, 200, 200]);

    registry.misbehave({ kind: 'status', path: /\.tgz$/, status: 500 });
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${registry.url}mcs-driver-csv/-/mcs-driver-csv-1.2.0.tgz`);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ error: 'Internal Server Error' });
    }
    registry.clearMisbehavior();
    expect((await fetch(`${registry.url}mcs-driver-csv/-/mcs-driver-csv-1.2.0.tgz`)).status).toBe(200);
  });

  it('misbehaviors apply in order of addition: the first matching rule wins, string paths match with or without the query', async () => {
    registry.misbehave({ kind: 'body', path: '/-/v1/search', body: '{"objects": [', contentType: 'application/json' });
    registry.misbehave({ kind: 'status', path: /search/, status: 500 });
    const response = await fetch(`${registry.url}-/v1/search?text=mcs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    await expect(response.json()).rejects.toThrow(SyntaxError);
  });

  it("'body' replaces a route's answer with arbitrary bytes (a lying packument)", async () => {
    const lie = { name: 'mcs-driver-csv', 'dist-tags': { latest: '6.6.6' }, versions: {} };
    registry.misbehave({ kind: 'body', path: '/mcs-driver-csv', body: Buffer.from(JSON.stringify(lie)) });
    expect((await getJson<unknown>(`${registry.url}mcs-driver-csv`)).body).toEqual(lie);
  });

  it("'stall' sends headers and never the body, so a client timeout fires", async () => {
    registry.misbehave({ kind: 'stall', path: '/mcs-driver-csv' });
    const started = Date.now();
    const attempt = (async () => {
      const response = await fetch(`${registry.url}mcs-driver-csv`, { signal: AbortSignal.timeout(200) });
      expect(response.status).toBe(200);
      return response.text();
    })();
    await expect(attempt).rejects.toMatchObject({ name: 'TimeoutError' });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('close() ends stalled connections promptly', async () => {
    const local = await startFixtureRegistry();
    local.misbehave({ kind: 'stall', path: /.*/ });
    const response = await fetch(`${local.url}anything`); // headers arrive; the body never would
    const body = response.text();
    body.catch(() => {}); // observed below; avoid an unhandled rejection in between
    const started = Date.now();
    await local.close();
    await expect(body).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("'oversize' streams more than a client cap without a Content-Length, and the server survives the client hanging up", async () => {
    const cap = 5 * 1024 * 1024;
    // a terabyte: only streaming in chunks (and stopping on disconnect) can serve this
    registry.misbehave({ kind: 'oversize', path: '/mcs-driver-csv/-/mcs-driver-csv-1.2.0.tgz', bytes: 2 ** 40 });
    const response = await fetch(`${registry.url}mcs-driver-csv/-/mcs-driver-csv-1.2.0.tgz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBeNull();
    expect(await readCapped(response, cap)).toBeGreaterThan(cap);

    registry.clearMisbehavior();
    const after = await fetch(`${registry.url}mcs-driver-csv/-/mcs-driver-csv-1.2.0.tgz`);
    expect(Buffer.from(await after.arrayBuffer()).equals(csvTarball)).toBe(true);
  });

  it("'oversize' with a finite size ends the body after exactly that many bytes", async () => {
    registry.misbehave({ kind: 'oversize', path: '/-/npm/v1/keys', bytes: 100_000 });
    const response = await fetch(`${registry.url}-/npm/v1/keys`);
    expect((await response.arrayBuffer()).byteLength).toBe(100_000);
  });

  it("'redirect' sends a real Location header (default 302, or the given status)", async () => {
    registry.misbehave({ kind: 'redirect', path: '/mcs-driver-csv', location: 'http://127.0.0.2:1/mcs-driver-csv' });
    registry.misbehave({ kind: 'redirect', path: /^\/-\/npm\/v1\/keys$/, location: '/elsewhere', status: 301 });
    const first = await fetch(`${registry.url}mcs-driver-csv`, { redirect: 'manual' });
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('http://127.0.0.2:1/mcs-driver-csv');
    const second = await fetch(`${registry.url}-/npm/v1/keys`, { redirect: 'manual' });
    expect(second.status).toBe(301);
    expect(second.headers.get('location')).toBe('/elsewhere');
  });

  it('runs a second instance on 127.0.0.2, a different host to redirect to', async (context) => {
    let other: FixtureRegistry;
    try {
      other = await startFixtureRegistry({ host: '127.0.0.2' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') context.skip('cannot bind 127.0.0.2 (EADDRNOTAVAIL): this system has no 127.0.0.0/8 loopback range');
      throw error;
    }
    try {
      expect(other.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+\/$/);
      other.publish({ name: 'mcs-driver-csv', version: '1.2.0', tarball: csvTarball });
      registry.misbehave({ kind: 'redirect', path: /\.tgz$/, location: `${other.url}mcs-driver-csv/-/mcs-driver-csv-1.2.0.tgz` });
      const followed = await fetch(`${registry.url}mcs-driver-csv/-/mcs-driver-csv-1.2.0.tgz`);
      expect(followed.status).toBe(200);
      expect(followed.url).toBe(`${other.url}mcs-driver-csv/-/mcs-driver-csv-1.2.0.tgz`);
      expect(Buffer.from(await followed.arrayBuffer()).equals(csvTarball)).toBe(true);
      expect(other.requests).toEqual([{ method: 'GET', path: '/mcs-driver-csv/-/mcs-driver-csv-1.2.0.tgz' }]);
    } finally {
      await other.close();
    }
  });
});
