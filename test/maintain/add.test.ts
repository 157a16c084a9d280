/**
 * index add against a loopback registry and the mock Sigstore: real signatures,
 * real provenance bundles, real index-data files and audit log on disk.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { validateIndexDir } from '../../src/index/build.js';
import { addFromRegistry, registryCheck } from '../../src/maintain/add.js';
import { discover } from '../../src/maintain/discover.js';
import { initLog, loadLog, setLabel } from '../../src/maintain/edit.js';
import { packFixtureDriver } from '../helpers/driver-packages.js';
import type { FixtureRegistry } from '../helpers/fixture-registry.js';
import { npmDriver, tempDir, writeEntry } from '../helpers/index-data.js';
import { signForRegistry, type MockSigstore, type RegistryKey } from '../helpers/mock-sigstore.js';
import { publishSigned, startReleaseWorld, type ReleaseWorld } from '../helpers/publish.js';
import { makePackage } from '../helpers/tarball.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
let world: ReleaseWorld;
let registry: FixtureRegistry;
let sigstore: MockSigstore;
let key: RegistryKey;
let work: string;
let rootFile: string;
let index: string;
const who = { by: 'alice', why: 'new CSV driver, review 12' };
const integrity = (bytes: Buffer) => `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
const trust = () => ({ registry: { registry: registry.url }, trustedRoot: rootFile });

/** Serves a version with the registry's signature but no attestations (published without provenance). */
function publishUnsigned(name: string, version: string, tarball: Buffer): void {
  registry.publish({ name, version, tarball, signatures: [signForRegistry(key, name, version, integrity(tarball))] });
}

beforeAll(async () => {
  world = await startReleaseWorld('mcs-add-');
  ({ registry, sigstore, key, work, rootFile } = world);
  const scratch = join(work, 'scratch-index');
  for (const version of ['1.0.0', '1.1.0']) {
    await publishSigned({ registry, sigstore, key, indexDir: scratch, repository: 'acme/csv' }, { name: 'mcs-driver-csv', version, tarball: packFixtureDriver('csv', { name: 'mcs-driver-csv', version }) });
  }
  publishUnsigned('mcs-driver-notes', '0.3.0', packFixtureDriver('notes', { name: 'mcs-driver-notes', version: '0.3.0' }));
  publishUnsigned('mcs-driver-cvs', '1.0.0', packFixtureDriver('notes', { name: 'mcs-driver-cvs', version: '1.0.0' }));
  await publishSigned({ registry, sigstore, key, indexDir: scratch, repository: 'acme/tsv' }, { name: 'mcs-driver-tsv', version: '1.0.0', tarball: packFixtureDriver('csv', { name: 'mcs-driver-tsv', version: '1.0.0' }) });
  await publishSigned({ registry, sigstore, key, indexDir: scratch, repository: 'mallory/tsv' }, { name: 'mcs-driver-tsv', version: '1.0.1', tarball: packFixtureDriver('csv', { name: 'mcs-driver-tsv', version: '1.0.1' }) });
  publishUnsigned('mcs-driver-bare', '1.0.0', makePackage({ name: 'mcs-driver-bare', version: '1.0.0', type: 'module' }, { 'index.js': 'export default 1;\n' }));
});

afterAll(async () => {
  await world?.close();
});

beforeEach(() => {
  index = tempDir('mcs-add-index-');
});

