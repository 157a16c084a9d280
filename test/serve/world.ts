/**
 * An index folder whose audit log is signed by a maintainer of its root, as
 * publish requires, and a server over it on a loopback port.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initLog, recordChange } from '../../src/maintain/edit.js';
import { makeRoot, signMetadata } from '../../src/snapshot/metadata.js';
import { startServer, type RunningServer, type ServeOptions } from '../../src/serve/server.js';
import type { IndexEntry } from '../../src/manifest/types.js';
import { tempDir, writeEntry } from '../helpers/index-data.js';

export interface SignedWorld {
  work: string;
  indexDir: string;
  /** root.json the maintainer key belongs to. */
  rootFile: string;
  keyFiles: string[];
  maintainer: { key: KeyObject; why: string };
}

/** Writes `entries` into a new index folder that keeps its root, and starts its signed audit log. */
export function signedWorld(entries: IndexEntry[]): SignedWorld {
  const work = tempDir('mcs-serve-');
  const pairs = [0, 1].map(() => generateKeyPairSync('ed25519'));
  const keyFiles = pairs.map((pair, i) => {
    const file = join(work, `key${i}.pem`);
    writeFileSync(file, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    return file;
  });
  const pems = pairs.map((p) => p.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  const rootFile = join(work, 'root.json');
  const root = signMetadata(makeRoot({ version: 1, expires: '2030-01-01T00:00:00Z', maintainers: pairs.map((p) => p.publicKey), names: ['alice', 'bob'], threshold: 2 }), pems);
  writeFileSync(rootFile, JSON.stringify(root));
  const indexDir = join(work, 'index');
  // a Verified label is never logged by --init: the entry starts as Reference and alice then labels it, as index label does
  for (const entry of entries) writeEntry(indexDir, entry.label.value === 'verified' ? { ...entry, label: { ...entry.label, value: 'reference' } } : entry);
  writeFileSync(join(indexDir, 'root.json'), JSON.stringify(root));
  const maintainer = { key: createPrivateKey(pems[0]!), why: 'test index' };
  initLog(indexDir, maintainer);
  for (const entry of entries.filter((e) => e.label.value === 'verified')) {
    recordChange(indexDir, `${entry.ecosystem}:${entry.name}`, { ...maintainer, why: entry.label.reason }, (current, author) => ({ ...current, label: { value: 'verified', by: author.by, at: author.now?.toISOString() ?? new Date().toISOString(), reason: author.why } }));
  }
  return { work, indexDir, rootFile, keyFiles, maintainer };
}

/** A server on a free loopback port with a generous rate cap unless the test sets one. */
export function serve(options: ServeOptions): Promise<RunningServer> {
  return startServer({ host: '127.0.0.1', port: 0, ratePerSecond: 10_000, rateBurst: 10_000, onError: () => {}, ...options });
}

export async function getJson(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? undefined : JSON.parse(text) };
}
