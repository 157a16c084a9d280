/**
 * An installed index whose snapshot has expired may be a frozen one (a yank
 * or a withdrawn label never arrives): load refuses it unless the caller
 * opts in; search and info keep working but say so on standard error and
 * in --json. Leftovers of killed updates and builds go on the next run.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDriver } from '../../../src/loader/load.js';
import { resolveDriver } from '../../../src/loader/resolve.js';
import { initLog, recordNewEntry } from '../../../src/maintain/edit.js';
import type { IndexEntry } from '../../../src/manifest/types.js';
import { openIndex, storeDirFor } from '../../../src/index/store.js';
import { makeRoot, signMetadata } from '../../../src/snapshot/metadata.js';
import { publishSnapshot, updateIndex } from '../../../src/snapshot/publish.js';
import { fixtureMcs, packFixtureDriver } from '../../helpers/driver-packages.js';
import { publishSigned, startReleaseWorld, type ReleaseWorld } from '../../helpers/publish.js';
import { errorOf, runCli } from '../../helpers/cli.js';

const DAY = 86_400_000;
let world: ReleaseWorld;
let indexDir: string;
let outDir: string;
let rootFile: string;
let keyFile: string;
/** A cache holding an index installed from a snapshot that expired yesterday, and one from a current snapshot. */
let expiredCache: string;
let freshCache: string;

async function install(cache: string, now: Date): Promise<void> {
  const out = join(outDir, String(now.getTime()));
  await publishSnapshot({ indexDir, outDir: out, root: rootFile, keys: [keyFile], version: 1, expiresDays: 2, now });
  await updateIndex({ from: out, stateDir: join(cache, 'index-state'), root: rootFile, now });
}

beforeAll(async () => {
  world = await startReleaseWorld('mcs-reads-expired-');
  indexDir = join(world.work, 'index');
  outDir = join(world.work, 'published');
  // released to the registry, then added to the index through the audit log as a maintainer would
  const scratch = join(world.work, 'scratch');
  await publishSigned({ registry: world.registry, sigstore: world.sigstore, key: world.key, indexDir: scratch, repository: 'acme/drivers' }, { name: 'mcs-driver-csv', version: '1.0.0', tarball: packFixtureDriver('csv', { name: 'mcs-driver-csv', version: '1.0.0' }), drivers: fixtureMcs('csv', '1.0.0').drivers as never });
  // the index keeps its root, whose maintainer key signs the audit log
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  keyFile = join(world.work, 'maintainer.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  rootFile = join(world.work, 'root.json');
  writeFileSync(rootFile, JSON.stringify(signMetadata(makeRoot({ version: 1, expires: new Date(Date.now() + 365 * DAY).toISOString(), maintainers: [publicKey], threshold: 1 }), [privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()])));
  mkdirSync(indexDir, { recursive: true });
  copyFileSync(rootFile, join(indexDir, 'root.json'));
  const maintainer = { key: privateKey, why: 'reviewed' };
  initLog(indexDir, maintainer);
  recordNewEntry(indexDir, JSON.parse(readFileSync(join(scratch, 'npm', 'mcs-driver-csv.json'), 'utf8')) as IndexEntry, maintainer);
  expiredCache = join(world.work, 'expired-cache');
  freshCache = join(world.work, 'fresh-cache');
  // published and installed three days ago, valid for two: expired since yesterday
  await install(expiredCache, new Date(Date.now() - 3 * DAY));
  await install(freshCache, new Date());
});
afterAll(async () => world?.close());

const cli = (args: string[], cache: string) => runCli([...args, '--json'], { HOME: world.work, MCS_PKG_CACHE: cache }, 60_000);
const loadArgs = () => ['load', 'mcs-driver-csv', '--registry', world.registry.url, '--trusted-root', world.rootFile, '--config', JSON.stringify({ baseDir: world.work })];

describe('an expired installed snapshot', () => {
  it('load refuses it with E_INDEX_EXPIRED (exit 1), naming both ways out', async () => {
    const run = await cli(loadArgs(), expiredCache);
    expect(run.code, run.stderr + run.stdout).toBe(1);
    const error = errorOf(run);
    expect(error.code).toBe('E_INDEX_EXPIRED');
    expect(error.message).toMatch(/snapshot version 1\) expired at .*Run mcs-pkg update.*--allow-expired-index/);
    expect(world.registry.requests.some((r) => r.path.includes('mcs-driver-csv'))).toBe(false);
  });

  it('load --allow-expired-index loads, warns, and says so in the receipt', async () => {
    const run = await cli([...loadArgs(), '--allow-expired-index'], expiredCache);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stderr).toMatch(/^warning: the installed index \(snapshot version 1\) expired at /m);
    const receipt = (JSON.parse(run.stdout) as { receipt: { package: string; index: { expired: boolean; snapshot: number; expires: string } } }).receipt;
    expect(receipt.package).toBe('mcs-driver-csv');
    expect(receipt.index).toMatchObject({ expired: true, snapshot: 1 });
  });

  it('the library refuses the same way, and accepts allowExpiredIndex', async () => {
    // a driver cache of its own: nothing is cached, so an accepted index leads to the registry
    const options = { index: { cacheDir: expiredCache }, cacheDir: join(world.work, 'library-loader'), trustedRoot: world.rootFile, registry: { registry: 'http://127.0.0.1:9/', retries: 0 } };
    await expect(loadDriver('mcs-driver-csv', options)).toThrowWithCode('E_INDEX_EXPIRED');
    // opted in, it gets past the index check to the registry, which is not there
    await expect(loadDriver('mcs-driver-csv', { ...options, allowExpiredIndex: true })).toThrowWithCode('E_REGISTRY_NETWORK');
  });

  it('search and info still answer, warn on standard error, and say so in --json', async () => {
    for (const args of [['search', 'csv'], ['info', 'mcs-driver-csv']]) {
      const run = await cli(args, expiredCache);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/^warning: the installed index \(snapshot version 1\) expired at .*Run mcs-pkg update/m);
      const index = (JSON.parse(run.stdout) as { index: { expired: boolean; expires: string; snapshot: number } }).index;
      expect(index).toMatchObject({ expired: true, snapshot: 1 });
      expect(Date.parse(index.expires)).toBeLessThan(Date.now());
    }
  });

  it('verify (registry mode, --installed, --tarball) warns on standard error and says so in --json', async () => {
    const project = join(world.work, 'project');
    mkdirSync(join(project, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(join(project, 'node_modules', 'left-pad', 'package.json'), JSON.stringify({ name: 'left-pad', version: '1.3.0' }));
    const tarball = join(world.work, 'csv.tgz');
    writeFileSync(tarball, packFixtureDriver('csv', { name: 'mcs-driver-csv', version: '1.0.0' }));
    for (const args of [
      ['verify', 'mcs-driver-csv@1.0.0', '--registry', world.registry.url, '--trusted-root', world.rootFile],
      ['verify', '--installed', project, '--registry', world.registry.url, '--trusted-root', world.rootFile],
      ['verify', '--tarball', tarball, '--package', 'mcs-driver-csv@1.0.0'],
    ]) {
      const run = await cli(args, expiredCache);
      expect(run.stderr, args.join(' ')).toMatch(/^warning: the installed index \(snapshot version 1\) expired at .*Run mcs-pkg update/m);
      expect((JSON.parse(run.stdout) as { index: unknown }).index, args.join(' ')).toMatchObject({ expired: true, snapshot: 1 });
      const fresh = await cli(args, freshCache);
      expect(fresh.stderr).not.toMatch(/expired/);
      expect((JSON.parse(fresh.stdout) as { index: unknown }).index).toMatchObject({ expired: false, snapshot: 1 });
    }
  });

  it('resolveDriver refuses it with E_INDEX_EXPIRED unless allowExpiredIndex, as loadDriver does', async () => {
    const index = await openIndex({ cacheDir: expiredCache });
    try {
      expect(() => resolveDriver(index, 'csv', {})).toThrowWithCode('E_INDEX_EXPIRED');
      expect(() => resolveDriver(index, 'mcs-driver-csv')).toThrowWithCode('E_INDEX_EXPIRED');
      expect(resolveDriver(index, 'mcs-driver-csv', { allowExpiredIndex: true }).chosen).toMatchObject({ name: 'mcs-driver-csv', version: '1.0.0' });
    } finally {
      index.close();
    }
    const fresh = await openIndex({ cacheDir: freshCache });
    try {
      expect(resolveDriver(fresh, 'mcs-driver-csv').chosen).toMatchObject({ name: 'mcs-driver-csv' });
    } finally {
      fresh.close();
    }
  });

  it('a current snapshot: no warning, index.expired false', async () => {
    const run = await cli(['search', 'csv'], freshCache);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/expired/);
    expect((JSON.parse(run.stdout) as { index: { expired: boolean } }).index.expired).toBe(false);
  });
});

