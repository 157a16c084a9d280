import { describe, expect, it } from 'vitest';
import { assertIndexEntry, assertTrustPolicy } from '../../src/manifest/validate.js';
import { npmDriver } from '../helpers/index-data.js';

function problemAt(value: unknown): { code: string; pointer: string; message: string } {
  try {
    assertIndexEntry(value, 'entry.json');
  } catch (error: any) {
    return { code: error.code, pointer: error.details.pointer, message: error.message };
  }
  throw new Error('expected the entry to be refused');
}

/** A PyPI entry whose drivers name their entry point, as every PyPI entry must. */
function pypiDriver() {
  const entry = { ...npmDriver('mcs-driver-csv'), ecosystem: 'pypi' as const };
  for (const driver of entry.declarations!.flatMap((d) => d.drivers)) driver.export = 'mcs.driver.csv.driver:CsvDriver';
  return entry;
}

describe('assertIndexEntry', () => {
  it('accepts a complete npm driver entry', () => {
    expect(() => assertIndexEntry(npmDriver('mcs-driver-csv'), 'entry.json')).not.toThrow();
  });

  it('requires a tool to have a title or a description', () => {
    const entry = npmDriver('mcs-driver-csv');
    entry.declarations![0]!.drivers[0]!.tools = [{ name: 'read_csv', title: '', description: null }];
    const problem = problemAt(entry);
    expect(problem.code).toBe('E_SCHEMA');
    expect(problem.pointer).toMatch(/^\/declarations\/0\/drivers\/0\/tools\/0/);
  });

  it('accepts a tool with only a title', () => {
    const entry = npmDriver('mcs-driver-csv');
    entry.declarations![0]!.drivers[0]!.tools = [{ name: 'read_csv', title: 'Read a CSV file' }];
    expect(() => assertIndexEntry(entry, 'entry.json')).not.toThrow();
  });

  it('requires an SRI sha512 pin and a size for npm versions', () => {
    const entry = npmDriver('mcs-driver-csv', { versions: { '1.0.0': { integrity: 'sha256-' + Buffer.alloc(32).toString('base64'), size: 10, provenance: false } } });
    expect(problemAt(entry)).toMatchObject({ code: 'E_SCHEMA', pointer: '/versions/1.0.0/integrity' });
    const unsized = npmDriver('mcs-driver-csv');
    delete unsized.versions['1.0.0']!.size;
    expect(problemAt(unsized)).toMatchObject({ code: 'E_SCHEMA', pointer: '/versions/1.0.0/size' });
  });

  it('requires per-file digests for PyPI versions and allows sha256 there', () => {
    const base = { ...npmDriver('mcs-driver-csv'), ecosystem: 'pypi' as const };
    for (const driver of base.declarations!.flatMap((d) => d.drivers)) driver.export = 'mcs.driver.csv.driver:CsvDriver';
    const withFiles = { ...base, versions: { '0.1.0': { provenance: false, files: [{ filename: 'mcs_driver_csv-0.1.0.tar.gz', integrity: 'sha256-' + Buffer.alloc(32, 1).toString('base64') }] } } };
    expect(() => assertIndexEntry(withFiles, 'entry.json')).not.toThrow();
    expect(problemAt(base)).toMatchObject({ code: 'E_SCHEMA', pointer: '/versions/1.0.0/files' });
  });

  it('accepts the richer per-file pin of a PyPI version (requires-python, upload time, provenance) beside the plain one', () => {
    const sha256 = 'sha256-' + Buffer.alloc(32, 1).toString('base64');
    const files = [
      { filename: 'mcs_driver_csv-0.1.0.tar.gz', kind: 'sdist', integrity: sha256 },
      { filename: 'mcs_driver_csv-0.1.0-py3-none-any.whl', kind: 'wheel', integrity: sha256, size: 1234, requiresPython: '>=3.11', uploaded: '2026-01-02T03:04:05Z', provenance: true },
    ];
    const entry = { ...pypiDriver(), versions: { '0.1.0': { provenance: false, files } } };
    expect(() => assertIndexEntry(entry, 'entry.json')).not.toThrow();
    const bad = structuredClone(entry);
    (bad.versions['0.1.0'].files[1] as Record<string, unknown>).uploaded = 'yesterday';
    expect(problemAt(bad)).toMatchObject({ code: 'E_SCHEMA', pointer: '/versions/0.1.0/files/1/uploaded' });
  });

  it.each([
    ['another project', 'mcs_driver_json-0.1.0-py3-none-any.whl'],
    ['another version', 'mcs_driver_csv-0.1.1-py3-none-any.whl'],
    ['no distribution name', 'mcs_driver_csv-0.1.0.egg'],
    ['the wrong kind', 'mcs_driver_csv-0.1.0.tar.gz'],
    ['a second spelling of the first file', 'MCS.Driver.CSV-0.1.0-py3-none-ANY.whl'],
  ])('refuses a pinned PyPI file of %s with E_DIST_NAME', (_, filename) => {
    const sha256 = 'sha256-' + Buffer.alloc(32, 1).toString('base64');
    const files = [{ filename: 'mcs_driver_csv-0.1.0-py3-none-any.whl', kind: 'wheel', integrity: sha256 }, { filename, kind: 'wheel', integrity: sha256 }];
    const entry = { ...pypiDriver(), versions: { '0.1.0': { provenance: false, files } } };
    expect(problemAt(entry)).toMatchObject({ code: 'E_DIST_NAME', pointer: '/versions/0.1.0/files/1/filename' });
  });

  describe('Trusted Publisher kinds', () => {
    const pypi = (publisher: Record<string, unknown>) => ({ ...npmDriver('mcs-driver-csv'), ecosystem: 'pypi' as const, versions: {}, declarations: undefined, trust: { publisher } });
    const gitlab = { kind: 'gitlab', issuer: 'https://gitlab.com', repository: 'https://gitlab.com/acme/csv', workflow: '.gitlab-ci.yml', ref: 'refs/tags/v*' };
    const google = { kind: 'google', issuer: 'https://accounts.google.com', email: 'release@acme.iam.gserviceaccount.com' };
    const github = { kind: 'github', issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/acme/csv', workflow: '.github/workflows/release.yml' };

    it('accepts GitHub, GitLab and Google publishers on a PyPI entry', () => {
      for (const publisher of [github, gitlab, google]) expect(() => assertIndexEntry(pypi(publisher), 'entry.json')).not.toThrow();
    });

    it('refuses a Google publisher without its e-mail, or with a repository', () => {
      expect(problemAt(pypi({ kind: 'google', issuer: 'https://accounts.google.com' }))).toMatchObject({ code: 'E_SCHEMA', pointer: '/trust/publisher/email' });
      expect(problemAt(pypi({ ...google, repository: 'https://github.com/acme/csv' }))).toMatchObject({ code: 'E_SCHEMA', pointer: '/trust/publisher/repository' });
    });

    it('refuses a runner on a GitLab publisher (GitLab certificates do not state GitHub runners)', () => {
      expect(problemAt(pypi({ ...gitlab, runner: 'any' }))).toMatchObject({ code: 'E_SCHEMA', pointer: '/trust/publisher/runner' });
    });

    it('refuses a Google publisher on an npm entry', () => {
      expect(problemAt({ ...npmDriver('mcs-driver-csv'), trust: { publisher: google } })).toMatchObject({ code: 'E_SCHEMA' });
    });
  });

  it('refuses unknown properties, naming them', () => {
    expect(problemAt({ ...npmDriver('mcs-driver-csv'), verified: true })).toMatchObject({ code: 'E_SCHEMA', pointer: '/verified' });
  });

  it('refuses a class that the name contradicts', () => {
    expect(problemAt({ ...npmDriver('mcs-driver-csv'), class: 'adapter' })).toMatchObject({ code: 'E_NAME_CLASS', pointer: '/class' });
  });

  it('refuses a name outside the convention with the pointer to the name', () => {
    expect(problemAt({ ...npmDriver('mcs-driver-csv'), name: 'csv-tools' })).toMatchObject({ code: 'E_NAME_CLASS', pointer: '/name' });
  });

  it('refuses an unanchored publisher ref pattern', () => {
    const entry = npmDriver('mcs-driver-csv', {
      trust: { publisher: { issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/acme/csv', workflow: '.github/workflows/release.yml', ref: 'refs/*/v*' } },
    });
    expect(problemAt(entry)).toMatchObject({ code: 'E_SCHEMA', pointer: '/trust/publisher/ref' });
  });

  it('reports several problems at once', () => {
    const problem = problemAt({ ...npmDriver('mcs-driver-csv'), description: '', license: 7 });
    expect(problem.message).toContain('/description');
    expect(problem.message).toContain('/license');
  });
});

describe('assertTrustPolicy', () => {
  it('accepts a policy and refuses an unknown label', () => {
    expect(() => assertTrustPolicy({ labels: ['verified'], requireProvenance: { npm: true }, minReleaseAgeDays: 3 }, 'policy.json')).not.toThrow();
    expect(() => assertTrustPolicy({ labels: ['trusted'] }, 'policy.json')).toThrowWithCode('E_SCHEMA');
  });
});
