/**
 * The HTTP API of mcs-pkg serve over a real loopback socket: every route,
 * validators and conditional requests, CORS, coded errors, pagination with
 * cursors, and the rate cap.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/serve/server.js';
import { npmDriver, removeDir } from '../helpers/index-data.js';
import { getJson, serve, signedWorld, type SignedWorld } from './world.js';

let world: SignedWorld;
let server: RunningServer;
const api = (path: string) => new URL(`api/v1/${path}`, server.url).href;

beforeAll(async () => {
  world = signedWorld([
    npmDriver('mcs-driver-csv', { description: 'Reads CSV files', label: { value: 'reference', by: 'alice', at: '2026-02-01T00:00:00Z', reason: 'reviewed by the core team' } }),
    npmDriver('mcs-driver-rest', { description: 'Calls REST APIs' }),
    ...['alpha', 'beta', 'gamma', 'delta', 'epsilon'].map((w) => npmDriver(`mcs-driver-${w}`, { description: `Reads ledger files, ${w} flavour` })),
  ]);
  server = await serve({ indexDir: world.indexDir, cacheDir: join(world.work, 'cache') });
});
afterAll(async () => {
  await server.close();
  removeDir(world.work);
});

describe('routes', () => {
  it('lists its routes and says which index state answered, in the body and the X-Index-Snapshot header', async () => {
    const { status, headers, body } = await getJson(api(''));
    expect(status).toBe(200);
    expect(body.routes).toContain('/api/v1/search');
    expect(body.index).toMatchObject({ snapshot: null, expired: false, packages: 7 });
    expect(headers.get('x-index-snapshot')).toBe(body.index.id);
    expect(headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('searches with the CLI facets', async () => {
    const csv = await getJson(api('search?q=csv'));
    expect(csv.status).toBe(200);
    expect(csv.body.results.map((r: { name: string }) => r.name)).toEqual(['mcs-driver-csv']);
    expect(csv.body.results[0]).toMatchObject({ label: 'reference', latest: '1.0.0', capabilities: ['csv'] });
    const labelled = await getJson(api('search?label=reference'));
    expect(labelled.body.results.map((r: { name: string }) => r.name)).toEqual(['mcs-driver-csv']);
    const both = await getJson(api('search?capability=csv&capability=rest&limit=50'));
    expect(both.body.results.map((r: { name: string }) => r.name).sort()).toEqual(['mcs-driver-csv', 'mcs-driver-rest']);
    expect(both.body.filters).toEqual({ capability: ['csv', 'rest'] });
  });

  it('pages through results with cursors, each result once, until next is null', async () => {
    const seen: string[] = [];
    let url = api('search?q=ledger&limit=2');
    for (let page = 0; page < 10; page++) {
      const { status, body } = await getJson(url);
      expect(status).toBe(200);
      expect(body.results.length).toBeLessThanOrEqual(2);
      seen.push(...body.results.map((r: { name: string }) => r.name));
      if (body.next === null) break;
      url = api(`search?q=ledger&limit=2&cursor=${encodeURIComponent(body.next)}`);
    }
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it('answers a package, its versions and its signed audit history', async () => {
    const pkg = await getJson(api('packages/npm/mcs-driver-csv'));
    expect(pkg.status).toBe(200);
    expect(pkg.body).toMatchObject({ name: 'mcs-driver-csv', ecosystem: 'npm', latest: '1.0.0', entry: { label: { value: 'reference', by: 'alice' } } });
    expect(pkg.body.labelRecord).toMatchObject({ by: expect.any(String), why: 'test index', keyid: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const versions = await getJson(api('packages/npm/mcs-driver-csv/versions'));
    expect(versions.body.versions).toEqual([{ version: '1.0.0', integrity: expect.stringMatching(/^sha512-/), size: 1234, provenance: false }]);
    const audit = await getJson(api('packages/npm/mcs-driver-csv/audit'));
    expect(audit.body.signed).toBe(true);
    expect(audit.body.records.length).toBeGreaterThan(0);
    expect(audit.body.records.every((r: { package: string; sig?: string }) => r.package === 'npm:mcs-driver-csv' && typeof r.sig === 'string')).toBe(true);
    expect(audit.body.records.find((r: { field: string }) => r.field === 'label')).toMatchObject({ after: 'reference' });
  });

  it('has no signed snapshot metadata for an index update did not install: 404 E_NOT_FOUND', async () => {
    for (const file of ['snapshot.json', 'root.json']) {
      const { status, body } = await getJson(api(file));
      expect(status).toBe(404);
      expect(body.error.code).toBe('E_NOT_FOUND');
      expect(body.error.message).toMatch(/not installed by mcs-pkg update/);
    }
  });
});

describe('HTTP', () => {
  it('sends an ETag and Cache-Control, and answers If-None-Match with 304 and no body', async () => {
    const first = await fetch(api('search?q=csv'));
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(first.headers.get('cache-control')).toBe('public, max-age=60, must-revalidate');
    const again = await fetch(api('search?q=csv'), { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    const other = await fetch(api('search?q=rest'), { headers: { 'If-None-Match': etag } });
    expect(other.status).toBe(200);
    expect(other.headers.get('etag')).not.toBe(etag);
  });

  it('allows any origin to GET, without credentials, and answers a preflight', async () => {
    const response = await fetch(api('search?q=csv'), { headers: { Origin: 'https://example.org' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    const preflight = await fetch(api('search?q=csv'), { method: 'OPTIONS', headers: { Origin: 'https://example.org', 'Access-Control-Request-Method': 'GET' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, HEAD, OPTIONS');
  });

  it('is read-only: POST is 405 E_METHOD_NOT_ALLOWED', async () => {
    const { status, headers, body } = await getJson(api('search?q=csv'), { method: 'POST' });
    expect(status).toBe(405);
    expect(headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect(body.error.code).toBe('E_METHOD_NOT_ALLOWED');
  });

  it('refuses with coded JSON errors: unknown route and package 404, bad parameters 400', async () => {
    const cases: Array<[string, number, string]> = [
      ['nothing-here', 404, 'E_NOT_FOUND'],
      ['packages/npm/mcs-driver-cvs', 404, 'E_NOT_FOUND'],
      ['packages/cargo/mcs-driver-csv', 404, 'E_NOT_FOUND'],
      ['search?q=csv&limit=0', 400, 'E_USAGE'],
      ['search?q=csv&limit=101', 400, 'E_USAGE'],
      ['search?q=csv&sort=name', 400, 'E_USAGE'],
      ['search?q=a&q=b', 400, 'E_USAGE'],
      ['search?q=%22*', 400, 'E_QUERY_EMPTY'],
      [`search?q=${'x'.repeat(300)}`, 400, 'E_USAGE'],
    ];
    for (const [path, status, code] of cases) {
      const response = await getJson(api(path));
      expect([path, response.status, response.body.error.code]).toEqual([path, status, code]);
      expect(typeof response.body.error.message).toBe('string');
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
    const missing = await getJson(api('packages/npm/mcs-driver-cvs'));
    expect(missing.body.error.message).toMatch(/did you mean mcs-driver-csv/);
  });

  it('caps the rate per client address: 429 E_RATE_LIMITED with Retry-After', async () => {
    const capped = await serve({ indexDir: world.indexDir, cacheDir: join(world.work, 'cache'), ratePerSecond: 1, rateBurst: 3 });
    try {
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof getJson>> | undefined;
      for (let i = 0; i < 5; i++) {
        last = await getJson(new URL('api/v1/search?q=csv', capped.url).href);
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(last!.body.error.code).toBe('E_RATE_LIMITED');
      expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await capped.close();
    }
  });
});
