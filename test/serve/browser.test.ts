/**
 * The web page in a real browser: headless Chromium from Debian's chromium
 * package (.ci/run installs it when missing), driven by playwright-core.
 * Asserts what a person sees: search as you type, a package's label, who set
 * it and why, and its provenance; the package page and the search form
 * without JavaScript; and keeps a screenshot in test-artifacts/.
 * MCS_PKG_DOCS_SCREENSHOT=1 also writes it to docs/screenshot.png.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type BrowserContextOptions } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/serve/server.js';
import { writeSite } from '../../src/serve/site.js';
import { SAMPLE_SHA512, npmDriver, removeDir } from '../helpers/index-data.js';
import { serve, signedWorld, type SignedWorld } from './world.js';

const CHROMIUM = '/usr/bin/chromium';
const repo = fileURLToPath(new URL('../../', import.meta.url));

let world: SignedWorld;
let server: RunningServer;
const profiles: string[] = [];

/** Chromium with a fresh profile folder, as CI runs it. */
async function openBrowser(options: BrowserContextOptions): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'mcs-chromium-'));
  profiles.push(profile);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...options,
  });
}

const publisher = { issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/example/mcs-driver-csv', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*' };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the browser test needs Chromium at ${CHROMIUM} (Debian's chromium package): install it with apt-get install -y chromium, as .ci/run does`);
  }
  world = signedWorld([
    npmDriver('mcs-driver-csv', {
      description: 'Reads, filters and summarizes CSV files for a model',
      label: { value: 'verified', by: 'alice', at: '2026-03-01T10:00:00Z', reason: 'every version verified against the release workflow' },
      trust: { repository: publisher.repository, publisher },
      security: { permissions: ['filesystem:read'], notes: [{ text: 'Reads only inside the configured base folder', severity: 'info' }] },
      versions: { '1.2.0': { integrity: SAMPLE_SHA512, size: 20480, provenance: true, published: '2026-02-20T09:00:00Z' }, '1.1.0': { integrity: SAMPLE_SHA512, size: 19876, provenance: true, published: '2026-01-15T09:00:00Z' } },
    }),
    npmDriver('mcs-driver-csvkit', { description: 'CSV toolkit driver: joins and pivots' }),
    npmDriver('mcs-driver-rest', { description: 'Calls REST APIs described by OpenAPI' }),
  ]);
  // the reviewed PyPI entries shipped with mcs-pkg, beside them
  cpSync(join(repo, 'index-data', 'pypi'), join(world.indexDir, 'pypi'), { recursive: true });
  server = await serve({ indexDir: world.indexDir, cacheDir: join(world.work, 'cache') });
});
afterAll(async () => {
  await server?.close();
  if (world) removeDir(world.work);
  for (const profile of profiles) removeDir(profile);
});

