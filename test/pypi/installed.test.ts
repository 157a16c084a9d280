/**
 * `mcs-pkg verify --installed --python`: a real venv, wheels installed into
 * it by pip, each MCS distribution compared file by file with its pinned
 * wheel (from --dist-dir or a loopback PyPI); a tampered or added file fails
 * with the file named, a wheel that is not the pinned one fails, a missing
 * one cannot be checked.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IndexEntry } from '../../src/manifest/types.js';
import { isStartupFile, locateSitePackages } from '../../src/pypi/installed.js';
import { errorOf, runCli } from '../helpers/cli.js';
import { startFixturePypi, type FixturePypi } from '../helpers/fixture-pypi.js';
import { removeDir, tempDir, writeEntry } from '../helpers/index-data.js';
import { buildWheel, wheelFilename } from '../helpers/wheels.js';

const CSV = { filename: wheelFilename('mcs-driver-csv', '0.1.4'), bytes: buildWheel({ name: 'mcs-driver-csv', version: '0.1.4', files: { 'mcs/driver/csv/__init__.py': 'from .driver import CsvDriver\n', 'mcs/driver/csv/driver.py': 'class CsvDriver:\n    pass\n' }, requiresDist: ['mcs-driver-tables>=0.4'] }) };
const CORE = { filename: wheelFilename('mcs-driver-tables', '0.4.1'), bytes: buildWheel({ name: 'mcs-driver-tables', version: '0.4.1', files: { 'mcs/driver/tables/__init__.py': 'VERSION = "0.4.1"\n' } }) };
const STRAY = { filename: wheelFilename('mcs-driver-stray', '1.0'), bytes: buildWheel({ name: 'mcs-driver-stray', version: '1.0', files: { 'mcs/driver/stray/__init__.py': '' } }) };
const PLUGIN = { filename: wheelFilename('mcs-driver-tables-plugin', '1.0'), bytes: buildWheel({ name: 'mcs-driver-tables-plugin', version: '1.0', files: { 'mcs/driver/tables/plugin.py': 'P = 1\n' } }) };
const OTHER = { filename: wheelFilename('helperlib', '2.0'), bytes: buildWheel({ name: 'helperlib', version: '2.0', files: { 'helperlib.py': 'X = 1\n' } }) };

const sri = (data: Buffer) => `sha256-${createHash('sha256').update(data).digest('base64')}`;
const label = { value: 'community', by: 'test', at: '2026-01-01T00:00:00Z', reason: 'test fixture' } as const;
function entry(name: string, version: string, wheel: { filename: string; bytes: Buffer }): IndexEntry {
  return {
    name,
    ecosystem: 'pypi',
    class: 'driver',
    description: `${name} for tests`,
    label,
    versions: { [version]: { provenance: false, files: [{ filename: wheel.filename, kind: 'wheel', integrity: sri(wheel.bytes), size: wheel.bytes.length, provenance: false }] } },
  } as IndexEntry;
}

let dir: string;
let venv: string;
let site: string;
let distDir: string;
let indexDir: string;
let pypi: FixturePypi;
const env = (): Record<string, string> => ({ MCS_PKG_CACHE: join(dir, 'cache') });
// the startup files a fresh venv holds (setuptools' distutils-precedence.pth on Python 3.11), accepted as they are
let baseline: string[] = [];
const allowBaseline = (): string[] => baseline.flatMap((name) => ['--allow-pth', name]);
const verify = (...extra: string[]) => runCli(['verify', '--installed', '--python', ...extra, ...allowBaseline(), '--index', indexDir, '--json'], env(), 60_000);

beforeAll(async () => {
  dir = tempDir('mcs-installed-python-');
  distDir = join(dir, 'dists');
  mkdirSync(distDir);
  for (const wheel of [CSV, CORE, STRAY, OTHER, PLUGIN]) writeFileSync(join(distDir, wheel.filename), wheel.bytes);
  indexDir = join(dir, 'index');
  writeEntry(indexDir, entry('mcs-driver-csv', '0.1.4', CSV));
  writeEntry(indexDir, entry('mcs-driver-tables', '0.4.1', CORE));
  writeEntry(indexDir, entry('mcs-driver-tables-plugin', '1.0', PLUGIN));
  venv = join(dir, 'venv');
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'ignore' });
  execFileSync(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--no-index', '--no-deps', '--disable-pip-version-check', '--quiet', ...[CSV, CORE, STRAY, OTHER].map((w) => join(distDir, w.filename))], { stdio: 'ignore' });
  site = locateSitePackages(venv).path;
  baseline = readdirSync(site).filter(isStartupFile);
  pypi = await startFixturePypi({ projects: [{ name: 'mcs-driver-csv', files: [CSV] }, { name: 'mcs-driver-tables', files: [CORE] }] });
}, 180_000);

afterAll(async () => {
  await pypi?.close();
  removeDir(dir);
});

describe('verify --installed --python', () => {
  it('finds site-packages from a venv, from its interpreter (-I -S), and refuses a folder that is neither', () => {
    expect(site).toMatch(/venv\/lib\/python3\.\d+\/site-packages$/);
    expect(locateSitePackages(join(venv, 'bin', 'python'))).toEqual({ path: site, from: 'interpreter', python: join(venv, 'bin', 'python') });
    expect(locateSitePackages(site).from).toBe('folder');
    expect(() => locateSitePackages(distDir)).toThrowWithCode('E_USAGE');
    expect(() => locateSitePackages(join(dir, 'no-such-python'))).toThrowWithCode('E_USAGE');
  });

  it('verifies each MCS distribution against its pinned wheel from --dist-dir, and names the one not in the index', async () => {
    for (const target of [venv, join(venv, 'bin', 'python')]) {
      const run = await verify(target, '--dist-dir', distDir);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(report.counts).toEqual({ verified: 2, failed: 0, unpinned: 0, 'not-in-index': 1, error: 0 });
      const byName = Object.fromEntries(report.results.map((r: { package: string }) => [r.package, r]));
      expect(Object.keys(byName).sort()).toEqual(['mcs-driver-csv', 'mcs-driver-stray', 'mcs-driver-tables']);
      // METADATA, WHEEL and the two modules; RECORD is the installer's; pip compiled bytecode, which is counted, not compared
      expect(byName['mcs-driver-csv']).toMatchObject({ status: 'verified', wheel: CSV.filename, compared: 4 });
      expect(byName['mcs-driver-csv'].bytecode).toBeGreaterThan(0);
      expect(byName['mcs-driver-csv'].message).toContain('bytecode file(s) in __pycache__ not compared');
      expect(byName['mcs-driver-stray']).toMatchObject({ status: 'not-in-index' });
    }
    const text = await runCli(['verify', '--installed', '--python', venv, '--dist-dir', distDir, ...allowBaseline(), '--index', indexDir], env(), 60_000);
    expect(text.stdout).toContain('3 MCS distributions in');
    expect(text.stdout).toContain('2 verified, 0 failed, 0 unpinned, 1 not in the index, 0 not checked');
  });

  it('downloads the pinned wheels from the PyPI index when no --dist-dir is given', async () => {
    const run = await verify(venv, '--index-url', pypi.indexUrl);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).counts.verified).toBe(2);
  });

  it('fails a wheel in --dist-dir that is not the pinned one, and cannot check one that is missing', async () => {
    const other = join(dir, 'other-dists');
    mkdirSync(other);
    writeFileSync(join(other, CSV.filename), buildWheel({ name: 'mcs-driver-csv', version: '0.1.4', files: { 'mcs/driver/csv/__init__.py': 'import os\n' } }));
    const run = await verify(venv, '--dist-dir', other);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.results.find((r: { package?: string }) => r.package === 'mcs-driver-csv')).toMatchObject({ status: 'failed', code: 'E_INTEGRITY_MISMATCH' });
    expect(report.results.find((r: { requested?: string }) => r.requested === 'pypi:mcs-driver-tables@0.4.1').error.code).toBe('E_USAGE');
  });

  it('refuses --python without --installed, and --offline without --dist-dir', async () => {
    expect(errorOf(await runCli(['verify', '--python', venv, '--json'], env())).code).toBe('E_USAGE');
    const offline = await runCli(['verify', '--installed', '--python', venv, '--offline', '--json'], env());
    expect(offline.code).toBe(2);
    expect(errorOf(offline).code).toBe('E_USAGE');
  });

  it('fails with the file named when an installed file is changed or replaced by a link, or one is added (even when its own RECORD lists it)', async () => {
    const copy = join(dir, 'tampered');
    cpSync(venv, copy, { recursive: true, verbatimSymlinks: true });
    const copySite = site.replace(venv, copy);
    appendFileSync(join(copySite, 'mcs', 'driver', 'csv', 'driver.py'), 'import os\n');
    rmSync(join(copySite, 'mcs', 'driver', 'csv', '__init__.py'));
    symlinkSync('driver.py', join(copySite, 'mcs', 'driver', 'csv', '__init__.py'));
    writeFileSync(join(copySite, 'mcs', 'driver', 'tables', 'planted.py'), 'import socket\n');
    appendFileSync(join(copySite, 'mcs_driver_tables-0.4.1.dist-info', 'RECORD'), 'mcs/driver/tables/planted.py,,\n');
    const run = await verify(copy, '--dist-dir', distDir);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.counts).toMatchObject({ verified: 0, failed: 2 });
    const csv = report.results.find((r: { package?: string }) => r.package === 'mcs-driver-csv');
    expect(csv).toMatchObject({ status: 'failed', code: 'E_INSTALLED_MISMATCH', problems: ['mcs/driver/csv/__init__.py: a link, not a file', 'mcs/driver/csv/driver.py: differs from the verified wheel'] });
    const core = report.results.find((r: { package?: string }) => r.package === 'mcs-driver-tables');
    expect(core.problems).toEqual(['mcs/driver/tables/planted.py: not in the verified wheel']);
    expect(readFileSync(join(site, 'mcs', 'driver', 'csv', 'driver.py'), 'utf8')).toBe('class CsvDriver:\n    pass\n');
  });

  it('does not excuse a file added to a driver\'s folder because a made-up dist-info\'s RECORD lists it', async () => {
    const copy = join(dir, 'fake-owner');
    cpSync(venv, copy, { recursive: true, verbatimSymlinks: true });
    const copySite = site.replace(venv, copy);
    writeFileSync(join(copySite, 'mcs', 'driver', 'tables', 'planted.py'), 'import socket\n');
    const fake = join(copySite, 'innocent-1.0.dist-info');
    mkdirSync(fake);
    writeFileSync(join(fake, 'METADATA'), 'Metadata-Version: 2.1\nName: innocent\nVersion: 1.0\n');
    writeFileSync(join(fake, 'RECORD'), 'mcs/driver/tables/planted.py,,\ninnocent-1.0.dist-info/METADATA,,\ninnocent-1.0.dist-info/RECORD,,\n');
    const run = await verify(copy, '--dist-dir', distDir);
    expect(run.code).toBe(1);
    const core = JSON.parse(run.stdout).results.find((r: { package?: string }) => r.package === 'mcs-driver-tables');
    expect(core).toMatchObject({ status: 'failed', code: 'E_INSTALLED_MISMATCH', problems: ['mcs/driver/tables/planted.py: not in the verified wheel'] });
  });

  it('accepts two verified MCS distributions that share a folder, each vouching for the other\'s file', async () => {
    const copy = join(dir, 'shared-folder');
    cpSync(venv, copy, { recursive: true, verbatimSymlinks: true });
    execFileSync(join(copy, 'bin', 'python'), ['-m', 'pip', 'install', '--no-index', '--no-deps', '--disable-pip-version-check', '--quiet', join(distDir, PLUGIN.filename)], { stdio: 'ignore' });
    const run = await verify(copy, '--dist-dir', distDir);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).counts).toMatchObject({ verified: 3, failed: 0 });
  });

  it('fails on a .pth, sitecustomize.py or usercustomize.py at the site-packages root that no verified MCS distribution installs, naming each, unless allowed by name', async () => {
    const copy = join(dir, 'startup');
    cpSync(venv, copy, { recursive: true, verbatimSymlinks: true });
    const copySite = site.replace(venv, copy);
    const planted = ['zz-evil.pth', 'sitecustomize.py', 'usercustomize.py'];
    writeFileSync(join(copySite, 'zz-evil.pth'), 'import os; os.system("id")\n');
    writeFileSync(join(copySite, 'sitecustomize.py'), 'import os\n');
    writeFileSync(join(copySite, 'usercustomize.py'), 'import os\n');
    const run = await verify(copy, '--dist-dir', distDir);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const report = JSON.parse(run.stdout);
    // the distributions themselves still verify: the failure is the startup files alone
    expect(report.counts).toMatchObject({ verified: 2, failed: 0 });
    const notVerified = report.startup.filter((f: { status: string }) => f.status === 'not-verified');
    expect(notVerified.map((f: { name: string }) => f.name).sort()).toEqual([...planted].sort());
    expect(notVerified.find((f: { name: string }) => f.name === 'zz-evil.pth')).toMatchObject({ path: join(copySite, 'zz-evil.pth'), sha256: createHash('sha256').update('import os; os.system("id")\n').digest('hex') });
    const text = await runCli(['verify', '--installed', '--python', copy, '--dist-dir', distDir, ...allowBaseline(), '--index', indexDir], env(), 60_000);
    expect(text.code).toBe(1);
    for (const name of planted) expect(text.stdout).toContain(join(copySite, name));
    expect(text.stdout).toContain('--allow-pth NAME');
    const allowed = await verify(copy, '--dist-dir', distDir, ...planted.flatMap((name) => ['--allow-pth', name]));
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    expect(JSON.parse(allowed.stdout).startup.filter((f: { status: string }) => f.status !== 'allowed')).toEqual([]);
  });
});
