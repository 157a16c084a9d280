/**
 * Evidence the verifier must not do without. An expected publisher (from the
 * command line or the index) demands provenance: a tarball nobody signed
 * fails E_PROVENANCE_MISSING whatever form the missing evidence takes,
 * offline and from the registry. A digest is only reported as checked when
 * one was compared (--integrity, --packument), and every check that did not
 * run is named with why. Each test runs the real CLI against material the
 * mock Sigstore signed at test time.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NPM_PUBLISH_PREDICATE } from '../../../src/trust/provenance.js';
import { npmDriver, writeEntry } from '../../helpers/index-data.js';
import { keysResponse, signForRegistry } from '../../helpers/mock-sigstore.js';
import { SLSA_V1, startReleaseWorld, type ReleaseWorld } from '../../helpers/publish.js';
import { makePackage } from '../../helpers/tarball.js';
import { closedPort, runVerify, type Run } from './run.js';

const NAME = 'mcs-driver-csv';
const VERSION = '1.0.0';
const REPO = 'acme/mcs-driver-csv';
const PUBLISHER = { issuer: 'https://token.actions.githubusercontent.com', repository: `https://github.com/${REPO}`, workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*' };

let world: ReleaseWorld;
let dead: string;
let tarball: Buffer;
let integrity: string;
let bundles: { provenance: Record<string, unknown>; publish: Record<string, unknown> };
let files: Record<'tarball' | 'keys' | 'none' | 'empty' | 'publishOnly' | 'full' | 'publisherIndex', string>;

function sri(bytes: Buffer): { hex: string; integrity: string } {
  const hex = createHash('sha512').update(bytes).digest('hex');
  return { hex, integrity: `sha512-${Buffer.from(hex, 'hex').toString('base64')}` };
}

function statement(version: string, hex: string, predicateType: string): object {
  return { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: `pkg:npm/${NAME}@${version}`, digest: { sha512: hex } }], predicateType, predicate: {} };
}

function writeJson(name: string, value: unknown): string {
  const file = join(world.work, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

/** A packument as GET /NAME serves it, with one version. */
function packument(version: string, dist: Record<string, unknown>): Record<string, unknown> {
  return { name: NAME, 'dist-tags': { latest: version }, versions: { [version]: { name: NAME, version, dist: { tarball: `https://registry.example/${NAME}/-/${NAME}-${version}.tgz`, ...dist } } }, time: { [version]: new Date().toISOString() } };
}

/** Verifies the tarball offline with the mock roots; `--json` output parsed. */
async function offline(args: string[]): Promise<Run & { verdict: any }> {
  const run = await runVerify(['--tarball', files.tarball, '--package', `${NAME}@${VERSION}`, '--trusted-root', world.rootFile, '--registry-keys', files.keys, '--json', ...args], world.work, dead);
  let verdict: unknown;
  try {
    verdict = JSON.parse(run.stdout);
  } catch {
    verdict = undefined;
  }
  return { ...run, verdict };
}

const failures = (verdict: { results: Array<{ status: string; check: string; code?: string }> }): string[] => verdict.results.filter((r) => r.status === 'fail').map((r) => `${r.check}:${r.code}`);

beforeAll(async () => {
  world = await startReleaseWorld('mcs-adv-evidence-');
  dead = `http://127.0.0.1:${await closedPort()}/`;
  tarball = makePackage({ name: NAME, version: VERSION, type: 'module' }, { 'index.js': 'export default 1;\n' });
  const digest = sri(tarball);
  integrity = digest.integrity;
  bundles = {
    provenance: await world.sigstore.signStatement(statement(VERSION, digest.hex, SLSA_V1), { repository: REPO, ref: `refs/tags/v${VERSION}`, workflow: '.github/workflows/release.yml' }),
    publish: await world.sigstore.signStatementWithKey(statement(VERSION, digest.hex, NPM_PUBLISH_PREDICATE), world.key),
  };
  const publisherIndex = join(world.work, 'publisher-index');
  // the index pins the publisher and the version, recorded (wrongly or not) as published without provenance
  writeEntry(publisherIndex, npmDriver(NAME, { trust: { repository: PUBLISHER.repository, publisher: PUBLISHER }, versions: { [VERSION]: { integrity, size: tarball.length, provenance: false } } }));
  files = {
    tarball: join(world.work, 'pkg.tgz'),
    keys: writeJson('keys.json', keysResponse([{ key: world.key }])),
    none: '',
    empty: writeJson('empty.json', { attestations: [] }),
    publishOnly: writeJson('publish-only.json', { attestations: [{ predicateType: NPM_PUBLISH_PREDICATE, bundle: bundles.publish }] }),
    full: writeJson('full.json', { attestations: [{ predicateType: SLSA_V1, bundle: bundles.provenance }, { predicateType: NPM_PUBLISH_PREDICATE, bundle: bundles.publish }] }),
    publisherIndex,
  };
  writeFileSync(files.tarball, tarball);
});

afterAll(async () => {
  await world?.close();
});