describe('the web page', () => {
  it('searches as a person types, opens a package and shows its label, who set it and why, and its provenance', async () => {
    const context = await openBrowser({ viewport: { width: 1000, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => void (message.type() === 'error' && errors.push(message.text())));
    await page.goto(server.url);
    await page.getByLabel('Search', { exact: true }).pressSequentially('csv', { delay: 30 });
    const results = page.getByRole('list').filter({ has: page.getByRole('link', { name: 'mcs-driver-csv' }) });
    await expect.poll(() => results.getByRole('link').allTextContents()).toEqual(expect.arrayContaining(['mcs-driver-csv', 'mcs-driver-csvkit']));
    expect(page.url()).toContain('?q=csv');
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/\d+ packages/);
    // a facet narrows the results as it is chosen
    await page.getByLabel('Ecosystem').selectOption('pypi');
    await expect.poll(() => page.locator('#results li').count()).toBe(1);
    expect(await page.locator('#results li').first().textContent()).toMatch(/mcs-driver-csv\s+reference\s+pypi/);
    await page.getByLabel('Ecosystem').selectOption('');
    // the pypi-only list also starts with mcs-driver-csv: wait for the whole list to come back before reading it
    await expect.poll(() => page.locator('#results li').count()).toBeGreaterThan(1);
    await expect.poll(() => page.locator('#results li').first().textContent()).toMatch(/^mcs-driver-csv\s+verified\s+npm/);
    mkdirSync(join(repo, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(repo, 'test-artifacts', 'search.png'), fullPage: true });

    await page.locator('#results a', { hasText: /^mcs-driver-csv$/ }).first().click();
    await page.waitForURL(/packages\/npm\/mcs-driver-csv\/$/);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('mcs-driver-csv');
    const label = await page.locator('#label-summary').innerText();
    expect(label).toMatch(/^verified set by alice at \d{4}-\d\d-\d\dT[\d:.]+Z: every version verified against the release workflow$/);
    expect(await page.locator('#provenance-summary').innerText()).toBe('provenance on every version.');
    const provenance = await page.getByRole('region', { name: 'Provenance and publisher' }).innerText();
    expect(provenance).toContain('https://github.com/example/mcs-driver-csv');
    expect(provenance).toContain('.github/workflows/release.yml at refs/tags/v*');
    const versions = await page.getByRole('table', { name: 'Pinned versions and their digests' }).innerText();
    expect(versions).toMatch(/1\.2\.0\s+2026-02-20T09:00:00Z\s+yes\s+sha512-/);
    expect(await page.getByRole('region', { name: 'Install or load' }).innerText()).toContain('npx mcs-pkg load mcs-driver-csv@1.2.0');
    expect(await page.getByRole('table', { name: 'Audit log records, oldest first' }).innerText()).toMatch(/label\s+verified\s+every version verified against the release workflow\s+key [0-9a-f]{16}/);
    await page.screenshot({ path: join(repo, 'test-artifacts', 'package.png'), fullPage: true });
    if (process.env.MCS_PKG_DOCS_SCREENSHOT === '1') await page.screenshot({ path: join(repo, 'docs', 'screenshot.png') });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('works without JavaScript: the form searches on the server, the package page is complete, and it reads on a phone', async () => {
    const context = await openBrowser({ javaScriptEnabled: false, viewport: { width: 375, height: 740 } });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByLabel('Search', { exact: true }).fill('rest');
    await page.getByLabel('Search', { exact: true }).press('Enter');
    await page.waitForURL(/\?q=rest/);
    expect(await page.locator('#results a').allTextContents()).toContain('mcs-driver-rest');
    await page.goto(new URL('packages/pypi/mcs-driver-csv/', server.url).href);
    expect(await page.locator('#label-summary').innerText()).toMatch(/^reference set by /);
    expect(await page.locator('#provenance-summary').innerText()).toBe('no provenance.');
    expect(await page.getByRole('heading', { name: 'Drivers and tools' }).isVisible()).toBe(true);
    expect(await page.getByText('read_csv_head').isVisible()).toBe(true);
    expect(await page.getByRole('region', { name: 'Install or load' }).innerText()).toMatch(/npx mcs-pkg pins pypi:mcs-driver-csv@\S+ --format requirements/);
    // nothing wider than the phone's screen but the tables' own scrolling boxes
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    // keyboard: the first Tab reaches the skip link, which leads to the main landmark
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    expect(await page.getByRole('main').count()).toBe(1);
    await context.close();
  });

  it('the static site (index site) searches packages.json as a person types, with facets, from any static host', async () => {
    const out = join(world.work, 'site');
    await writeSite(out, { indexDir: world.indexDir, cacheDir: join(world.work, 'cache') });
    const types: Record<string, string> = { '.html': 'text/html', '.json': 'application/json', '.css': 'text/css', '.js': 'text/javascript', '.svg': 'image/svg+xml' };
    // a static host: files as they are, a folder's index.html, nothing else
    const host = createServer((request, response) => {
      const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
      const file = join(out, path, path.endsWith('/') ? 'index.html' : '');
      if (!file.startsWith(out) || !existsSync(file)) return void response.writeHead(404).end();
      response.writeHead(200, { 'Content-Type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const context = await openBrowser({ viewport: { width: 800, height: 700 } });
    try {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${(host.address() as AddressInfo).port}/`);
      await page.getByLabel('Search', { exact: true }).pressSequentially('csv', { delay: 30 });
      await expect.poll(() => page.locator('#results a').allTextContents()).toEqual(expect.arrayContaining(['mcs-driver-csv', 'mcs-driver-csvkit']));
      await page.getByLabel('Capability').fill('csv');
      await page.getByLabel('Label').selectOption('verified');
      await expect.poll(() => page.locator('#results a').allTextContents()).toEqual(['mcs-driver-csv']);
      await page.locator('#results a').first().click();
      await page.waitForURL(/packages\/npm\/mcs-driver-csv\/$/);
      expect(await page.locator('#label-summary').innerText()).toMatch(/^verified set by alice/);
    } finally {
      await context.close();
      await new Promise((resolve) => host.close(resolve));
    }
  });
});