describe('index add', () => {
  it('pins every version, takes the publisher from provenance, logs it; then Verified is granted on a fresh verification', async () => {
    const requests = registry.requests.length;
    const result = await addFromRegistry(index, 'mcs-driver-csv', who, trust());
    expect(result.written).toBe(true);
    const entry = JSON.parse(readFileSync(join(index, 'npm', 'mcs-driver-csv.json'), 'utf8'));
    expect(Object.keys(entry.versions).sort()).toEqual(['1.0.0', '1.1.0']);
    expect(entry.versions['1.1.0']).toMatchObject({ integrity: integrity(packFixtureDriver('csv', { name: 'mcs-driver-csv', version: '1.1.0' })), provenance: true });
    expect(entry.versions['1.1.0'].size).toBe(packFixtureDriver('csv', { name: 'mcs-driver-csv', version: '1.1.0' }).length);
    expect(entry.trust.publisher).toEqual({ issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/acme/csv', workflow: '.github/workflows/release.yml', ref: 'refs/tags/*' });
    expect(entry.label).toMatchObject({ value: 'community', by: 'alice' });
    expect(entry.declarations[0].drivers[0].tools.map((t: { name: string }) => t.name)).toContain('list_csv_files');
    expect(registry.requests.length).toBeGreaterThan(requests);
    expect(loadLog(index).records.map((r) => r.field)).toEqual(expect.arrayContaining(['label', 'publisher', 'pin']));
    expect(validateIndexDir(index).problems).toEqual([]);

    await setLabel(index, 'mcs-driver-csv', 'verified', { by: 'bob', why: 'second review' }, registryCheck(index, trust()));
    expect(JSON.parse(readFileSync(join(index, 'npm', 'mcs-driver-csv.json'), 'utf8')).label).toMatchObject({ value: 'verified', by: 'bob' });
    expect(validateIndexDir(index).problems).toEqual([]);
  });

  it('adds a package published without provenance with no publisher pinned', async () => {
    await addFromRegistry(index, 'mcs-driver-notes', who, trust());
    const entry = JSON.parse(readFileSync(join(index, 'npm', 'mcs-driver-notes.json'), 'utf8'));
    expect(entry.versions['0.3.0'].provenance).toBe(false);
    expect(entry.trust).toBeUndefined();
    await expect(setLabel(index, 'mcs-driver-notes', 'verified', who, registryCheck(index, trust()))).rejects.toMatchObject({ code: 'E_LABEL_REQUIREMENTS' });
  });

  it('refuses versions built by different publishers, and writes nothing', async () => {
    await expect(addFromRegistry(index, 'mcs-driver-tsv', who, trust())).rejects.toMatchObject({ code: 'E_IDENTITY_CHANGED', message: expect.stringContaining('mallory/tsv') });
    expect(existsSync(join(index, 'npm', 'mcs-driver-tsv.json'))).toBe(false);
    expect(loadLog(index).records).toEqual([]);
    // a range that leaves out the other publisher's version is fine
    await addFromRegistry(index, 'mcs-driver-tsv@1.0.0', who, trust());
    expect(JSON.parse(readFileSync(join(index, 'npm', 'mcs-driver-tsv.json'), 'utf8')).trust.publisher.repository).toBe('https://github.com/acme/tsv');
  });

  it('warns when the new name is a small edit away from a Verified or Reference package', async () => {
    await addFromRegistry(index, 'mcs-driver-csv', who, trust());
    expect((await addFromRegistry(index, 'mcs-driver-notes', who, trust())).warnings).toEqual([]);
    await setLabel(index, 'mcs-driver-csv', 'verified', { by: 'bob', why: 'second review' }, registryCheck(index, trust()));
    let warned: string[] = [];
    const result = await addFromRegistry(index, 'mcs-driver-cvs', who, { ...trust(), confirm: (_draft, warnings) => ((warned = warnings), false) });
    expect(result.written).toBe(false);
    expect(warned).toEqual(['mcs-driver-cvs is a small edit away from verified package npm:mcs-driver-csv: make sure it is not an imitation']);
  });

  it('starts a new index in a folder that does not exist yet', async () => {
    const fresh = join(index, 'new-index');
    const result = await addFromRegistry(fresh, 'mcs-driver-csv', who, trust());
    expect(result).toMatchObject({ written: true, warnings: [] });
    expect(validateIndexDir(fresh).problems).toEqual([]);
    const failed = join(index, 'failed-index');
    await expect(addFromRegistry(failed, 'mcs-driver-bare', who, trust())).rejects.toMatchObject({ code: 'E_MCS_METADATA' });
    expect(existsSync(failed)).toBe(false); // nothing left behind
  });

  it('refuses a package without static MCS metadata', async () => {
    await expect(addFromRegistry(index, 'mcs-driver-bare', who, trust())).rejects.toMatchObject({ code: 'E_MCS_METADATA' });
    expect(existsSync(join(index, 'npm'))).toBe(false);
  });

  it('writes nothing when the maintainer does not confirm, and refuses a package already indexed', async () => {
    let shown: unknown;
    const declined = await addFromRegistry(index, 'mcs-driver-csv', who, { ...trust(), confirm: (draft) => ((shown = draft), false) });
    expect(declined.written).toBe(false);
    expect(shown).toMatchObject({ name: 'mcs-driver-csv', trust: { publisher: { repository: 'https://github.com/acme/csv' } } });
    expect(existsSync(join(index, 'npm', 'mcs-driver-csv.json'))).toBe(false);
    await addFromRegistry(index, 'mcs-driver-csv', who, trust());
    await expect(addFromRegistry(index, 'mcs-driver-csv', who, trust())).rejects.toMatchObject({ code: 'E_ALREADY_INDEXED' });
  });

  it('refuses to add to an index that has entries but no audit log', async () => {
    writeEntry(index, npmDriver('mcs-driver-xml'));
    await expect(addFromRegistry(index, 'mcs-driver-notes', who, trust())).rejects.toMatchObject({ code: 'E_LOG_UNEXPLAINED' });
    initLog(index, who);
    await addFromRegistry(index, 'mcs-driver-notes', who, trust());
    expect(validateIndexDir(index).problems).toEqual([]);
  });
});

describe('index discover', () => {
  it('lists what the registry has by the naming convention, and which of it is new to the index', async () => {
    registry.publish({ name: 'left-pad', version: '1.0.0', tarball: makePackage({ name: 'left-pad', version: '1.0.0' }) });
    await addFromRegistry(index, 'mcs-driver-csv', who, trust());
    const pages: string[] = [];
    const found = await discover(index, { registry: { registry: registry.url }, onPage: (prefix) => pages.push(prefix) });
    expect(found.map((c) => [c.name, c.new])).toEqual([
      ['mcs-driver-bare', true],
      ['mcs-driver-csv', false],
      ['mcs-driver-cvs', true],
      ['mcs-driver-notes', true],
      ['mcs-driver-tsv', true],
    ]);
    expect(found.find((c) => c.name === 'mcs-driver-csv')?.version).toBe('1.1.0');
    expect(pages).toEqual(expect.arrayContaining(['mcs-driver-', 'mcs-adapter-']));
  });
});

describe('mcs-pkg index add', () => {
  function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work, MCS_PKG_CACHE: join(work, 'cache'), NO_PROXY: '127.0.0.1', ...env } }, (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }
  const common = () => ['--index', index, '--registry', registry.url, '--trusted-root', rootFile, '--by', 'alice', '--reason', 'review 12'];

  it('writes the entry with --yes, shows it as JSON, and refuses a second add with exit 2', async () => {
    const added = await cli(['index', 'add', 'mcs-driver-csv', '--yes', '--json', ...common()]);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ written: true, entry: { name: 'mcs-driver-csv', trust: { publisher: { repository: 'https://github.com/acme/csv' } } } });
    expect(existsSync(join(index, 'npm', 'mcs-driver-csv.json'))).toBe(true);
    const again = await cli(['index', 'add', 'mcs-driver-csv', '--yes', '--json', ...common()]);
    expect(again.code).toBe(2);
    expect(JSON.parse(again.stdout).error.code).toBe('E_ALREADY_INDEXED');
    const unconfirmed = await cli(['index', 'add', 'mcs-driver-notes', ...common()]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/--yes/);
    expect(existsSync(join(index, 'npm', 'mcs-driver-notes.json'))).toBe(false);
  });

  it('flags a description holding invisible text, naming the field and the code point, in the draft and on the terminal (escaped)', async () => {
    publishUnsigned('mcs-driver-ghost', '1.0.0', packFixtureDriver('notes', { name: 'mcs-driver-ghost', version: '1.0.0', description: 'Notes\u200b driver\u{e0049}' }));
    let warned: string[] = [];
    await addFromRegistry(index, 'mcs-driver-ghost', who, { ...trust(), confirm: (_draft, warnings) => ((warned = warnings), false) });
    expect(warned).toEqual([expect.stringMatching(/^E_TEXT_INVISIBLE mcs-driver-ghost@1\.0\.0: \/description: holds U\+200B \(format character\)/)]);
    const added = await cli(['index', 'add', 'mcs-driver-ghost', '--yes', ...common()]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toMatch(/warning: E_TEXT_INVISIBLE mcs-driver-ghost@1\.0\.0: \/description: holds U\+200B/);
    expect(added.stdout + added.stderr).not.toMatch(/[\u200b\u{e0049}]/u);
    expect(added.stdout).toContain('Notes\\u{200b} driver\\u{e0049}');
  });

  it('the maintainers\' flow with a signed log: root in the index folder, add, label, validate, publish, update, and info names who labelled it', async () => {
    const signed = join(work, 'signed-index');
    expect((await cli(['index', 'keygen', '--out', 'alice.pem'])).code).toBe(0);
    expect((await cli(['index', 'root', '--out', join(signed, 'root.json'), '--member', 'alice.pem.pub', '--threshold', '1', '--sign', 'alice.pem'])).code).toBe(0);
    const env = { MCS_PKG_MAINTAINER_KEY: join(work, 'alice.pem') };
    const flags = ['--index', signed, '--registry', registry.url, '--trusted-root', rootFile, '--reason', 'review 12'];
    const added = await cli(['index', 'add', 'mcs-driver-csv', '--yes', '--json', ...flags], env);
    expect(added.code, added.stdout).toBe(0);
    expect(JSON.parse(added.stdout).records[0]).toMatchObject({ field: 'signed', by: 'alice' });
    const unsigned = await cli(['index', 'label', 'mcs-driver-csv', 'verified', ...flags, '--by', 'alice']);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/^error E_LOG_UNSIGNED: .* signs its audit log: give your maintainer key/);
    expect((await cli(['index', 'label', 'mcs-driver-csv', 'verified', ...flags], env)).code).toBe(0);
    expect((await cli(['index', 'validate', '--index', signed])).code).toBe(0);
    expect((await cli(['index', 'publish', '--index', signed, '--out', 'snap', '--root', join(signed, 'root.json'), '--key', 'alice.pem', '--snapshot-version', '1'])).code).toBe(0);
    expect((await cli(['update', '--from', 'snap', '--root', join(signed, 'root.json')])).code).toBe(0);
    const info = await cli(['info', 'mcs-driver-csv']);
    expect(info.stdout).toMatch(/verified, set by alice at .*\n.*\n\s+audit log record #\d+ by alice, signed by key [0-9a-f]{16}/);
  });
});
