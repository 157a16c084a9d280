/**
 * User text never reaches FTS5 syntax, also through what search now builds
 * around it (synonyms, compound parts, typo corrections, most-of-the-words
 * passes): operators, quotes, column filters, prefixes and brackets are
 * words or nothing, and no query makes SQLite report a syntax error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIndex, type McsIndex } from '../../../src/index/store.js';
import { npmDriver, removeDir, tempDir, writeIndex } from '../../helpers/index-data.js';

let indexDir: string;
let cacheDir: string;
let index: McsIndex;

beforeAll(async () => {
  indexDir = tempDir('mcs-fts-');
  cacheDir = tempDir('mcs-fts-cache-');
  writeIndex(indexDir, [
    npmDriver('mcs-driver-csv', { description: 'Reads CSV files' }),
    npmDriver('mcs-driver-rest', { description: 'Calls REST APIs described by OpenAPI' }),
    npmDriver('mcs-driver-mailsend', { description: 'Sends e-mail' }),
  ]);
  index = await openIndex({ indexDir, cacheDir });
});

afterAll(() => {
  index.close();
  removeDir(indexDir);
  removeDir(cacheDir);
});

const HOSTILE = [
  'csv OR rest', 'csv*) OR (rest', 'NEAR(csv rest)', 'csv NOT rest', '{name description}: csv', 'name:csv', '^csv', 'csv + rest',
  '"csv" "rest"', 'c"s"v', 'e-"mail', 'mail-*send', 'openapi OR', 'cvs OR rest', 'postgress NEAR/2 csv',
  'mailsend") OR ("rest', "csv'; DROP TABLE packages; --", 'csv\u0000rest', 'ＣＳＶ', 'csv AND AND OR NOT rest',
];

describe('FTS5 syntax in a query', () => {
  it('never raises an error and never widens a search beyond its words', () => {
    for (const query of HOSTILE) {
      const result = index.search(query);
      expect(Array.isArray(result.results), query).toBe(true);
    }
    // "csv OR rest" is the words csv and rest: two words, both must match, and no package has both
    expect(index.search('csv OR rest').results).toEqual([]);
    expect(index.search('csv*) OR (rest').results).toEqual([]);
    expect(index.search('mailsend") OR ("rest').results).toEqual([]);
    // a column filter is two words; no package has the word "name" in its text
    expect(index.search('{name description}: csv').results).toEqual([]);
    // full-width letters are normalized to the word csv
    expect(index.search('ＣＳＶ').results[0]!.name).toBe('mcs-driver-csv');
    expect(index.search("csv'; DROP TABLE packages; --").results).toEqual([]);
    expect(index.search('csv').results[0]!.name).toBe('mcs-driver-csv');
  });

  it('rejects a query of syntax alone as empty', () => {
    for (const query of ['"', '*', '(((', ')))', 'AND', 'OR NEAR', ':', '^', '"" AND ""']) expect(() => index.search(query), query).toThrowWithCode('E_QUERY_EMPTY');
  });
});
