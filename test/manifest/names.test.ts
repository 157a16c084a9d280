import { describe, expect, it } from 'vitest';
import { confusableSkeleton, parsePackageName } from '../../src/manifest/names.js';

describe('parsePackageName', () => {
  it.each([
    ['mcs-driver-csv', { class: 'driver', capability: 'csv' }],
    ['mcs-driver-csv-pandas', { class: 'driver', capability: 'csv', variant: 'pandas' }],
    ['mcs-driver-csv-toolonly', { class: 'tool-only', capability: 'csv' }],
    ['mcs-driver-csv-toolonly-fast', { class: 'tool-only', capability: 'csv', variant: 'fast' }],
    ['mcs-driver-rest-standalone', { class: 'standalone', capability: 'rest' }],
    ['mcs-orchestrator-base', { class: 'orchestrator', strategy: 'base' }],
    ['mcs-adapter-localfs', { class: 'adapter', source: 'localfs' }],
    ['mcs-adapter-http-retry', { class: 'adapter', source: 'http', variant: 'retry' }],
    ['mcs-bundle-csv-localfs', { class: 'bundle', capability: 'csv', source: 'localfs' }],
    ['mcs-driver-core', { class: 'contract' }],
  ])('derives the class of %s', (name, expected) => {
    expect(parsePackageName(name, 'pypi')).toEqual({ name, ...expected });
  });

  it('accepts an npm scope and keeps it apart', () => {
    expect(parsePackageName('@acme/mcs-driver-csv', 'npm')).toEqual({ name: '@acme/mcs-driver-csv', scope: '@acme', class: 'driver', capability: 'csv' });
  });

  it('refuses a scope on PyPI', () => {
    expect(() => parsePackageName('@acme/mcs-driver-csv', 'pypi')).toThrowWithCode('E_NAME_INVALID');
  });

  it.each([
    ['mcs-driver-сsv', 'Cyrillic letter'],
    ['mcs-driver-ｃsv', 'full-width letter'],
    ['MCS-driver-csv', 'upper case'],
    ['mcs_driver_csv', 'underscores (not the canonical form)'],
    ['mcs-driver--csv', 'double hyphen'],
    ['mcs-driver-csv-', 'trailing hyphen'],
    ['', 'empty'],
    ['mcs-driver-csv\u0000', 'control character'],
  ])('refuses %j (%s)', (name) => {
    expect(() => parsePackageName(name, 'npm')).toThrowWithCode('E_NAME_INVALID');
  });

  it.each(['left-pad', 'mcs-csv', 'mcs-plugin-csv', 'mcs-bundle-csv', 'mcs-driver'])('refuses %s, which is outside the naming convention', (name) => {
    expect(() => parsePackageName(name, 'npm')).toThrowWithCode('E_NAME_CLASS');
  });
});

describe('confusableSkeleton', () => {
  it('folds the look-alikes a typosquat uses', () => {
    const real = confusableSkeleton('mcs-driver-mail');
    for (const fake of ['mcs-drlver-mail', 'mcs-driver-mai1', 'mcs-drlver-mall', 'rncs-driver-mail']) {
      expect(confusableSkeleton(fake)).toBe(real);
    }
  });

  it('reaches the same skeleton whichever look-alike is used first', () => {
    const cloud = confusableSkeleton('mcs-driver-cloud');
    for (const fake of ['mcs-driver-c1oud', 'mcs-driver-cioud', 'mcs-driver-dloud'.replace('dl', 'cl')]) expect(confusableSkeleton(fake)).toBe(cloud);
  });

  it('keeps genuinely different names apart', () => {
    expect(confusableSkeleton('mcs-driver-csv')).not.toBe(confusableSkeleton('mcs-driver-tsv'));
  });
});
