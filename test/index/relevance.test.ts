/** Search that forgives: synonyms, compounds, typos, most of the words, tools as first-class fields. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIndex, type McsIndex } from '../../src/index/store.js';
import { closestWord, planSearch, queryTerms, termExpression } from '../../src/index/search.js';
import { indexText } from '../../src/index/analyze.js';
import { npmDriver, removeDir, tempDir, writeIndex } from '../helpers/index-data.js';

let indexDir: string;
let cacheDir: string;
let index: McsIndex;

const REFERENCE = { value: 'reference', by: 't', at: '2026-01-01T00:00:00Z', reason: 'r' } as const;

function withTools(name: string, description: string, tools: Array<{ name: string; description: string; parameters?: Array<{ name: string; description: string }> }>, overrides = {}) {
  const entry = npmDriver(name, { description, ...overrides });
  entry.declarations![0]!.drivers[0]!.tools = tools;
  return entry;
}

beforeAll(async () => {
  indexDir = tempDir('mcs-relevance-');
  cacheDir = tempDir('mcs-relevance-cache-');
  writeIndex(indexDir, [
    withTools('mcs-driver-smtp', 'Lets an LLM send e-mail through any server', [{ name: 'deliver', description: 'Deliver one message' }]),
    withTools('mcs-driver-postbox', 'Reads the mailbox over IMAP', [{ name: 'list_unread', description: 'List unread messages' }]),
    withTools('mcs-driver-pg', 'Query a PostgreSQL database', [{ name: 'run_sql', description: 'Run one SQL statement' }]),
    withTools('mcs-driver-postgres', 'Postgres tables for agents', [{ name: 'query', description: 'Query tables' }]),
    withTools('mcs-driver-spec', 'Calls any OpenAPI service', [{ name: 'call_operation', description: 'Call one operation' }]),
    withTools('mcs-driver-csv', 'Comma separated files', [{ name: 'filter_rows', description: 'Filter rows' }], { label: REFERENCE }),
    withTools('mcs-driver-kit', 'A toolbox', [{ name: 'sendInvoice', description: 'Bills a customer', parameters: [{ name: 'ledger_account', description: 'Where the amount is booked' }] }]),
    withTools('mcs-driver-weather', 'Forecasts for any city and region', [{ name: 'forecast', description: 'Forecast for a city' }]),
    withTools('mcs-driver-city', 'City guides', [{ name: 'guide', description: 'Guide to a city' }]),
    withTools('mcs-driver-atlas', 'Maps of every city and region', [{ name: 'guide', description: 'Guide to a region' }]),
  ]);
  index = await openIndex({ indexDir, cacheDir });
});

afterAll(() => {
  index.close();
  removeDir(indexDir);
  removeDir(cacheDir);
});

const names = (query: string) => index.search(query).results.map((r) => r.name);

describe('words as people type them', () => {
  it('cuts e-mail, camelCase and glued field words the same way for text and queries', () => {
    expect(queryTerms('send e-mail')).toEqual(['send', 'email']);
    expect(queryTerms('sendEmail OpenAPI')).toEqual(['send', 'email', 'open', 'api']);
    expect(indexText('Send e-mail via OpenAPI to mailsend')).toBe('Send e-mail email via OpenAPI open api to mailsend mail send');
    expect(termExpression('mailsend')).toBe('("mailsend" OR (("mail" OR "email") AND "send"))');
  });

  it('finds a package by a synonym of its words: email for e-mail, db for database, spreadsheet for csv', () => {
    expect(names('email')).toEqual(['mcs-driver-smtp']);
    expect(names('send mail')).toEqual(['mcs-driver-smtp']);
    expect(names('db')).toEqual(['mcs-driver-pg']);
    expect(names('inbox')[0]).toBe('mcs-driver-postbox');
    expect(names('spreadsheet')).toContain('mcs-driver-csv');
  });

  it('finds compounds by their parts and parts by their compound', () => {
    expect(names('open api')).toEqual(['mcs-driver-spec']);
    expect(names('api')).toEqual(['mcs-driver-spec']);
    expect(names('rest')).toEqual(['mcs-driver-spec']);
    // the tool sendInvoice is also "send invoice"
    expect(names('send invoice')).toEqual(['mcs-driver-kit']);
  });

  it('searches tool names, descriptions and parameters', () => {
    expect(names('list_unread')).toEqual(['mcs-driver-postbox']);
    expect(names('statement')).toEqual(['mcs-driver-pg']);
    expect(names('ledger')).toEqual(['mcs-driver-kit']);
  });
});

describe('most of the words', () => {
  it('ranks packages matching every word first, then those matching most, never those matching a minority', () => {
    // atlas has all three words; weather (city, region) and city (city, guide) two of three
    const ranked = names('city region guide');
    expect(ranked[0]).toBe('mcs-driver-atlas');
    expect(ranked.slice(1).sort()).toEqual(['mcs-driver-city', 'mcs-driver-weather']);
    // weather and atlas have two of three words; city only one
    expect(names('forecast region guide').sort()).toEqual(['mcs-driver-atlas', 'mcs-driver-weather']);
    // of two words, both must match
    expect(names('forecast guide')).toEqual([]);
  });
});

describe('typos of words the index knows', () => {
  it('searches the closest known word and says so', () => {
    const result = index.search('postgress');
    expect(result.suggestion).toEqual({ query: 'postgres', corrections: [{ from: 'postgress', to: 'postgres' }] });
    expect(result.results.map((r) => r.name)).toEqual(['mcs-driver-postgres', 'mcs-driver-pg']);
    expect(index.search('cvs').suggestion?.query).toBe('csv');
    expect(index.search('cvs').results[0]!.name).toBe('mcs-driver-csv');
    expect(index.search('forcast city').suggestion).toEqual({ query: 'forecast city', corrections: [{ from: 'forcast', to: 'forecast' }] });
  });

  it('leaves known words, stems, prefixes being typed and far-off words alone', () => {
    expect(index.search('postgres').suggestion).toBeUndefined();
    expect(index.search('forecasts').suggestion).toBeUndefined();
    expect(index.search('weath').suggestion).toBeUndefined();
    expect(index.search('weath').results.map((r) => r.name)).toEqual(['mcs-driver-weather']);
    expect(index.search('xyzzyq')).toMatchObject({ results: [] });
    expect(index.search('xyzzyq').suggestion).toBeUndefined();
  });

  it('prefers the closer word, then the more widespread one', () => {
    const known = [{ word: 'csv', packages: 3 }, { word: 'cv', packages: 50 }, { word: 'cvss', packages: 1 }];
    expect(closestWord('cvs', known)).toBe('cv');
    expect(closestWord('cvs', [{ word: 'csv', packages: 3 }, { word: 'cvx', packages: 1 }])).toBe('csv');
    expect(closestWord('zzz', known)).toBeUndefined();
  });
});

describe('guarantees kept', () => {
  it('keeps exact name > name prefix > capability > text', () => {
    expect(index.search('mcs-driver-postgres').results.map((r) => `${r.name}:${r.match}`)[0]).toBe('mcs-driver-postgres:name');
    expect(index.search('postgres').results.map((r) => r.match)).toEqual(['capability', 'text']);
  });

  it('plans user text as quoted words only', () => {
    for (const pass of planSearch('csv") OR NEAR(x y) {name}: ^col* -z').passes) {
      expect(pass.replace(/"[^"]*"\*?/g, '')).toMatch(/^[\s()ANDOR]*$/);
    }
  });
});