describe('an expected publisher without provenance fails E_PROVENANCE_MISSING, offline', () => {
  it.each([
    ['no attestations file', 'none'],
    ['{"attestations":[]}', 'empty'],
    ["only npm's publish attestation (provenance stripped)", 'publishOnly'],
  ] as const)('--source-repo with %s: exit 1', async (_what, form) => {
    const run = await offline([...(form === 'none' ? [] : ['--attestations', files[form]]), '--source-repo', `github.com/${REPO}`]);
    expect(run.status).toBe(1);
    expect(run.verdict).toMatchObject({ status: 'failed', identitySource: 'command line' });
    expect(failures(run.verdict)).toEqual(['provenance:E_PROVENANCE_MISSING']);
  });

  it.each([
    ['no attestations file', 'none'],
    ['{"attestations":[]}', 'empty'],
    ["only npm's publish attestation", 'publishOnly'],
  ] as const)("the index's trust.publisher with %s: exit 1, even for a version pinned without provenance", async (_what, form) => {
    const run = await offline([...(form === 'none' ? [] : ['--attestations', files[form]]), '--index', files.publisherIndex]);
    expect(run.status).toBe(1);
    expect(run.verdict).toMatchObject({ status: 'failed', identitySource: 'index', indexed: { package: true, version: true } });
    expect(failures(run.verdict)).toEqual(['provenance:E_PROVENANCE_MISSING']);
  });

  it('passes the same tarball with its provenance (the control)', async () => {
    const run = await offline(['--attestations', files.full, '--source-repo', `github.com/${REPO}`]);
    expect(run.status).toBe(0);
    expect(run.verdict.status).toBe('verified');
  });
});

describe('an expected publisher without provenance fails E_PROVENANCE_MISSING, from the registry', () => {
  it('for a package the index does not list, given --source-repo, with provenance stripped or absent', async () => {
    const stripped = makePackage({ name: NAME, version: '2.0.0', type: 'module' }, { 'index.js': 'export default 2;\n' });
    const bare = makePackage({ name: NAME, version: '2.0.1', type: 'module' }, { 'index.js': 'export default 3;\n' });
    const strippedDigest = sri(stripped);
    world.registry.publish({
      name: NAME,
      version: '2.0.0',
      tarball: stripped,
      attestations: { attestations: [{ predicateType: NPM_PUBLISH_PREDICATE, bundle: await world.sigstore.signStatementWithKey(statement('2.0.0', strippedDigest.hex, NPM_PUBLISH_PREDICATE), world.key) }] },
      signatures: [signForRegistry(world.key, NAME, '2.0.0', strippedDigest.integrity)],
    });
    world.registry.publish({ name: NAME, version: '2.0.1', tarball: bare, signatures: [signForRegistry(world.key, NAME, '2.0.1', sri(bare).integrity)] });
    const emptyIndex = join(world.work, 'other-index');
    writeEntry(emptyIndex, npmDriver('mcs-driver-other'));
    const run = await runVerify([`${NAME}@2.0.0`, `${NAME}@2.0.1`, '--registry', world.registry.url, '--trusted-root', world.rootFile, '--index', emptyIndex, '--source-repo', `github.com/${REPO}`, '--json'], world.work, dead);
    expect(run.status).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.results).toHaveLength(2);
    for (const verdict of report.results) {
      expect(verdict).toMatchObject({ status: 'failed', identitySource: 'command line', indexed: { package: false, version: false } });
      expect(failures(verdict)).toEqual(['provenance:E_PROVENANCE_MISSING']);
    }
  });
});

