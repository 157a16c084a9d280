/**
 * A replica serving the index `update` installed, while `update` switches it
 * to the next signed snapshot: every request succeeds, each response comes
 * wholly from one snapshot, and the signed snapshot.json passed on is the
 * one the served data came from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { recordNewEntry } from '../../src/maintain/edit.js';
import { publishSnapshot, updateIndex } from '../../src/snapshot/publish.js';
import type { RunningServer } from '../../src/serve/server.js';
import { npmDriver, removeDir } from '../helpers/index-data.js';
import { getJson, serve, signedWorld, type SignedWorld } from './world.js';

let world: SignedWorld;
let server: RunningServer;
let outDir: string;
let stateDir: string;

beforeAll(async () => {
  world = signedWorld([npmDriver('mcs-driver-csv', { description: 'Reads CSV files' }), npmDriver('mcs-driver-rest', { description: 'Calls REST APIs' })]);
  outDir = join(world.work, 'published');
  stateDir = join(world.work, 'state');
  await publishSnapshot({ indexDir: world.indexDir, outDir, root: world.rootFile, keys: world.keyFiles, version: 1 });
  await updateIndex({ from: outDir, stateDir, root: world.rootFile });
  server = await serve({ indexDir: join(stateDir, 'current'), cacheDir: join(world.work, 'cache') });
});
afterAll(async () => {
  await server.close();
  removeDir(world.work);
});

/** What one snapshot holds, by version: the packages a listing of every npm package returns. */
const PACKAGES: Record<number, string[]> = {
  1: ['mcs-driver-csv', 'mcs-driver-rest'],
  2: ['mcs-driver-csv', 'mcs-driver-rest', 'mcs-driver-xml'],
};

it('passes on the signed snapshot.json and root.json it was installed from, byte for byte', async () => {
  const snapshot = await fetch(new URL('api/v1/snapshot.json', server.url));
  expect(snapshot.status).toBe(200);
  expect(Buffer.from(await snapshot.arrayBuffer()).equals(readFileSync(join(outDir, 'snapshot.json')))).toBe(true);
  const root = await fetch(new URL('api/v1/root.json', server.url));
  expect(root.status).toBe(200);
  expect(Buffer.from(await root.arrayBuffer()).equals(readFileSync(join(outDir, '1.root.json')))).toBe(true);
});

it('answers every request during an update, each from one snapshot, and switches to the new one', async () => {
  recordNewEntry(world.indexDir, npmDriver('mcs-driver-xml', { description: 'Reads XML files' }), world.maintainer);
  await publishSnapshot({ indexDir: world.indexDir, outDir, root: world.rootFile, keys: world.keyFiles });
  const published = JSON.parse(readFileSync(join(outDir, 'snapshot.json'), 'utf8')) as { signed: { version: number } };
  expect(published.signed.version).toBe(2);

  let updating = true;
  const seen: Array<{ status: number; header: string | null; id: string; version: number; names: string[] }> = [];
  const load = async (): Promise<void> => {
    while (updating) {
      const { status, headers, body } = await getJson(new URL('api/v1/search?ecosystem=npm&limit=100', server.url).href);
      seen.push({ status, header: headers.get('x-index-snapshot'), id: body.index?.id, version: body.index?.snapshot, names: (body.results ?? []).map((r: { name: string }) => r.name).sort() });
    }
  };
  const clients = Array.from({ length: 4 }, load);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await updateIndex({ from: outDir, stateDir });
  // keep asking until the server answers from the new snapshot (it opens it on the next request)
  const deadline = Date.now() + 20_000;
  while (!seen.some((s) => s.version === 2) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 100));
  updating = false;
  await Promise.all(clients);

  expect(seen.length).toBeGreaterThan(4);
  for (const response of seen) {
    expect(response.status).toBe(200);
    expect(response.header).toBe(response.id);
    expect(response.id.startsWith(`${response.version}-`)).toBe(true);
    expect(response.names).toEqual(PACKAGES[response.version]);
  }
  expect(new Set(seen.map((s) => s.version))).toEqual(new Set([1, 2]));
  expect(seen.at(-1)!.version).toBe(2);

  const snapshot = await fetch(new URL('api/v1/snapshot.json', server.url));
  expect(snapshot.headers.get('x-index-snapshot')).toMatch(/^2-/);
  expect(Buffer.from(await snapshot.arrayBuffer()).equals(readFileSync(join(outDir, 'snapshot.json')))).toBe(true);
});
