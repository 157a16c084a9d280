/**
 * Hostile index data around per-version driver declarations: a version named
 * by two declarations, a declaration moved from one version to another by
 * hand, an older log's package-wide declaration stretched to cover another
 * declaration, and a version the index records no declaration for.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDriver } from '../../../src/loader/load.js';
import { declare, declarationDigest } from '../../../src/manifest/declarations.js';
import { canonical } from '../../../src/contract/index.js';
import { LOG_FILE, LogScan, appendLines, unexplained, type LogRecord } from '../../../src/maintain/log.js';
import { recordChange } from '../../../src/maintain/edit.js';
import { validateIndexDir } from '../../../src/index/build.js';
import type { DeclaredDriver, IndexEntry } from '../../../src/manifest/types.js';
import { assertIndexEntry } from '../../../src/manifest/validate.js';
import { SAMPLE_SHA512, npmDriver, removeDir, tempDir, writeEntry } from '../../helpers/index-data.js';

const pin = { integrity: SAMPLE_SHA512, size: 10, provenance: true };

function twoVersions(): IndexEntry {
  return npmDriver('mcs-driver-csv', { versions: { '1.0.0': pin, '1.1.0': pin } });
}

function renamed(drivers: DeclaredDriver[], name: string): DeclaredDriver[] {
  return drivers.map((d) => ({ ...d, meta: { ...d.meta, name } }));
}

/** Log records that say the entry is as it is now (as index add writes them). */
function logOf(entry: IndexEntry, extra: Array<Pick<LogRecord, 'field' | 'version' | 'after'>> = []): LogRecord[] {
  const now = [
    { field: 'label', after: entry.label.value },
    ...Object.keys(entry.versions).map((version) => ({ field: 'pin', version, after: SAMPLE_SHA512 })),
    ...Object.keys(entry.versions).map((version) => ({ field: 'record', version, after: { size: 10, provenance: true } })),
    ...extra,
  ];
  return now.map((r, i) => ({ seq: i + 1, prev: '', at: '2026-01-01T00:00:00Z', by: 'alice', why: 'test', package: `npm:${entry.name}`, before: null, ...r }) as LogRecord);
}

/** The records chained and read as the log file would be. */
function scanOf(records: LogRecord[]): LogScan {
  const scan = new LogScan({ source: 'audit.log.jsonl' });
  for (const record of records) scan.line(canonical({ ...record, prev: scan.head }));
  return scan.finish();
}

const keys = (entry: IndexEntry, records: LogRecord[]) => unexplained([entry], scanOf(records)).map((gap) => gap.key);

describe('a version has one declaration', () => {
  it('refuses a version named by two declarations, and two declarations for no known release (E_SCHEMA)', () => {
    const entry = twoVersions();
    const drivers = entry.declarations![0]!.drivers;
    entry.declarations = [{ versions: ['1.0.0', '1.1.0'], drivers }, { versions: ['1.1.0'], drivers: renamed(drivers, 'Other') }];
    expect(() => assertIndexEntry(entry, 'entry.json')).toThrowWithCode('E_SCHEMA');
    entry.declarations = [{ drivers }, { drivers: renamed(drivers, 'Other') }];
    expect(() => assertIndexEntry(entry, 'entry.json')).toThrowWithCode('E_SCHEMA');
  });

  it('declare() shares one item among versions declaring the same drivers and moves a version that declares something new', () => {
    const drivers = twoVersions().declarations![0]!.drivers;
    let declarations = declare(undefined, '1.0.0', drivers);
    declarations = declare(declarations, '1.1.0', structuredClone(drivers));
    expect(declarations).toEqual([{ versions: ['1.0.0', '1.1.0'], drivers }]);
    declarations = declare(declarations, '1.0.0', renamed(drivers, 'Other'));
    expect(declarations.map((d) => [d.versions, d.drivers[0]!.meta.name])).toEqual([[['1.1.0'], drivers[0]!.meta.name], [['1.0.0'], 'Other']]);
  });
});

