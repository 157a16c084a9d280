/**
 * A word many packages share: the text tier ranks bounded samples of the
 * match set (RANK_CANDIDATES at a time), the packages whose head (name,
 * capabilities, tool names) matches first. The samples never drop what the
 * tiers above promise, what the head says, what a filter keeps, or a page
 * that enough packages fill.
 */
import { copyFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RANK_CANDIDATES, SCHEMA_VERSION, openDb } from '../../src/index/db.js';
import { openIndex, type McsIndex } from '../../src/index/store.js';
import { npmDriver, removeDir, tempDir, writeIndex } from '../helpers/index-data.js';

const REFERENCE = { value: 'reference', by: 't', at: '2026-01-01T00:00:00Z', reason: 'r' } as const;
/** More packages mentioning "ledger" than two samples hold. */
const SHARING = RANK_CANDIDATES * 2 + 40;

/** Digits no look-alike rule folds, so the generated names never count as confusable. */
function tag(n: number): string {
  let out = '';
  do {
    out = '2346789'[n % 7] + out;
    n = Math.floor(n / 7);
  } while (n > 0);
  return out;
}

let indexDir: string;
let cacheDir: string;
let index: McsIndex;

beforeAll(async () => {
  indexDir = tempDir('mcs-sample-');
  cacheDir = tempDir('mcs-sample-cache-');
  // files are read in path order, so the packages named zz-... get the last rows, outside the first sample
  writeIndex(indexDir, [
    ...Array.from({ length: SHARING }, (_, i) => npmDriver(`mcs-driver-acct-${tag(i)}`, { description: 'Posts journal entries to the ledger of a small business' })),
    npmDriver('mcs-driver-zz-ledger', { description: 'Bookkeeping' }),
    npmDriver('mcs-driver-zzz-books', { description: 'Keeps the ledger of a club', label: REFERENCE }),
    npmDriver('mcs-driver-ledger', { description: 'Posts journal entries to the ledger' }),
  ]);
  index = await openIndex({ indexDir, cacheDir });
});

afterAll(() => {
  index.close();
  removeDir(indexDir);
  removeDir(cacheDir);
});

describe('search over more matches than one ranked sample', () => {
  it('ranks the exact name first among every package sharing the word', () => {
    // every package's text holds mcs and driver, and more than two samples hold ledger
    const results = index.search('mcs-driver-ledger').results;
    expect(results[0]).toMatchObject({ name: 'mcs-driver-ledger', match: 'name' });
    expect(results).toHaveLength(20);
  });

  it('finds the package with the word in its name, although its row is outside the first sample', () => {
    const results = index.search('ledger').results;
    expect(results[0]).toMatchObject({ name: 'mcs-driver-ledger', match: 'capability' });
    expect(results[1]).toMatchObject({ name: 'mcs-driver-zz-ledger', match: 'text' });
    expect(results).toHaveLength(20);
  });

  it('applies a filter before sampling, so a package the filter keeps is found wherever its row is', () => {
    expect(index.search('ledger', { label: 'reference' }).results.map((r) => r.name)).toEqual(['mcs-driver-zzz-books']);
  });

  it('fills a long page with every package that matches, as pagination needs', () => {
    const results = index.search('ledger', {}, { limit: 1000 }).results;
    expect(results).toHaveLength(SHARING + 3);
    expect(new Set(results.map((r) => r.name)).size).toBe(SHARING + 3);
  });

  it('ranks a two-word match set larger than a sample: the packages matching both words', () => {
    const results = index.search('journal ledger').results;
    expect(results).toHaveLength(20);
    expect(results[0]).toMatchObject({ name: 'mcs-driver-ledger', match: 'capability' });
    for (const hit of results.slice(1)) expect(hit.description).toMatch(/journal.*ledger/);
  });
});

describe('an index database from before the head of packages was searchable', () => {
  it('opens, upgrades its schema and is rebuilt, then finds by the head again', async () => {
    const dir = tempDir('mcs-sample-old-');
    const cache = tempDir('mcs-sample-old-cache-');
    try {
      writeIndex(dir, [npmDriver('mcs-driver-csv'), npmDriver('mcs-driver-zz-ledger', { description: 'Bookkeeping' })]);
      const first = await openIndex({ indexDir: dir, cacheDir: cache });
      const file = first.status.database;
      first.close();
      // schema 2 as an earlier mcs-pkg wrote it: no head table, the trigger without it, rows of version 3
      const raw = new Database(file);
      raw.exec(`DROP TABLE packages_head;
        DROP TRIGGER packages_after_delete;
        CREATE TRIGGER packages_after_delete AFTER DELETE ON packages BEGIN
          DELETE FROM docs WHERE package_id = old.id; DELETE FROM facets WHERE package_id = old.id;
          DELETE FROM drivers WHERE package_id = old.id; DELETE FROM packages_fts WHERE rowid = old.id;
        END;
        UPDATE meta SET value = '3' WHERE key = 'rowsVersion';`);
      raw.pragma('user_version = 2');
      raw.close();

      // the migration itself, on a copy: the head table and the trigger that keeps it in step with packages
      copyFileSync(file, `${file}.copy`);
      openDb(`${file}.copy`, { busyTimeoutMs: 0 }).close();
      const migrated = new Database(`${file}.copy`);
      expect(migrated.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      migrated.exec(`INSERT INTO packages_head (rowid, name) VALUES (1, 'probe')`);
      migrated.exec('DELETE FROM packages WHERE id = 1');
      expect(migrated.prepare(`SELECT count(*) AS n FROM packages_head WHERE packages_head MATCH 'probe'`).get()).toEqual({ n: 0 });
      migrated.close();

      const rebuilt = await openIndex({ indexDir: dir, cacheDir: cache });
      // opened as the client does: migrated, then rebuilt, since its rows are of an older version
      expect(rebuilt.status.action).toBe('built');
      expect(rebuilt.search('ledger').results.map((r) => r.name)).toEqual(['mcs-driver-zz-ledger']);
      const check = new Database(rebuilt.status.database, { readonly: true });
      expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(check.prepare(`SELECT count(*) AS n FROM packages_head WHERE packages_head MATCH 'ledger'`).get()).toEqual({ n: 1 });
      check.close();
      rebuilt.close();
    } finally {
      removeDir(dir);
      removeDir(cache);
    }
  });
});