describe('a digest is compared before integrity is reported', () => {
  it('--integrity that does not match the tarball: E_INTEGRITY_MISMATCH, exit 1', async () => {
    const other = sri(Buffer.from('another tarball')).integrity;
    const run = await offline(['--integrity', other]);
    expect(run.status).toBe(1);
    expect(failures(run.verdict)).toEqual(['integrity:E_INTEGRITY_MISMATCH']);
    expect(run.verdict.results.find((r: { check: string }) => r.check === 'integrity').evidence).toMatchObject({ expected: other, computed: integrity });
  });

  it('--integrity that matches: the integrity check passes and is no longer listed as not checked', async () => {
    const run = await offline(['--integrity', integrity]);
    expect(run.status).toBe(0);
    expect(run.verdict.results.find((r: { check: string }) => r.check === 'integrity')).toMatchObject({ status: 'pass', message: expect.stringContaining('the expected integrity') });
    expect(run.verdict.notChecked.map((n: { check: string }) => n.check)).not.toContain('integrity');
  });

  it('refuses an --integrity that is not a sha512 SRI (a sha1-only lockfile entry), exit 2', async () => {
    for (const value of ['sha1-' + createHash('sha1').update(tarball).digest('base64'), 'not-an-sri', '']) {
      const run = await offline(['--integrity', value]);
      expect(run.status, value).toBe(2);
      expect(run.verdict.error, value).toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/^--integrity: expected an SRI string with a sha512 digest/) });
    }
  });

  it('--packument with a good signature: integrity and registry signature both checked', async () => {
    const file = writeJson('packument-good.json', packument(VERSION, { integrity, signatures: [signForRegistry(world.key, NAME, VERSION, integrity)] }));
    const run = await offline(['--packument', file]);
    expect(run.status).toBe(0);
    expect(run.verdict.results.filter((r: { check: string }) => r.check === 'integrity' || r.check === 'registry-signature').map((r: { status: string }) => r.status)).toEqual(['pass', 'pass']);
  });

  it('--packument whose signature does not verify: E_SIGNATURE_INVALID, exit 1', async () => {
    const forged = sri(Buffer.from('what the key really signed')).integrity;
    const file = writeJson('packument-bad-sig.json', packument(VERSION, { integrity, signatures: [signForRegistry(world.key, NAME, VERSION, forged)] }));
    const run = await offline(['--packument', file]);
    expect(run.status).toBe(1);
    expect(failures(run.verdict)).toEqual(['registry-signature:E_SIGNATURE_INVALID']);
  });

  it('--packument without a signature, or whose dist.integrity is not the tarball: E_SIGNATURE_MISSING, E_INTEGRITY_MISMATCH', async () => {
    const unsigned = await offline(['--packument', writeJson('packument-unsigned.json', packument(VERSION, { integrity }))]);
    expect(unsigned.status).toBe(1);
    expect(failures(unsigned.verdict)).toEqual(['registry-signature:E_SIGNATURE_MISSING']);
    const other = sri(Buffer.from('other bytes')).integrity;
    const swapped = await offline(['--packument', writeJson('packument-other.json', packument(VERSION, { integrity: other, signatures: [signForRegistry(world.key, NAME, VERSION, other)] }))]);
    expect(swapped.status).toBe(1);
    expect(failures(swapped.verdict)).toEqual(['integrity:E_INTEGRITY_MISMATCH']);
  });

  it('--packument that lists attestations for the version while none are given: E_PROVENANCE_MISSING', async () => {
    const file = writeJson('packument-attested.json', packument(VERSION, { integrity, signatures: [signForRegistry(world.key, NAME, VERSION, integrity)], attestations: { url: `https://registry.example/-/npm/v1/attestations/${NAME}@${VERSION}`, provenance: { predicateType: SLSA_V1 } } }));
    const run = await offline(['--packument', file]);
    expect(run.status).toBe(1);
    expect(failures(run.verdict)).toEqual(['provenance:E_PROVENANCE_MISSING']);
  });

  it('--packument for another package or without the version: a coded error, exit 2', async () => {
    const otherName = await offline(['--packument', writeJson('packument-name.json', { ...packument(VERSION, { integrity }), name: 'mcs-driver-evil' })]);
    expect(otherName.status).toBe(2);
    expect(otherName.verdict.error.code).toBe('E_REGISTRY_MALFORMED');
    const noVersion = await offline(['--packument', writeJson('packument-version.json', packument('9.9.9', { integrity }))]);
    expect(noVersion.status).toBe(2);
    expect(noVersion.verdict.error).toMatchObject({ code: 'E_VERSION_NOT_FOUND', message: expect.stringContaining('no usable version 1.0.0') });
  });
});

describe('the verdict names the checks that did not run, and why', () => {
  it('with no evidence at all: every unrun check is named in text and --json, and integrity is never said to hold', async () => {
    const json = await offline([]);
    expect(json.status).toBe(0);
    expect(json.verdict.status).toBe('missing-provenance');
    expect(json.verdict.notChecked.map((n: { check: string }) => n.check)).toEqual(['integrity', 'registry-signature', 'provenance', 'identity', 'publish-attestation']);
    const reasons = Object.fromEntries(json.verdict.notChecked.map((n: { check: string; reason: string }) => [n.check, n.reason]));
    expect(reasons.integrity).toContain('--integrity');
    expect(reasons['registry-signature']).toContain('--packument');

    const text = await runVerify(['--tarball', files.tarball, '--package', `${NAME}@${VERSION}`, '--trusted-root', world.rootFile, '--registry-keys', files.keys], world.work, dead);
    expect(text.status).toBe(0);
    expect(text.stdout).not.toMatch(/integrity holds/);
    expect(text.stdout).toContain('not checked: integrity, registry-signature, provenance, identity, publish-attestation');
    expect(text.stdout).toMatch(/skip\s+registry-signature\s+.*--packument FILE/);
  });

  it('with --integrity, --packument and the attestations: nothing is left unchecked', async () => {
    const file = writeJson('packument-complete.json', packument(VERSION, { integrity, signatures: [signForRegistry(world.key, NAME, VERSION, integrity)] }));
    const run = await offline(['--integrity', integrity, '--packument', file, '--attestations', files.full, '--source-repo', `github.com/${REPO}`]);
    expect(run.status).toBe(0);
    expect(run.verdict.status).toBe('verified');
    expect(run.verdict.notChecked).toEqual([]);
  });
});
