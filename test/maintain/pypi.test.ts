/**
 * index add / label / sync for PyPI against a loopback PyPI (PEP 691 JSON,
 * the integrity API with attestations signed at test time by the mock
 * Sigstore), a real index folder, a real audit log and the real CLI; then
 * the requirements file `pins --format requirements` prints installed by
 * pip itself with --require-hashes from the same loopback index.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addFromRegistry } from '../../src/maintain/add.js';
import { loadLog } from '../../src/maintain/edit.js';
import { syncIndex } from '../../src/maintain/sync.js';
import type { IndexEntry } from '../../src/manifest/types.js';
import { errorOf, runCli } from '../helpers/cli.js';
import { startFixturePypi, type FixtureDist, type FixturePypi } from '../helpers/fixture-pypi.js';
import { removeDir, tempDir } from '../helpers/index-data.js';
import '../helpers/matchers.js';
import { startMockSigstore, type GithubIdentity, type MockSigstore } from '../helpers/mock-sigstore.js';
import { buildSdist, buildWheel, sdistFilename, wheelFilename } from '../helpers/wheels.js';

const DRIVER = 'mcs-driver-notes';
const acme = (version: string): GithubIdentity => ({ repository: 'acme/mcs-driver-notes', workflow: '.github/workflows/release.yml', ref: `refs/tags/v${version}` });
const mallory = (version: string): GithubIdentity => ({ repository: 'mallory/mcs-driver-notes', workflow: '.github/workflows/release.yml', ref: `refs/tags/v${version}` });
const driverId = randomUUID();

/** The static MCS metadata a notes driver wheel declares in its .dist-info/mcs.json. */
function mcs(version: string): unknown {
  return {
    drivers: [
      {
        kind: 'tool-driver',
        export: 'mcs_driver_notes:NotesDriver',
        meta: { id: driverId, name: 'Notes Driver', version, bindings: [{ capability: 'notes', adapter: 'localfs', spec_format: 'Custom' }], supported_llms: null, capabilities: [] },
        tools: [{ name: 'list_notes', description: 'Lists the notes.' }],
      },
    ],
  };
}

/** A pure wheel of a plain library: one module that says its name. */
function library(name: string, version: string, requiresDist: string[] = [], extra: Partial<FixtureDist> = {}): FixtureDist {
  const module = name.replace(/-/g, '_');
  return { filename: wheelFilename(name, version), bytes: buildWheel({ name, version, files: { [`${module}/__init__.py`]: `NAME = ${JSON.stringify(name)}\n` }, requiresDist, requiresPython: '>=3.8' }), requiresPython: '>=3.8', ...extra };
}

/** The driver's wheel and sdist of a version, signed by `publisher` (none: no attestation). */
function driver(version: string, publisher?: GithubIdentity): FixtureDist[] {
  const requiresDist = ['mcs-driver-core>=0.4,<1', 'colorama>=0.4; sys_platform == "win32"', 'tomli>=2; python_version < "3.11"', 'notes-helper[fancy]>=1'];
  const wheel = buildWheel({ name: DRIVER, version, files: { 'mcs_driver_notes/__init__.py': 'class NotesDriver: pass\n' }, requiresDist, requiresPython: '>=3.11', summary: 'Notes for MCS', mcs: mcs(version) });
  return [
    { filename: wheelFilename(DRIVER, version), bytes: wheel, requiresPython: '>=3.11', ...(publisher ? { publisher } : {}) },
    { filename: sdistFilename(DRIVER, version), bytes: buildSdist({ name: DRIVER, version, files: { 'setup.py': 'raise SystemExit("never built")\n' } }), requiresPython: '>=3.11', ...(publisher ? { publisher } : {}) },
  ];
}

let sigstore: MockSigstore;
let pypi: FixturePypi;
let work: string;
let rootFile: string;
let index: string;
const entry = (): IndexEntry => JSON.parse(readFileSync(join(index, 'pypi', `${DRIVER}.json`), 'utf8'));
const cli = (args: string[]) => runCli([...args, '--index', index], { HOME: work }, 60_000);
const trust = () => ({ pypi: { indexUrl: pypi.indexUrl }, trustedRoot: rootFile });

