/**
 * `mcs-pkg verify pypi:NAME[@VERSION]` run as a user runs it, against the
 * loopback PyPI: the index chosen as pip chooses it, exit codes, the plain
 * words for a driver pinned by digest alone, --json, and a real Trusted
 * Publishing file (../shared/real-pypi) served online and verified against
 * the shipped public-good root.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, errorOf } from '../helpers/cli.js';
import { startFixturePypi, type FixturePypi } from '../helpers/fixture-pypi.js';
import { removeDir, tempDir } from '../helpers/index-data.js';
import { HAVE_REAL_PYPI, realPypi, realPypiJson } from '../helpers/real-pypi.js';
import { PLAIN_SDIST, TP_SDIST, TP_WHEEL, startPypiWorld, type PypiWorld } from '../pypi/fixture-index.js';

let scratch: string;
let world: PypiWorld;
let env: Record<string, string>;

beforeAll(async () => {
  scratch = tempDir('mcs-verify-pypi-');
  world = await startPypiWorld(scratch);
  // pip's own configuration names the loopback index: no --index-url needed
  mkdirSync(join(scratch, 'home', '.config', 'pip'), { recursive: true });
  writeFileSync(join(scratch, 'home', '.config', 'pip', 'pip.conf'), `[global]\nindex-url = ${world.pypi.indexUrl}\n`);
  env = { HOME: join(scratch, 'home'), MCS_PKG_CACHE: join(scratch, 'cache') };
}, 60_000);
afterAll(async () => {
  await world?.close();
  removeDir(scratch);
});

const verify = (args: string[], extraEnv: Record<string, string> = {}) => runCli(['verify', ...args, '--index', world.indexDir, '--trusted-root', world.rootFile], { ...env, ...extraEnv }, 60_000);

describe('mcs-pkg verify pypi:NAME', () => {
  it('verifies a Trusted Publishing driver end to end from the index pip is configured with, exit 0', async () => {
    const run = await verify(['pypi:mcs-driver-tp']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('pypi:mcs-driver-tp@1.0.0  verified');
    expect(lines[1]).toBe(`  version: newest pinned; the index's newest is 1.1.0; PyPI index: ${world.pypi.indexUrl} (from ${join(scratch, 'home', '.config', 'pip', 'pip.conf')} [global])`);
    expect(run.stdout).toContain(`mcs-driver-tp@1.0.0  ${TP_WHEEL}  verified`);
    expect(run.stdout).toContain(`mcs-driver-tp@1.0.0  ${TP_SDIST}  verified`);
  });

  it('says plainly that a driver without provenance is pinned by digest, exit 0; as JSON too', async () => {
    const run = await verify(['pypi:mcs-driver-plain']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('pypi:mcs-driver-plain@0.1.3  pinned by digest: every file matches its pin (no provenance expected)');
    expect(run.stdout).toContain(`${PLAIN_SDIST}: no provenance expected: pinned by digest`);
    expect(run.stdout).toContain(`mcs-driver-plain@0.1.3  ${PLAIN_SDIST}  pinned by digest (no provenance expected)`);
    const json = JSON.parse((await verify(['pypi:mcs-driver-plain', '--json'])).stdout);
    expect(json.results[0]).toMatchObject({ package: 'mcs-driver-plain', version: '0.1.3', status: 'pinned-by-digest', versionSource: 'newest pinned', newestOnIndex: '0.1.4' });
  });

  it('an unpinned version exits 1 saying so, and 0 with --digest-only', async () => {
    const strict = await verify(['pypi:mcs-driver-plain@0.1.4']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('unpinned: the index does not pin this version (not verified)');
    expect(strict.stdout).toContain('E_POLICY_UNPINNED');
    expect((await verify(['pypi:mcs-driver-plain@0.1.4', '--digest-only'])).code).toBe(0);
  });

  it('--index-url wins over pip\'s configuration and PIP_INDEX_URL', async () => {
    const dead = 'http://127.0.0.1:9/simple/';
    const run = await verify(['pypi:mcs-driver-plain', '--index-url', world.pypi.indexUrl, '--json'], { PIP_INDEX_URL: dead });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).results[0]).toMatchObject({ indexUrl: world.pypi.indexUrl, indexSource: '--index-url' });
    const viaEnv = await verify(['pypi:mcs-driver-plain', '--json'], { PIP_INDEX_URL: dead });
    expect(viaEnv.code).toBe(2);
    expect(JSON.parse(viaEnv.stdout).results[0].error.code).toBe('E_REGISTRY_NETWORK');
  });

  it('a tampered file exits 1 with its code in the JSON', async () => {
    await world.pypi.misbehave({ kind: 'flip-bit', filename: TP_WHEEL });
    try {
      const run = await verify(['pypi:mcs-driver-tp', '--json']);
      expect(run.code).toBe(1);
      const files = JSON.parse(run.stdout).results[0].files;
      expect(files.find((f: { filename: string }) => f.filename === TP_WHEEL).error.code).toBe('E_INTEGRITY_MISMATCH');
    } finally {
      world.pypi.clearMisbehavior();
    }
  });

  it.each([
    ['npm and PyPI packages together', ['pypi:mcs-driver-tp', 'mcs-driver-csv']],
    ['--registry with a PyPI package', ['pypi:mcs-driver-tp', '--registry', 'http://127.0.0.1:9/']],
    ['--index-url with an npm package', ['mcs-driver-csv', '--index-url', 'http://127.0.0.1:9/simple/']],
    ['--offline', ['pypi:mcs-driver-tp', '--offline']],
  ])('%s is E_USAGE, exit 2', async (_, args) => {
    const run = await verify([...args, '--json']);
    expect(run.code).toBe(2);
    expect(errorOf(run).code).toBe('E_USAGE');
  });
});

describe.skipIf(!HAVE_REAL_PYPI)('mcs-pkg verify pypi:NAME, a real Trusted Publishing file served online', () => {
  let pypi: FixturePypi;
  beforeAll(async () => {
    pypi = await startFixturePypi({
      projects: [{ name: 'pypi-attestations', files: [{ filename: 'pypi_attestations-0.0.19.tar.gz', bytes: realPypi('pypi_attestations-0.0.19.tar.gz'), provenance: realPypiJson('pypi_attestations-0.0.19.tar.gz.provenance') as Record<string, unknown> }] }],
    });
  });
  afterAll(async () => {
    await pypi?.close();
  });

  it('verifies against the shipped public-good root and the publisher given, and fails on another workflow', async () => {
    const args = ['verify', 'pypi:pypi-attestations@0.0.19', '--index-url', pypi.indexUrl, '--trusted-root', 'shipped', '--source-repo', 'github.com/trailofbits/pypi-attestations', '--ref', 'refs/tags/v*', '--digest-only', '--json'];
    const good = await runCli([...args, '--workflow', 'release.yml'], env, 60_000);
    expect(good.code).toBe(0);
    const [result] = JSON.parse(good.stdout).results;
    expect(result).toMatchObject({ pinned: false, status: 'unpinned' });
    expect(result.files[0]).toMatchObject({ status: 'verified', identitySource: 'command line' });
    const bad = await runCli([...args, '--workflow', 'publish.yml'], env, 60_000);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).results[0].files[0].results.find((r: { check: string }) => r.check === 'identity')).toMatchObject({ code: 'E_IDENTITY_MISMATCH' });
  });
});
