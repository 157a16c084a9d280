/** The rules across packages hold before a change is written: add, sync and edits all refuse a clash, and write nothing. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { validateIndexDir } from '../../../src/index/build.js';
import { initLog, recordChange, recordNewEntry, setQuarantine } from '../../../src/maintain/edit.js';
import { LOG_FILE } from '../../../src/maintain/log.js';
import type { IndexEntry } from '../../../src/manifest/types.js';
import { SAMPLE_SHA512, npmDriver, tempDir, writeEntry } from '../../helpers/index-data.js';
import '../../helpers/matchers.js';

const who = { by: 'alice', why: 'review 42' };
let dir: string;
let csv: IndexEntry;

const driverIdOf = (entry: IndexEntry) => entry.declarations![0]!.drivers[0]!.meta.id;
const snapshot = () => ({ log: readFileSync(join(dir, LOG_FILE), 'utf8'), files: ['npm/mcs-driver-csv.json', 'npm/mcs-driver-rest.json'].map((f) => readFileSync(join(dir, f), 'utf8')) });

beforeEach(() => {
  dir = tempDir('mcs-cross-');
  csv = npmDriver('mcs-driver-csv');
  writeEntry(dir, csv);
  writeEntry(dir, npmDriver('mcs-driver-rest'));
  initLog(dir, { by: 'alice', why: 'start the log' });
});

describe('cross-package rules before any write', () => {
  it('refuses to add a package that reuses a driver id, writing no entry and no record', () => {
    const before = snapshot();
    const cvs = npmDriver('mcs-driver-cvs');
    cvs.declarations![0]!.drivers[0]!.meta.id = driverIdOf(csv);
    expect(() => recordNewEntry(dir, cvs, who)).toThrowWithCode('E_INDEX_DUPLICATE');
    expect(existsSync(join(dir, 'npm/mcs-driver-cvs.json'))).toBe(false);
    expect(snapshot()).toEqual(before);
    expect(validateIndexDir(dir).problems).toEqual([]);
  });

  it('refuses to add a name confusable with one the index has', () => {
    const before = snapshot();
    expect(() => recordNewEntry(dir, npmDriver('mcs-driver-c5v'), who)).toThrowWithCode('E_NAME_CONFUSABLE');
    expect(existsSync(join(dir, 'npm/mcs-driver-c5v.json'))).toBe(false);
    expect(snapshot()).toEqual(before);
  });

  it('refuses a change (as sync makes) whose new version declares a driver id another package has', () => {
    const before = snapshot();
    const rest = JSON.parse(before.files[1]!) as IndexEntry;
    expect(() =>
      recordChange(dir, 'mcs-driver-rest', who, (entry) => {
        entry.versions['2.0.0'] = { integrity: SAMPLE_SHA512, size: 10, provenance: false };
        const declared = structuredClone(rest.declarations![0]!);
        declared.versions = ['2.0.0'];
        declared.drivers[0]!.meta.id = driverIdOf(csv);
        entry.declarations = [...entry.declarations!, declared];
        return entry;
      }),
    ).toThrowWithCode('E_INDEX_DUPLICATE');
    expect(snapshot()).toEqual(before);
  });

  it('still lets a maintainer change a package whose clash was already there (to quarantine it)', () => {
    const cvs = npmDriver('mcs-driver-cvs');
    cvs.declarations![0]!.drivers[0]!.meta.id = driverIdOf(csv);
    writeEntry(dir, cvs); // written by hand, outside the tools
    expect(validateIndexDir(dir).problems.map((p) => p.code)).toContain('E_INDEX_DUPLICATE');
    initLog(dir, { by: 'alice', why: 'log the hand-written entry' });
    expect(setQuarantine(dir, 'mcs-driver-cvs', true, { by: 'sec', why: 'reuses the csv driver id' }).length).toBeGreaterThan(0);
  });
});