describe('leftovers of killed runs', () => {
  /** The id of a process that has exited. */
  const deadPid = (): number => Number(execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }));

  it('the next update removes a dead update\'s partial folder, link and temporary state file, and keeps a live one\'s', async () => {
    const state = join(freshCache, 'index-state');
    const dead = deadPid();
    const stale = [`index-data.7.partial-${dead}`, `current.${dead}.tmp`, `state.json.${dead}.0badc0de.tmp`];
    mkdirSync(join(state, stale[0]!, 'npm'), { recursive: true });
    writeFileSync(join(state, stale[0]!, 'npm', 'mcs-driver-x.json'), '{}');
    writeFileSync(join(state, stale[1]!), '');
    writeFileSync(join(state, stale[2]!), '{}');
    const live = `index-data.8.partial-${process.pid}`;
    mkdirSync(join(state, live));
    const run = await runCli(['update', '--json', '--from', join(outDir, readdirNewest()), '--cache-dir', freshCache], { HOME: world.work }, 60_000);
    expect(run.code, run.stderr).toBe(0);
    for (const name of stale) expect(existsSync(join(state, name)), name).toBe(false);
    expect(existsSync(join(state, live))).toBe(true);
  });

  it('opening the index removes a dead build\'s partial database', async () => {
    const index = await openIndex({ cacheDir: freshCache });
    const store = storeDirFor(index.status.indexDir, freshCache);
    index.close();
    const partial = join(store, `index-abc123-${deadPid()}-0badc0de.sqlite.partial`);
    writeFileSync(partial, 'half a database');
    writeFileSync(`${partial}-journal`, '');
    const run = await runCli(['search', 'csv', '--json'], { HOME: world.work, MCS_PKG_CACHE: freshCache }, 60_000);
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(partial)).toBe(false);
    expect(existsSync(`${partial}-journal`)).toBe(false);
  });
});

/** The newest publishing folder (the fresh snapshot). */
function readdirNewest(): string {
  return String(Math.max(...readdirSync(outDir).map(Number)));
}
