import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openIndex, buildIndex, storeDirFor, type McsIndex } from '../../src/index/store.js';
import { validateIndexDir } from '../../src/index/build.js';
import { SCHEMA_VERSION } from '../../src/index/db.js';
import { npmDriver, removeDir, tempDir, writeEntry, writeIndex } from '../helpers/index-data.js';

let indexDir: string;
let cacheDir: string;
const open: McsIndex[] = [];

async function openTest(options: { busyTimeoutMs?: number } = {}): Promise<McsIndex> {
  const index = await openIndex({ indexDir, cacheDir, ...options });
  open.push(index);
  return index;
}

function currentDb(): string {
  const storeDir = storeDirFor(indexDir, cacheDir);
  return join(storeDir, readFileSync(join(storeDir, 'CURRENT'), 'utf8').trim());
}

/** Lets written files age past one filesystem clock tick, so they are not "racy" (see sources.ts) when listed. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 60));
}

beforeEach(async () => {
  indexDir = tempDir('mcs-index-');
  cacheDir = tempDir('mcs-cache-');
  writeIndex(indexDir, [
    npmDriver('mcs-driver-csv', { description: 'Lists, reads and queries CSV files', label: { value: 'reference', by: 't', at: '2026-01-01T00:00:00Z', reason: 'r' } }),
    npmDriver('mcs-driver-csv-pandas', { description: 'CSV analysis with dataframes' }),
    npmDriver('mcs-driver-tsv', { description: 'Tab separated values; converts to csv on export' }),
    npmDriver('mcs-driver-rest', { description: 'Calls REST APIs described by OpenAPI', security: { permissions: ['network'], notes: [{ text: 'Can reach any host the specification names' }] } }),
    { ...npmDriver('mcs-adapter-localfs', { description: 'Local filesystem access' }), class: 'adapter', declarations: [] },
  ]);
  await settle();
});

afterEach(() => {
  while (open.length) open.pop()!.close();
  removeDir(indexDir);
  removeDir(cacheDir);
});

describe('search ranking', () => {
  it('puts an exact name first, then name prefixes, then capability, then text', async () => {
    const index = await openTest();
    const names = (q: string) => index.search(q).results.map((r) => `${r.name}:${r.match}`);
    expect(names('mcs-driver-csv')).toEqual(['mcs-driver-csv:name', 'mcs-driver-csv-pandas:name-prefix', 'mcs-driver-tsv:text']);
    expect(names('csv')).toEqual(['mcs-driver-csv:capability', 'mcs-driver-csv-pandas:capability', 'mcs-driver-tsv:text']);
  });

  it('ranks Reference before Community when relevance is equal', async () => {
    writeEntry(indexDir, npmDriver('mcs-driver-csv-arrow', { description: 'CSV files' }));
    const index = await openTest();
    const capabilityHits = index.search('csv').results.filter((r) => r.match === 'capability');
    expect(capabilityHits[0]).toMatchObject({ name: 'mcs-driver-csv', label: 'reference' });
    expect(capabilityHits.slice(1).map((r) => r.label)).toEqual(['community', 'community']);
  });

  it('finds words in tools and security notes', async () => {
    const index = await openTest();
    expect(index.search('read_rest').results.map((r) => r.name)).toEqual(['mcs-driver-rest']);
    expect(index.search('reach host').results.map((r) => r.name)).toEqual(['mcs-driver-rest']);
  });

  it('matches word prefixes as a person types', async () => {
    const index = await openTest();
    expect(index.search('datafr').results.map((r) => r.name)).toEqual(['mcs-driver-csv-pandas']);
  });

  it('narrows by facets, with "*" adapters and models matching any', async () => {
    const index = await openTest();
    expect(index.search('', { permission: 'network' }).results.map((r) => r.name)).toEqual(['mcs-driver-rest']);
    expect(index.search('csv', { label: 'community' }).results.map((r) => r.name)).toEqual(['mcs-driver-csv-pandas', 'mcs-driver-tsv']);
    expect(index.search('', { class: 'adapter' }).results.map((r) => r.name)).toEqual(['mcs-adapter-localfs']);
    expect(index.search('', { llm: 'some-model-7b' }).results).toHaveLength(4);
    expect(index.search('', { adapter: 'smb' }).results).toHaveLength(0);
  });

  it('treats FTS syntax typed by a user as plain words', async () => {
    const index = await openTest();
    expect(index.search('csv AND').results.map((r) => r.name)).toContain('mcs-driver-csv');
    expect(index.search('"csv').results.map((r) => r.name)).toContain('mcs-driver-csv');
    expect(index.search('csv*) OR (rest').results).toEqual([]);
    // a column filter is not interpreted: it is two words, and no entry has the word "description"
    expect(index.search('description:csv').results).toEqual([]);
    expect(() => index.search('"')).toThrowWithCode('E_QUERY_EMPTY');
    expect(() => index.search('*')).toThrowWithCode('E_QUERY_EMPTY');
    expect(() => index.search('   ')).toThrowWithCode('E_QUERY_EMPTY');
  });

  it('refuses a limit out of range and an overlong query', async () => {
    const index = await openTest();
    expect(() => index.search('csv', {}, { limit: 0 })).toThrowWithCode('E_USAGE');
    expect(() => index.search('x'.repeat(300))).toThrowWithCode('E_USAGE');
    expect(index.search('csv', {}, { limit: 1 }).results).toHaveLength(1);
  });
});

describe('getPackage', () => {
  it('returns the whole entry and what was derived from it', async () => {
    const index = await openTest();
    const info = index.getPackage('mcs-driver-rest');
    expect(info.entry.security?.permissions).toEqual(['network']);
    expect(info.latest).toBe('1.0.0');
    expect(info.summary).toMatchObject({ capabilities: ['rest'], versions: 1, provenance: 'none', tools: 1 });
    expect(info.source).toBe(join(indexDir, 'npm/mcs-driver-rest.json'));
  });

  it('suggests close names when a name is not found', async () => {
    const index = await openTest();
    let error: any;
    try {
      index.getPackage('mcs-driver-cvs');
    } catch (e) {
      error = e;
    }
    expect(error).toThrowWithCode('E_NOT_FOUND');
    expect(error.details.suggestions[0]).toBe('mcs-driver-csv');
  });

  it('asks which ecosystem when a name is listed for both', async () => {
    writeEntry(indexDir, { ...npmDriver('mcs-driver-rest'), ecosystem: 'pypi', versions: {}, declarations: [] });
    const index = await openTest();
    expect(() => index.getPackage('mcs-driver-rest')).toThrowWithCode('E_AMBIGUOUS');
    expect(index.getPackage('pypi:mcs-driver-rest').entry.ecosystem).toBe('pypi');
    expect(index.getPackage('mcs-driver-rest', { ecosystem: 'npm' }).entry.ecosystem).toBe('npm');
  });

  it('finds a name typed in capitals, and a PyPI name in any of its equivalent spellings (PEP 503)', async () => {
    writeEntry(indexDir, { ...npmDriver('mcs-driver-rest'), ecosystem: 'pypi', versions: {}, declarations: [] });
    const index = await openTest();
    expect(index.getPackage('npm:MCS-Driver-REST').entry.ecosystem).toBe('npm');
    expect(index.getPackage('PyPI:mcs_driver.Rest').entry.ecosystem).toBe('pypi');
    expect(index.getPackage('mcs_driver_rest', { ecosystem: 'pypi' }).entry.name).toBe('mcs-driver-rest');
    expect(index.getPackage('mcs_driver.rest').entry.ecosystem).toBe('pypi'); // no ecosystem named: the PyPI spelling finds the PyPI package
    expect(() => index.getPackage('mcs_driver_rest', { ecosystem: 'npm' })).toThrowWithCode('E_NOT_FOUND'); // on npm, _ is a different name
    rmSync(join(indexDir, 'npm', 'mcs-driver-rest.json'));
    const reopened = await openTest();
    expect(() => reopened.getPackage('npm:mcs-driver-rest')).toThrow(/npm:mcs-driver-rest is not in the index; it is listed as pypi:mcs-driver-rest/);
  });
});

describe('keeping the database in step with index-data', () => {
  it('builds once, then reuses the database', async () => {
    const first = await openTest();
    expect(first.status).toMatchObject({ action: 'built', packages: 5 });
    first.close();
    open.length = 0;
    const second = await openTest();
    expect(second.status).toMatchObject({ action: 'reused', packages: 5, database: first.status.database });
  });

  it('applies one changed file as an update of the same database, not a rebuild', async () => {
    const first = await openTest();
    const database = first.status.database;
    first.close();
    open.length = 0;
    writeEntry(indexDir, npmDriver('mcs-driver-rest', { description: 'Speaks to GraphQL gateways too' }));
    await settle();
    const second = await openTest();
    expect(second.status).toMatchObject({ action: 'updated', changedFiles: 1, database, packages: 5 });
    expect(second.search('graphql').results.map((r) => r.name)).toEqual(['mcs-driver-rest']);
    expect(second.search('openapi').results).toEqual([]);
  });

  it('forgets a package whose file was removed', async () => {
    (await openTest()).close();
    open.length = 0;
    unlinkSync(join(indexDir, 'npm/mcs-driver-tsv.json'));
    const index = await openTest();
    expect(index.status).toMatchObject({ action: 'updated', packages: 4 });
    expect(() => index.getPackage('mcs-driver-tsv')).toThrowWithCode('E_NOT_FOUND');
  });

  it('sees a same-size edit whose modification time was put back (touch -r, tar, rsync -t)', async () => {
    const file = join(indexDir, 'npm/mcs-driver-rest.json');
    const before = statSync(file);
    (await openTest()).close();
    open.length = 0;
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('Calls REST APIs', 'Calls RPC! APIs'));
    expect(statSync(file).size).toBe(before.size);
    utimesSync(file, before.atime, before.mtime);
    await settle();
    const index = await openTest();
    expect(index.status.action).toBe('updated');
    expect(index.search('rpc').results.map((r) => r.name)).toEqual(['mcs-driver-rest']);
  });

  it('reads a racy file again: one changed within a clock tick of the listing', async () => {
    (await openTest()).close();
    open.length = 0;
    writeEntry(indexDir, npmDriver('mcs-driver-rest', { description: 'written just now' }));
    const first = await openTest();
    expect(first.status.action).toBe('updated');
    first.close();
    open.length = 0;
    await settle();
    const second = await openTest();
    expect(second.status).toMatchObject({ action: 'updated', changedFiles: 1 });
    second.close();
    open.length = 0;
    expect((await openTest()).status.action).toBe('reused');
  });

  it('recovers when CURRENT names a database that was removed', async () => {
    const first = await openTest();
    first.close();
    open.length = 0;
    for (const suffix of ['', '-wal', '-shm']) rmSync(first.status.database + suffix, { force: true });
    const index = await openTest();
    expect(index.status).toMatchObject({ action: 'built', packages: 5 });
  });

  it('refuses files out of place in an ecosystem folder', async () => {
    writeEntry(indexDir, npmDriver('mcs-driver-xml'), 'pypi/mcs-driver-xml.JSON');
    await expect(openTest()).rejects.toThrowWithCode('E_INDEX_PATH');
    expect(validateIndexDir(indexDir).problems.map((p) => p.code)).toEqual(['E_INDEX_PATH', 'E_LOG_UNEXPLAINED']); // and no audit log
  });

  it('refuses a bad edit with its code, leaving the last good rows in the database', async () => {
    (await openTest()).close();
    open.length = 0;
    writeEntry(indexDir, { ...npmDriver('mcs-driver-rest'), description: '' });
    await expect(openIndex({ indexDir, cacheDir })).rejects.toThrowWithCode('E_SCHEMA');
    const db = new Database(currentDb(), { readonly: true });
    const row = db.prepare("SELECT description FROM packages WHERE name = 'mcs-driver-rest'").get() as { description: string };
    db.close();
    expect(row.description).toBe('Calls REST APIs described by OpenAPI');
  });

  it('rebuilds in full from scratch on request', async () => {
    const before = (await openTest()).status.database;
    const status = await buildIndex({ indexDir, cacheDir });
    expect(status).toMatchObject({ action: 'built', packages: 5 });
    expect(status.database).not.toBe(before);
  });
});

describe('rules across files', () => {
  it('refuses two packages that declare the same driver id', async () => {
    const a = npmDriver('mcs-driver-aaa');
    const b = npmDriver('mcs-driver-bbb');
    b.declarations![0]!.drivers[0]!.meta.id = a.declarations![0]!.drivers[0]!.meta.id;
    writeIndex(indexDir, [a, b]);
    await expect(openTest()).rejects.toThrowWithCode('E_INDEX_DUPLICATE');
  });

  it('refuses a look-alike of an existing name', async () => {
    writeEntry(indexDir, npmDriver('mcs-driver-c5v'));
    await expect(openTest()).rejects.toThrowWithCode('E_NAME_CONFUSABLE');
  });

  it('refuses an entry stored under another name', async () => {
    writeEntry(indexDir, npmDriver('mcs-driver-xml'), 'npm/mcs-driver-json.json');
    await expect(openTest()).rejects.toThrowWithCode('E_INDEX_PATH');
  });

  it('does not follow symbolic links', async () => {
    const outside = tempDir();
    const target = writeEntry(outside, npmDriver('mcs-driver-xml'));
    symlinkSync(target, join(indexDir, 'npm/mcs-driver-xml.json'));
    await expect(openTest()).rejects.toThrowWithCode('E_INDEX_PATH');
    removeDir(outside);
  });

  it.each([
    ['a duplicate key', '{"name": "mcs-driver-dup", "name": "mcs-driver-dup"}', 'E_JSON_DUPLICATE_KEY'],
    ['an oversized file', JSON.stringify({ name: 'mcs-driver-big', description: 'x'.repeat(1_100_000) }), 'E_JSON_TOO_LARGE'],
    ['deep nesting', '{"name":' + '['.repeat(100) + ']'.repeat(100) + '}', 'E_JSON_TOO_DEEP'],
    ['broken JSON', '{"name": ', 'E_JSON_SYNTAX'],
  ])('refuses %s with its code, writing no database', async (_, text, code) => {
    writeEntry(indexDir, text, 'npm/mcs-driver-bad.json');
    await expect(openTest()).rejects.toThrowWithCode(code);
    const storeDir = storeDirFor(indexDir, cacheDir);
    expect(readdirSync(storeDir)).toEqual([]);
  });

  it('reports a missing index folder', async () => {
    await expect(openIndex({ indexDir: join(indexDir, 'nope'), cacheDir })).rejects.toThrowWithCode('E_INDEX_NOT_FOUND');
  });
});

describe('validateIndexDir', () => {
  it('reports every problem in one pass, and writes nothing', async () => {
    writeEntry(indexDir, { ...npmDriver('mcs-driver-xml'), description: '' });
    writeEntry(indexDir, '{"a": 1, "a": 2}', 'npm/mcs-driver-json.json');
    writeEntry(indexDir, npmDriver('mcs-driver-c5v'));
    const report = validateIndexDir(indexDir);
    expect(report.files).toBe(8);
    expect(report.packages).toBe(6); // the look-alike passes its own checks; the clash is reported across files
    expect(report.problems.map((p) => p.code).sort()).toEqual(['E_JSON_DUPLICATE_KEY', 'E_LOG_UNEXPLAINED', 'E_NAME_CONFUSABLE', 'E_SCHEMA']); // no audit log either
    expect(report.problems.find((p) => p.code === 'E_SCHEMA')).toMatchObject({ pointer: '/description', source: join(indexDir, 'npm/mcs-driver-xml.json') });
    expect(readdirSync(cacheDir)).toEqual([]);
  });
});

describe('a damaged or foreign database', () => {
  it('sets a corrupt database aside and rebuilds it from index-data', async () => {
    const first = await openTest();
    const database = first.status.database;
    first.close();
    open.length = 0;
    const bytes = readFileSync(database);
    // keep the header, scramble the pages behind it
    for (let i = 4096; i < bytes.length; i += 7) bytes[i] = (bytes[i]! + 101) & 0xff;
    writeFileSync(database, bytes);
    const index = await openTest();
    expect(index.status.action).toBe('built');
    expect(index.status.setAside).toMatch(/\.corrupt-/);
    expect(statSync(index.status.setAside!).size).toBe(bytes.length);
    expect(index.search('csv').results[0]!.name).toBe('mcs-driver-csv');
  });

  it('sets aside a file that is not a database at all', async () => {
    const first = await openTest();
    first.close();
    open.length = 0;
    writeFileSync(first.status.database, 'not a database, just text '.repeat(200));
    const index = await openTest();
    expect(index.status.setAside).toBeDefined();
    expect(index.status.packages).toBe(5);
  });

  it('refuses a database written by a newer mcs-pkg and leaves it untouched', async () => {
    const first = await openTest();
    first.close();
    open.length = 0;
    const raw = new Database(first.status.database);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.pragma('journal_mode = DELETE');
    raw.close();
    const digest = () => createHash('sha256').update(readFileSync(first.status.database)).digest('hex');
    const before = digest();
    await expect(openTest()).rejects.toThrowWithCode('E_INDEX_DB_NEWER');
    expect(digest()).toBe(before);
  });

  it('reports a database locked by another writer instead of waiting forever', async () => {
    (await openTest()).close();
    open.length = 0;
    const holder = new Database(currentDb());
    holder.exec('BEGIN IMMEDIATE');
    try {
      writeEntry(indexDir, npmDriver('mcs-driver-rest', { description: 'changed while locked' }));
      await expect(openIndex({ indexDir, cacheDir, busyTimeoutMs: 50 })).rejects.toThrowWithCode('E_INDEX_LOCKED');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    const index = await openTest();
    expect(index.search('changed while locked').results.map((r) => r.name)).toEqual(['mcs-driver-rest']);
  });
});