beforeAll(async () => {
  sigstore = await startMockSigstore();
  work = tempDir('mcs-pypi-maintain-');
  rootFile = join(work, 'trusted_root.json');
  writeFileSync(rootFile, JSON.stringify(sigstore.trustedRoot));
  index = join(work, 'index');
  mkdirSync(index);
  pypi = await startFixturePypi({
    sigstore,
    projects: [
      { name: DRIVER, files: driver('1.0.0', acme('1.0.0')) },
      { name: 'mcs-driver-core', files: [library('mcs-driver-core', '0.4.0', ['typing-extensions>=4']), library('mcs-driver-core', '0.4.1', ['typing-extensions>=4']), library('mcs-driver-core', '1.0.0')] },
      { name: 'typing_extensions', files: [library('typing-extensions', '4.12.2')] },
      { name: 'colorama', files: [library('colorama', '0.4.6')] },
      { name: 'tomli', files: [library('tomli', '2.0.1')] },
      { name: 'notes-helper', files: [library('notes-helper', '1.2.0', ['fancy-dep>=1; extra == "fancy"', 'unused-dep; extra == "other"'])] },
      { name: 'fancy-dep', files: [library('fancy-dep', '1.0.0')] },
    ],
  });
}, 60_000);

afterAll(async () => {
  await pypi?.close();
  await sigstore?.close();
  if (work) removeDir(work);
});

