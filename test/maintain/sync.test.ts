/** index sync against a loopback registry and the mock Sigstore: new versions pinned, downgrades and identity changes held. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateIndexDir } from '../../src/index/build.js';
import { addFromRegistry } from '../../src/maintain/add.js';
import { loadLog } from '../../src/maintain/edit.js';
import { syncIndex } from '../../src/maintain/sync.js';
import { packFixtureDriver } from '../helpers/driver-packages.js';
import type { FixtureRegistry } from '../helpers/fixture-registry.js';
import { signForRegistry, type MockSigstore, type RegistryKey } from '../helpers/mock-sigstore.js';
import { publishSigned, startReleaseWorld, type ReleaseWorld } from '../helpers/publish.js';

let world: ReleaseWorld;
let registry: FixtureRegistry;
let sigstore: MockSigstore;
let key: RegistryKey;
let work: string;
let rootFile: string;
let index: string;
const who = { by: 'alice', why: 'weekly sync' };
const trust = () => ({ registry: { registry: registry.url }, trustedRoot: rootFile });
const entry = () => JSON.parse(readFileSync(join(index, 'npm', 'mcs-driver-csv.json'), 'utf8'));
const release = (repository: string, version: string) =>
  publishSigned({ registry, sigstore, key, indexDir: join(work, 'scratch'), repository }, { name: 'mcs-driver-csv', version, tarball: packFixtureDriver('csv', { name: 'mcs-driver-csv', version }) });

beforeAll(async () => {
  world = await startReleaseWorld('mcs-sync-');
  ({ registry, sigstore, key, work, rootFile } = world);
  index = join(work, 'index');
  mkdirSync(index);
  await release('acme/csv', '1.0.0');
  await addFromRegistry(index, 'mcs-driver-csv', { by: 'alice', why: 'first review' }, trust());
});

afterAll(async () => {
  await world?.close();
});

describe('index sync', () => {
  it('pins a new version from the pinned publisher, holds one built elsewhere and one without provenance', async () => {
    await release('acme/csv', '1.1.0');
    await release('mallory/csv', '1.2.0');
    const bare = packFixtureDriver('csv', { name: 'mcs-driver-csv', version: '1.3.0' });
    registry.publish({ name: 'mcs-driver-csv', version: '1.3.0', tarball: bare, signatures: [signForRegistry(key, 'mcs-driver-csv', '1.3.0', `sha512-${createHash('sha512').update(bare).digest('base64')}`)] });

    const before = { entry: readFileSync(join(index, 'npm', 'mcs-driver-csv.json'), 'utf8'), log: loadLog(index).records.length };
    const looked = await syncIndex(index, [], who, { ...trust(), dryRun: true });
    expect(looked.added).toEqual([{ package: 'mcs-driver-csv', version: '1.1.0', provenance: true }]);
    expect(looked.findings).toHaveLength(2);
    expect(looked.records).toEqual([]);
    expect(readFileSync(join(index, 'npm', 'mcs-driver-csv.json'), 'utf8')).toBe(before.entry);
    expect(loadLog(index).records).toHaveLength(before.log);

    const result = await syncIndex(index, [], who, trust());
    expect(result.added).toEqual([{ package: 'mcs-driver-csv', version: '1.1.0', provenance: true }]);
    expect(result.findings.map((f) => [f.version, f.code, f.acceptable, f.accepted])).toEqual([
      ['1.3.0', 'E_PROVENANCE_DOWNGRADE', true, false],
      ['1.2.0', 'E_IDENTITY_CHANGED', true, false],
    ]);
    expect(result.findings[1]!.message).toContain('mallory/csv');
    expect(Object.keys(entry().versions).sort()).toEqual(['1.0.0', '1.1.0']);
    expect(validateIndexDir(index).problems).toEqual([]);

    // nothing new: a second sync changes nothing and reports the same held findings
    const again = await syncIndex(index, ['mcs-driver-csv'], who, trust());
    expect(again.added).toEqual([]);
    expect(again.findings).toHaveLength(2);
    expect(again.records).toEqual([]);
  });

  it('adds a held version once a maintainer accepts it, with the acceptance in the log', async () => {
    const result = await syncIndex(index, ['mcs-driver-csv'], { by: 'bob', why: 'repository moved, confirmed with the author' }, { ...trust(), accept: ['mcs-driver-csv@1.2.0', 'mcs-driver-csv@9.9.9'] });
    expect(result.added).toEqual([{ package: 'mcs-driver-csv', version: '1.2.0', provenance: true }]);
    expect(result.unmatched).toEqual(['mcs-driver-csv@9.9.9']);
    expect(entry().trust.publisher.repository).toBe('https://github.com/mallory/csv');
    const last = loadLog(index).records.filter((r) => r.by === 'bob');
    expect(last.map((r) => r.field).sort()).toEqual(['drivers', 'pin', 'publisher', 'record']);
    expect(last[0]!.why).toContain('accepted E_IDENTITY_CHANGED for 1.2.0');
    expect(validateIndexDir(index).problems).toEqual([]);
  });

  it('holds a version from the pinned repository and workflow but another ref, or a self-hosted runner', async () => {
    const at = (extra: { ref?: string; runnerEnvironment?: 'self-hosted' }, version: string) =>
      publishSigned({ registry, sigstore, key, indexDir: join(work, 'scratch'), repository: 'mallory/csv', ...extra }, { name: 'mcs-driver-csv', version, tarball: packFixtureDriver('csv', { name: 'mcs-driver-csv', version }) });
    await at({ ref: 'refs/heads/pwn' }, '1.4.0');
    await at({ runnerEnvironment: 'self-hosted' }, '1.5.0');
    const result = await syncIndex(index, ['mcs-driver-csv'], who, { ...trust(), dryRun: true });
    const held = (version: string) => result.findings.find((f) => f.version === version);
    expect(held('1.4.0')).toMatchObject({ code: 'E_IDENTITY_CHANGED', acceptable: true, accepted: false });
    expect(held('1.4.0')!.message).toContain('ref refs/heads/pwn');
    expect(held('1.5.0')).toMatchObject({ code: 'E_IDENTITY_CHANGED' });
    expect(held('1.5.0')!.message).toContain('runner self-hosted');
    expect(result.added.map((a) => a.version)).not.toContain('1.4.0');
  });

  it('holds the first release with provenance of a package pinned without a publisher, and pins its publisher once accepted', async () => {
    const notes = (version: string) => packFixtureDriver('notes', { name: 'mcs-driver-notes', version });
    const bare = notes('0.3.0');
    registry.publish({ name: 'mcs-driver-notes', version: '0.3.0', tarball: bare, signatures: [signForRegistry(key, 'mcs-driver-notes', '0.3.0', `sha512-${createHash('sha512').update(bare).digest('base64')}`)] });
    await addFromRegistry(index, 'mcs-driver-notes', { by: 'alice', why: 'notes driver' }, trust());
    await publishSigned({ registry, sigstore, key, indexDir: join(work, 'scratch'), repository: 'acme/notes' }, { name: 'mcs-driver-notes', version: '0.4.0', tarball: notes('0.4.0') });
    const held = await syncIndex(index, ['mcs-driver-notes'], who, trust());
    expect(held.findings).toMatchObject([{ version: '0.4.0', code: 'E_IDENTITY_CHANGED', acceptable: true, accepted: false }]);
    expect(held.findings[0]!.message).toContain('first release with provenance');
    const notesEntry = () => JSON.parse(readFileSync(join(index, 'npm', 'mcs-driver-notes.json'), 'utf8'));
    expect(notesEntry().trust).toBeUndefined();
    await syncIndex(index, ['mcs-driver-notes'], { by: 'bob', why: 'provenance adopted upstream' }, { ...trust(), accept: ['mcs-driver-notes@0.4.0'] });
    expect(notesEntry().trust.publisher).toMatchObject({ repository: 'https://github.com/acme/notes', workflow: '.github/workflows/release.yml' });
    expect(validateIndexDir(index).problems).toEqual([]);
  });

  it('mcs-pkg index sync shows the diff and exits 1 while a finding is held', async () => {
    const bin = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
    const args = ['index', 'sync', 'mcs-driver-csv', '--index', index, '--registry', registry.url, '--trusted-root', rootFile, '--by', 'alice', '--reason', 'weekly sync'];
    const run = (extra: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(process.execPath, [bin, ...args, ...extra], { env: { PATH: process.env.PATH ?? '', HOME: work, MCS_PKG_CACHE: join(work, 'cache'), NO_PROXY: '127.0.0.1' } }, (error, stdout) => {
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout });
        });
      });
    const held = await run([]);
    expect(held.code).toBe(1);
    expect(held.stdout).toMatch(/! held mcs-driver-csv@1\.3\.0 E_PROVENANCE_DOWNGRADE/);
    const json = JSON.parse((await run(['--json'])).stdout);
    expect(json.findings.map((f: { version: string }) => f.version)).toEqual(['1.5.0', '1.4.0', '1.3.0']);
    const dry = await run(['--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toMatch(/! held mcs-driver-csv@1\.3\.0 E_PROVENANCE_DOWNGRADE[\s\S]*Dry run: nothing was written\./);

    // one --accept value is one NAME@VERSION, not a list of its characters
    const accepted = await run(['--accept', 'mcs-driver-csv@1.3.0']);
    expect(accepted.stdout).toMatch(/\+ accepted mcs-driver-csv@1\.3\.0 E_PROVENANCE_DOWNGRADE/);
    expect(accepted.stdout).not.toMatch(/matched no held finding/);
    expect(accepted.code).toBe(1); // 1.4.0 and 1.5.0 are still held
    expect(Object.keys(entry().versions)).toContain('1.3.0');
  });

  it('refuses a version whose tarball declares no static MCS metadata: it cannot be accepted, and nothing is pinned', async () => {
    await publishSigned({ registry, sigstore, key, indexDir: join(work, 'scratch'), repository: 'mallory/csv' }, { name: 'mcs-driver-csv', version: '1.9.0', tarball: packFixtureDriver('csv', { name: 'mcs-driver-csv', version: '1.9.0', mcs: null }) });
    const result = await syncIndex(index, ['mcs-driver-csv'], who, { ...trust(), accept: ['mcs-driver-csv@1.9.0'] });
    expect(result.findings.find((f) => f.version === '1.9.0')).toMatchObject({ code: 'E_ADD_REFUSED', acceptable: false, accepted: false });
    expect(result.findings.find((f) => f.version === '1.9.0')!.message).toMatch(/^E_MCS_METADATA: mcs-driver-csv@1\.9\.0: no static MCS metadata/);
    expect(Object.keys(entry().versions)).not.toContain('1.9.0');
    expect(entry().declarations.flatMap((d: { versions: string[] }) => d.versions)).not.toContain('1.9.0');
  });
});