describe('the audit log accounts for each version\'s declaration', () => {
  it('catches a hand edit that gives a version another version\'s declaration', () => {
    const entry = twoVersions();
    const drivers = entry.declarations![0]!.drivers;
    entry.declarations = [{ versions: ['1.0.0'], drivers }, { versions: ['1.1.0'], drivers: renamed(drivers, 'Newer') }];
    const records = logOf(entry, [
      { field: 'drivers', version: '1.0.0', after: declarationDigest(drivers) },
      { field: 'drivers', version: '1.1.0', after: declarationDigest(renamed(drivers, 'Newer')) },
    ]);
    expect(keys(entry, records)).toEqual([]);
    entry.declarations = [{ versions: ['1.0.0', '1.1.0'], drivers }];
    expect(keys(entry, records)).toEqual(['drivers@1.1.0']);
  });

  it('an older log\'s package-wide declaration explains the versions that declare exactly it, and nothing else', () => {
    const entry = twoVersions();
    const drivers = entry.declarations![0]!.drivers;
    const records = logOf(entry, [{ field: 'drivers', after: declarationDigest(drivers) }]);
    expect(keys(entry, records)).toEqual([]); // both versions declare what the log recorded for the package
    entry.declarations = [{ versions: ['1.0.0'], drivers }, { versions: ['1.1.0'], drivers: renamed(drivers, 'Swapped') }];
    expect(keys(entry, records)).toEqual(['drivers@1.1.0']);
    entry.declarations = [];
    expect(keys(entry, records)).toEqual(['drivers']); // a declaration removed by hand
    entry.declarations = [{ drivers: renamed(drivers, 'From source') }];
    expect(keys(entry, records)).toEqual(['drivers']);
  });
});

describe('a change after an older log\'s package-wide declaration', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('mcs-adv-meta-');
  });
  afterEach(() => removeDir(dir));

  it('records the declaration\'s move to the versions, so that the entry stays explained for validate and the next change', () => {
    const indexDir = join(dir, 'index');
    const entry = npmDriver('mcs-driver-csv');
    writeEntry(indexDir, entry);
    const older = [
      { field: 'label', after: 'community' },
      { field: 'pin', version: '1.0.0', after: SAMPLE_SHA512 },
      { field: 'record', version: '1.0.0', after: { size: 1234, provenance: false } },
      { field: 'drivers', after: declarationDigest(entry.declarations![0]!.drivers) },
    ].map((r) => ({ at: '2026-01-01T00:00:00Z', by: 'alice', why: 'older log', package: 'npm:mcs-driver-csv', before: null, ...r }) as Omit<LogRecord, 'seq' | 'prev'>);
    writeFileSync(join(indexDir, LOG_FILE), appendLines(undefined, 0, older).join('\n') + '\n');
    expect(validateIndexDir(indexDir).problems).toEqual([]);
    const setExport = (name: string) => (e: IndexEntry) => {
      e.declarations![0]!.drivers[0]!.export = name;
      return e;
    };
    const records = recordChange(indexDir, 'npm:mcs-driver-csv', { by: 'alice', why: 'entry point' }, setExport('CsvDriver'));
    expect(records.map((r) => [r.field, r.version ?? null, r.after === null])).toEqual([['drivers', null, true], ['drivers', '1.0.0', false]]);
    expect(validateIndexDir(indexDir).problems).toEqual([]);
    expect(recordChange(indexDir, 'npm:mcs-driver-csv', { by: 'alice', why: 'entry point renamed' }, setExport('Csv')).map((r) => `${r.field}@${r.version}`)).toEqual(['drivers@1.0.0']);
  });
});

describe('the loader compares a version with its own declaration only', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('mcs-adv-meta-');
  });
  afterEach(() => removeDir(dir));

  it('refuses a version the index records no declaration for (E_DRIVER_META), before fetching anything', async () => {
    const entry = npmDriver('mcs-driver-csv', { label: { value: 'reference', by: 't', at: '2026-01-01T00:00:00Z', reason: 'r' }, versions: { '1.0.0': pin, '2.0.0': pin } });
    entry.declarations = [{ versions: ['1.0.0'], drivers: entry.declarations![0]!.drivers }];
    writeEntry(join(dir, 'index'), entry);
    // offline with an empty cache: any attempt to fetch would be E_OFFLINE_NOT_CACHED instead
    const load = loadDriver('mcs-driver-csv', { index: { indexDir: join(dir, 'index'), cacheDir: join(dir, 'db') }, cacheDir: join(dir, 'loader'), offline: true });
    await expect(load).rejects.toThrowWithCode('E_DRIVER_META');
    await expect(load).rejects.toThrow(/mcs-driver-csv@2\.0\.0: the index records no driver declaration for this version/);
  });
});