describe('index add pypi: -> index label verified -> pins --format requirements -> pip install --require-hashes', () => {
  let requirements: string;

  it('adds the driver: every file pinned, the publisher from the certificate, the lock resolved, all logged', async () => {
    const run = await cli(['index', 'add', `pypi:${DRIVER}`, '--yes', '--by', 'alice', '--reason', 'first review', '--index-url', pypi.indexUrl, '--trusted-root', rootFile]);
    expect(run.stderr).not.toContain('Error');
    expect(run.code).toBe(0);
    const added = entry();
    expect(added.ecosystem).toBe('pypi');
    expect(added.description).toBe('Notes for MCS');
    expect(added.label.value).toBe('community');
    expect(added.trust?.publisher).toEqual({ issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/acme/mcs-driver-notes', workflow: '.github/workflows/release.yml', ref: 'refs/tags/*' });
    const record = added.versions['1.0.0']!;
    expect(record.provenance).toBe(true);
    expect(record.files!.map((f) => [f.filename, f.kind, f.requiresPython])).toEqual([
      [wheelFilename(DRIVER, '1.0.0'), 'wheel', '>=3.11'],
      [sdistFilename(DRIVER, '1.0.0'), 'sdist', '>=3.11'],
    ]);
    for (const file of record.files!) {
      expect(file.integrity).toMatch(/^sha256-/);
      expect(file.size).toBeGreaterThan(0);
      expect(file.uploaded).toBe('2026-01-02T03:04:05.000Z');
    }
    // Requires-Dist for Python >=3.11 on any platform: tomli is never needed, colorama only on Windows, the helper's "fancy" extra pulls fancy-dep
    expect(record.lock).toEqual({
      python: '>=3.11',
      dependencies: [
        expect.objectContaining({ name: 'colorama', version: '0.4.6', marker: 'sys_platform == "win32"' }),
        expect.objectContaining({ name: 'fancy-dep', version: '1.0.0' }),
        expect.objectContaining({ name: 'mcs-driver-core', version: '0.4.1' }),
        expect.objectContaining({ name: 'notes-helper', version: '1.2.0' }),
        expect.objectContaining({ name: 'typing-extensions', version: '4.12.2' }),
      ],
    });
    expect(record.lock!.dependencies.filter((d) => d.name !== 'colorama').every((d) => d.marker === undefined)).toBe(true);
    expect(added.declarations).toEqual([{ versions: ['1.0.0'], drivers: [expect.objectContaining({ export: 'mcs_driver_notes:NotesDriver', meta: expect.objectContaining({ target_llms: null }) })] }]);
    // the log records the pin, lock included, and the publisher
    const records = loadLog(index).records.filter((r) => r.package === `pypi:${DRIVER}`);
    expect(records.find((r) => r.field === 'pin' && r.version === '1.0.0')?.after).toContain('lock (python >=3.11): colorama==0.4.6 ; sys_platform == "win32"');
    expect(records.find((r) => r.field === 'publisher')?.after).toEqual(added.trust!.publisher);
  });

  it('labels it verified after checking every file against PyPI and the pinned publisher', async () => {
    await pypi.misbehave({ kind: 'flip-bit', filename: wheelFilename(DRIVER, '1.0.0') });
    const tampered = await cli(['index', 'label', `pypi:${DRIVER}`, 'verified', '--by', 'alice', '--reason', 'review 7', '--index-url', pypi.indexUrl, '--trusted-root', rootFile, '--json']);
    pypi.clearMisbehavior();
    expect(tampered.code).toBe(1);
    expect(errorOf(tampered).code).toBe('E_LABEL_REQUIREMENTS');
    expect(errorOf(tampered).message).toContain('1.0.0 (E_INTEGRITY_MISMATCH)');
    expect(entry().label.value).toBe('community');
    const run = await cli(['index', 'label', `pypi:${DRIVER}`, 'verified', '--by', 'alice', '--reason', 'review 7', '--index-url', pypi.indexUrl, '--trusted-root', rootFile]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(entry().label.value).toBe('verified');
    const validate = await cli(['index', 'validate']);
    expect(validate.code).toBe(0);
  });

  it('prints a requirements file with the wheel hashes of the driver and its lock (no sdist hash)', async () => {
    const run = await cli(['pins', `pypi:${DRIVER}@1.0.0`, '--format', 'requirements']);
    expect(run.code).toBe(0);
    requirements = run.stdout;
    const pinned = entry().versions['1.0.0']!;
    const hex = (integrity: string) => Buffer.from(integrity.slice(7), 'base64').toString('hex');
    expect(requirements).toContain(`mcs-driver-notes==1.0.0 \\\n    --hash=sha256:${hex(pinned.files![0]!.integrity)}`);
    expect(requirements).not.toContain(hex(pinned.files![1]!.integrity));
    expect(requirements).toContain('colorama==0.4.6 ; sys_platform == "win32" \\\n    --hash=sha256:');
    for (const dependency of pinned.lock!.dependencies) expect(requirements).toContain(`${dependency.name}==${dependency.version}`);
  });

  it('installs with pip --require-hashes from the loopback index into a venv; a tampered wheel makes pip refuse', async () => {
    const file = join(work, 'requirements.txt');
    writeFileSync(file, requirements);
    const venv = await python(['-m', 'venv', '--without-pip', join(work, 'venv')]);
    expect(venv.code).toBe(0);
    const venvPython = join(work, 'venv', 'bin', 'python');
    const install = await python(['-m', 'pip', '--python', venvPython, 'install', '--require-hashes', '--only-binary', ':all:', '--index-url', pypi.indexUrl, '-r', file]);
    expect(install.stderr).not.toMatch(/^ERROR/m);
    expect(install.code).toBe(0);
    // what the lock pinned is importable in the venv; colorama (Windows only) and tomli (Python < 3.11) are not there
    const imported = await python(['-c', 'import mcs_driver_notes, mcs_driver_core, notes_helper, fancy_dep, typing_extensions, importlib.util as u; print(u.find_spec("colorama") is None and u.find_spec("tomli") is None)'], venvPython);
    expect(imported.stderr).toBe('');
    expect(imported.stdout.trim()).toBe('True');

    await pypi.misbehave({ kind: 'flip-bit', filename: wheelFilename('notes-helper', '1.2.0') });
    try {
      await python(['-m', 'venv', '--without-pip', join(work, 'venv-tampered')]);
      const tampered = await python(['-m', 'pip', '--python', join(work, 'venv-tampered', 'bin', 'python'), 'install', '--require-hashes', '--only-binary', ':all:', '--index-url', pypi.indexUrl, '-r', file]);
      expect(tampered.code).not.toBe(0);
      expect(tampered.stderr).toMatch(/DO NOT MATCH THE HASHES/);
      const none = await python(['-c', 'import importlib.util as u; print(u.find_spec("notes_helper") is None)'], join(work, 'venv-tampered', 'bin', 'python'));
      expect(none.stdout.trim()).toBe('True');
    } finally {
      pypi.clearMisbehavior();
    }
  }, 180_000);
});

describe('index sync pypi:', () => {
  it('pins a new version from the pinned publisher and holds one without provenance until accepted', async () => {
    await pypi.publish({ name: DRIVER, files: driver('1.1.0', acme('1.1.0')) });
    await pypi.publish({ name: DRIVER, files: driver('1.2.0') });
    const held = await syncIndex(index, [`pypi:${DRIVER}`], { by: 'alice', why: 'weekly sync' }, trust());
    expect(held.added).toEqual([{ package: DRIVER, version: '1.1.0', provenance: true }]);
    expect(held.findings.map((f) => [f.version, f.code, f.acceptable, f.accepted])).toEqual([['1.2.0', 'E_PROVENANCE_DOWNGRADE', true, false]]);
    expect(Object.keys(entry().versions).sort()).toEqual(['1.0.0', '1.1.0']);
    expect(entry().versions['1.1.0']!.lock?.dependencies.map((d) => d.name)).toContain('mcs-driver-core');

    // a downgrade under a Verified label breaks its rule: it is accepted only after the label changes
    const cli = await runCli(['index', 'sync', `pypi:${DRIVER}`, '--index', index, '--by', 'alice', '--reason', 'weekly sync', '--index-url', pypi.indexUrl, '--trusted-root', rootFile, '--json'], { HOME: work }, 60_000);
    expect(cli.code).toBe(1);
    expect(JSON.parse(cli.stdout).findings).toEqual([expect.objectContaining({ version: '1.2.0', code: 'E_PROVENANCE_DOWNGRADE', accepted: false })]);
    await expect(syncIndex(index, [`pypi:${DRIVER}`], { by: 'alice', why: 'upstream dropped Trusted Publishing' }, { ...trust(), accept: [`${DRIVER}@1.2.0`] })).rejects.toThrowWithCode('E_LABEL_REQUIREMENTS');
    const relabel = await runCli(['index', 'label', `pypi:${DRIVER}`, 'community', '--index', index, '--by', 'alice', '--reason', 'provenance dropped upstream'], { HOME: work });
    expect(relabel.code).toBe(0);
    const accepted = await syncIndex(index, [`pypi:${DRIVER}`], { by: 'alice', why: 'upstream dropped Trusted Publishing' }, { ...trust(), accept: [`${DRIVER}@1.2.0`] });
    expect(accepted.added).toEqual([{ package: DRIVER, version: '1.2.0', provenance: false }]);
    expect(entry().versions['1.2.0']!.provenance).toBe(false);
    expect(loadLog(index).records.find((r) => r.field === 'pin' && r.version === '1.2.0')?.why).toContain('accepted E_PROVENANCE_DOWNGRADE for 1.2.0');
  }, 120_000);

  it('holds a version signed by another publisher; accepting it moves the pin to the certificate\'s publisher', async () => {
    await pypi.publish({ name: DRIVER, files: driver('1.3.0', mallory('1.3.0')) });
    const held = await syncIndex(index, [`pypi:${DRIVER}`], { by: 'alice', why: 'weekly sync' }, trust());
    expect(held.added).toEqual([]);
    expect(held.findings).toEqual([expect.objectContaining({ version: '1.3.0', code: 'E_IDENTITY_CHANGED', acceptable: true, accepted: false })]);
    expect(held.findings[0]!.message).toContain('https://github.com/mallory/mcs-driver-notes');
    expect(entry().versions['1.3.0']).toBeUndefined();
    expect(entry().trust?.publisher).toMatchObject({ repository: 'https://github.com/acme/mcs-driver-notes' });

    const accepted = await syncIndex(index, [`pypi:${DRIVER}`], { by: 'alice', why: 'project moved, confirmed with the author' }, { ...trust(), accept: [`${DRIVER}@1.3.0`] });
    expect(accepted.added).toEqual([{ package: DRIVER, version: '1.3.0', provenance: true }]);
    expect(entry().trust?.publisher).toMatchObject({ repository: 'https://github.com/mallory/mcs-driver-notes', workflow: '.github/workflows/release.yml' });
    const moved = loadLog(index).records.filter((r) => r.field === 'publisher');
    expect(moved.at(-1)?.why).toContain('accepted E_IDENTITY_CHANGED for 1.3.0');
  }, 120_000);
});

describe('what a lock refuses', () => {
  it('refuses to add a driver whose dependency has no pure-Python wheel (sdists are never built), writing nothing', async () => {
    const name = 'mcs-driver-fastcsv';
    const wheel = buildWheel({ name, version: '0.1.0', files: { 'mcs_driver_fastcsv/__init__.py': '' }, requiresDist: ['speedups>=1'], requiresPython: '>=3.11', mcs: mcs('0.1.0') });
    await pypi.publish({ name, files: [{ filename: wheelFilename(name, '0.1.0'), bytes: wheel }] });
    await pypi.publish({ name: 'speedups', files: [{ filename: sdistFilename('speedups', '1.0.0'), bytes: buildSdist({ name: 'speedups', version: '1.0.0' }) }, { filename: wheelFilename('speedups', '1.0.0', 'cp311-cp311-manylinux_2_17_x86_64'), bytes: buildWheel({ name: 'speedups', version: '1.0.0', tag: 'cp311-cp311-manylinux_2_17_x86_64' }) }] });
    const fresh = join(work, 'refusing');
    const error = await addFromRegistry(fresh, `pypi:${name}`, { by: 'alice', why: 'review' }, trust()).catch((e: unknown) => e);
    expect(error).toThrowWithCode('E_ADD_REFUSED');
    expect((error as { details: { failures: Array<{ codes: string[]; message: string }> } }).details.failures[0]!.codes).toEqual(['E_LOCK_NO_WHEEL']);
    expect((error as Error).message).toContain('speedups');
    expect(existsSync(fresh)).toBe(false);
  });

  it('pins without a lock: pins --format requirements is E_LOCK_MISSING (exit 1) saying what to run', async () => {
    const bare = join(work, 'bare');
    mkdirSync(join(bare, 'pypi'), { recursive: true });
    const unlocked: IndexEntry = { ...entry(), label: { value: 'community', by: 'alice', at: '2026-01-01T00:00:00.000Z', reason: 'hand-written' }, versions: { '1.0.0': { ...entry().versions['1.0.0']!, lock: undefined } } } as IndexEntry;
    delete unlocked.versions['1.0.0']!.lock;
    delete unlocked.trust;
    writeFileSync(join(bare, 'pypi', `${DRIVER}.json`), JSON.stringify(unlocked));
    const run = await runCli(['pins', `pypi:${DRIVER}@1.0.0`, '--format', 'requirements', '--index', bare, '--json'], { HOME: work });
    expect(run.code).toBe(1);
    expect(errorOf(run).code).toBe('E_LOCK_MISSING');
    expect(errorOf(run).message).toContain(`index add pypi:${DRIVER}`);
    const unpinned = await runCli(['pins', `pypi:${DRIVER}@9.9.9`, '--format', 'requirements', '--index', bare, '--json'], { HOME: work });
    expect(unpinned.code).toBe(1);
    expect(errorOf(unpinned).code).toBe('E_POLICY_UNPINNED');
  });
});

/** python3 (or a venv's python) on loopback only, pip isolated from the user's configuration and caches. */
function python(args: string[], interpreter = 'python3'): Promise<{ code: number; stdout: string; stderr: string }> {
  const pipFlags = args[0] === '-m' && args[1] === 'pip' ? ['--disable-pip-version-check', '--no-input', '--no-cache-dir', '--isolated'] : [];
  return new Promise((resolve) => {
    execFile(
      interpreter,
      [...args.slice(0, pipFlags.length > 0 ? 2 : 0), ...pipFlags, ...args.slice(pipFlags.length > 0 ? 2 : 0)],
      { env: { PATH: process.env.PATH ?? '', HOME: work, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1', PIP_CONFIG_FILE: '/dev/null', PIP_ROOT_USER_ACTION: 'ignore' }, encoding: 'utf8', timeout: 150_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
