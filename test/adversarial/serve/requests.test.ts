/**
 * Hostile requests to mcs-pkg serve: altered and replayed cursors, oversized
 * request lines and headers, bodies on GET, and index text that tries to
 * become markup or hide itself on the pages.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/serve/server.js';
import { npmDriver, removeDir } from '../../helpers/index-data.js';
import { getJson, serve, signedWorld, type SignedWorld } from '../../serve/world.js';

let world: SignedWorld;
let server: RunningServer;
const api = (path: string) => new URL(`api/v1/${path}`, server.url).href;

beforeAll(async () => {
  world = signedWorld([
    ...['alpha', 'beta', 'gamma'].map((w) => npmDriver(`mcs-driver-${w}`, { description: `Reads ledger files, ${w} flavour` })),
    npmDriver('mcs-driver-evil', {
      description: 'Reads <script>alert(1)</script> files \u202Egnp.exe and "quotes" & \u200Bhidden',
      security: { permissions: ['network'], notes: [{ text: '<img src=x onerror=alert(2)>', severity: 'high', url: 'https://example.org/note?a=1&b=2' }] },
      homepage: 'https://example.org/?a=1&b=2',
    }),
  ]);
  server = await serve({ indexDir: world.indexDir, cacheDir: join(world.work, 'cache') });
});
afterAll(async () => {
  await server.close();
  removeDir(world.work);
});

/** A raw request, so headers and bodies fetch would refuse to send can be sent. */
function raw(path: string, options: { headers?: Record<string, string>; method?: string; body?: string } = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, server.url);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method: options.method ?? 'GET', headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, body: text === '' ? undefined : JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('cursors', () => {
  async function firstCursor(query = 'ledger'): Promise<string> {
    const { body } = await getJson(api(`search?q=${query}&limit=1`));
    expect(body.next).toEqual(expect.any(String));
    return body.next as string;
  }

  it('refuses a cursor whose offset was changed, even with its signature kept: 400 E_CURSOR_INVALID', async () => {
    const cursor = await firstCursor();
    const [payload, tag] = cursor.split('.');
    const state = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as [number, string, string];
    state[0] = 500;
    const forged = `${Buffer.from(JSON.stringify(state)).toString('base64url')}.${tag}`;
    for (const bad of [forged, `${payload}.${'A'.repeat(43)}`, 'not-a-cursor', `${cursor}.x`, 'x'.repeat(600)]) {
      const { status, body } = await getJson(api(`search?q=ledger&limit=1&cursor=${encodeURIComponent(bad)}`));
      expect([bad.slice(0, 20), status, body.error.code]).toEqual([bad.slice(0, 20), 400, 'E_CURSOR_INVALID']);
    }
  });

  it('refuses a genuine cursor replayed for another query or page size: 409 E_CURSOR_INVALID', async () => {
    const cursor = encodeURIComponent(await firstCursor());
    for (const path of [`search?q=files&limit=1&cursor=${cursor}`, `search?q=ledger&limit=2&cursor=${cursor}`, `search?q=ledger&limit=1&label=community&cursor=${cursor}`]) {
      const { status, body } = await getJson(api(path));
      expect([path, status, body.error.code]).toEqual([path, 409, 'E_CURSOR_INVALID']);
    }
  });

  it('refuses a cursor made by a server with another secret', async () => {
    const other = await serve({ indexDir: world.indexDir, cacheDir: join(world.work, 'cache'), cursorSecret: 'another secret' });
    try {
      const { body } = await getJson(new URL('api/v1/search?q=ledger&limit=1', other.url).href);
      const { status, body: refused } = await getJson(api(`search?q=ledger&limit=1&cursor=${encodeURIComponent(body.next)}`));
      expect([status, refused.error.code]).toEqual([400, 'E_CURSOR_INVALID']);
    } finally {
      await other.close();
    }
  });
});

describe('oversized and malformed requests', () => {
  it('refuses a request target over 2048 bytes: 414 E_REQUEST_TOO_LARGE', async () => {
    const { status, body } = await raw(`/api/v1/search?q=csv&pad=${'a'.repeat(2100)}`);
    expect([status, body.error.code]).toEqual([414, 'E_REQUEST_TOO_LARGE']);
  });

  it('refuses headers over 8 KiB: 431 E_REQUEST_TOO_LARGE, in the same JSON shape', async () => {
    const { status, body } = await raw('/api/v1/search?q=csv', { headers: { 'X-Padding': 'a'.repeat(10_000) } });
    expect([status, body.error.code]).toEqual([431, 'E_REQUEST_TOO_LARGE']);
  });

  it('refuses a GET that carries a body: 413 E_REQUEST_TOO_LARGE', async () => {
    const { status, body } = await raw('/api/v1/search?q=csv', { body: 'x'.repeat(100), headers: { 'Content-Length': '100' } });
    expect([status, body.error.code]).toEqual([413, 'E_REQUEST_TOO_LARGE']);
  });

  it('refuses a package name that is not percent-encoded text: 400 E_USAGE', async () => {
    const { status, body } = await raw('/api/v1/packages/npm/mcs-driver-%E0%A4%A');
    expect([status, body.error.code]).toEqual([400, 'E_USAGE']);
  });
});

describe('index text on the pages', () => {
  it('escapes markup and shows invisible characters as \\u{...}; no script or attribute gets through; strict CSP', async () => {
    const response = await fetch(new URL('packages/npm/mcs-driver-evil/', server.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
    const html = await response.text();
    expect(html).toContain('Reads &lt;script&gt;alert(1)&lt;/script&gt; files \\u{202E}gnp.exe and &quot;quotes&quot; &amp; \\u{200B}hidden');
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expect(html).not.toMatch(/<script>|<img/);
    expect(html).toContain('href="https://example.org/?a=1&amp;b=2"');
    expect(html).not.toMatch(/[\u202E\u200B]/);
    // the only script is the site's own file
    expect(html.match(/<script[^>]*>/g)).toEqual(['<script src="../../../assets/app.js" defer>']);
  });

  it('escapes invisible characters in JSON as \\u escapes, keeping the document what it was', async () => {
    const response = await fetch(api('packages/npm/mcs-driver-evil'));
    const text = await response.text();
    expect(text).toContain('\\u202egnp.exe');
    expect(text).not.toMatch(/[\u202E\u200B]/);
    expect(JSON.parse(text).entry.description).toContain('\u202Egnp.exe');
  });

  it('escapes the query echoed on the server-rendered search page', async () => {
    const html = await (await fetch(new URL(`?q=${encodeURIComponent('"><script>alert(5)</script>')}`, server.url))).text();
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;alert(5)&lt;/script&gt;"');
    expect(html).not.toContain('<script>alert(5)');
  });
});
