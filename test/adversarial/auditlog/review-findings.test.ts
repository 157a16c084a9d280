/**
 * The signed audit log against someone who can write the index folder, or
 * sign snapshots, but not forge a maintainer's record: re-adoption of a
 * forged record, content the signed log does not explain, a snapshot
 * without its log, label notes, a hand-written Verified, unchecked
 * signatures shown as signed, and a log larger than signed.
 */
import { createPublicKey } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateIndexDir } from '../../../src/index/build.js';
import { initLog, setLabel, setQuarantine, upgradeLog, yankVersion } from '../../../src/maintain/edit.js';
import { LOG_FILE } from '../../../src/maintain/log.js';
import { keyIdOf, makeRoot, signMetadata } from '../../../src/snapshot/metadata.js';
import { logFileName, publishSnapshot, updateIndex } from '../../../src/snapshot/publish.js';
import { SAMPLE_SHA512, npmDriver, removeDir, tempDir, writeEntry } from '../../helpers/index-data.js';
import { FORGED_NOTES, appendForged, cli, editEntry, forgeSnapshot, maintainer, signerFor, type Maintainer } from './signed-index.js';

const PUBLISHER = { issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/acme/csv', workflow: '.github/workflows/release.yml' };
const CSV = npmDriver('mcs-driver-csv', { trust: { repository: PUBLISHER.repository, publisher: PUBLISHER }, versions: { '1.0.0': { integrity: SAMPLE_SHA512, size: 10, provenance: true }, '1.1.0': { integrity: SAMPLE_SHA512, size: 10, provenance: true } } });

let work: string;
let indexDir: string;
let rootFile: string;
let alice: Maintainer;
let bob: Maintainer;
let carol: Maintainer;
let mallory: Maintainer;

const codes = () => validateIndexDir(indexDir).problems.map((p) => p.code);
const logText = () => readFileSync(join(indexDir, LOG_FILE), 'utf8');
const rootOf = (version: number, members: Maintainer[], signers: Maintainer[]) =>
  JSON.stringify(signMetadata(makeRoot({ version, expires: '2030-01-01T00:00:00Z', maintainers: members.map((m) => createPublicKey(m.key)), names: members.map((m) => m.name), threshold: 1 }), signers.map((m) => m.key)));
/** index label's registry check, as if every version verified. */
const allVerify = async (_name: string, versions: string[]) => new Map(versions.map((v) => [v, [] as string[]]));

beforeEach(() => {
  work = tempDir('mcs-review-log-');
  indexDir = join(work, 'index-data');
  [alice, bob, carol, mallory] = ['alice', 'bob', 'carol', 'mallory'].map((name) => maintainer(work, name)) as [Maintainer, Maintainer, Maintainer, Maintainer];
  rootFile = join(work, 'root.json');
  writeFileSync(rootFile, rootOf(1, [alice, carol], [alice, carol]));
  writeEntry(indexDir, CSV);
  writeEntry(indexDir, npmDriver('mcs-driver-rest'));
  copyFileSync(rootFile, join(indexDir, 'root.json'));
  initLog(indexDir, { key: alice.key, why: 'start the signed log' });
});
afterEach(() => removeDir(work));

describe('re-adoption vouches only for records a root of the rotation chain can check', () => {
  it('refuses to adopt a record signed by a key no root lists, credited to a real maintainer, and no message offers --upgrade as the way out', () => {
    yankVersion(indexDir, 'mcs-driver-csv', '1.0.0', { key: alice.key, why: 'reads outside baseDir' });
    appendForged(indexDir, [{ package: 'npm:mcs-driver-csv', field: 'yanked', version: '1.0.0', before: 'reads outside baseDir', after: null }], signerFor(mallory.key, 'alice'));
    editEntry(indexDir, 'mcs-driver-csv', (entry) => delete entry.versions['1.0.0'].yanked);
    expect(codes()).toEqual(['E_LOG_SIGNATURE']);
    expect(validateIndexDir(indexDir).problems[0]!.message).not.toMatch(/--upgrade --key/);
    const before = logText();
    const upgrade = cli(work, ['index', 'log', '--upgrade', '--key', alice.file, '--reason', 'adopt', '--index', indexDir]);
    expect(upgrade.status).toBe(1);
    expect(upgrade.stderr).toMatch(/^error E_LOG_SIGNATURE: .*neither the current index root nor a previous root given/);
    // after a real rotation, the root it rotated from does not list mallory either; and a root that is not a previous one is refused
    expect(() => upgradeLog(indexDir, { key: alice.key, why: 'adopt' }, { previousRoots: [rootFile] })).toThrowWithCode('E_INDEX_ROOT');
    writeFileSync(join(indexDir, 'root.json'), rootOf(2, [alice, bob], [alice, bob]));
    const withRoot = cli(work, ['index', 'log', '--upgrade', '--previous-root', rootFile, '--key', alice.file, '--reason', 'adopt', '--index', indexDir]);
    expect(withRoot.status).toBe(1);
    expect(withRoot.stderr).toMatch(/^error E_LOG_SIGNATURE: /);
    expect(logText()).toBe(before);
    expect(codes()).toEqual(['E_LOG_SIGNATURE']);
  });

  it('adopts the records of a key rotated out only against the root that listed it, listing what it vouches for', () => {
    setQuarantine(indexDir, 'mcs-driver-rest', true, { key: carol.key, why: 'report 7' });
    // root version 2 drops carol and adds bob, signed by version 1's root keys
    const root2 = join(work, 'root2.json');
    writeFileSync(root2, rootOf(2, [alice, bob], [alice, bob]));
    copyFileSync(root2, join(indexDir, 'root.json'));
    expect(codes()).toEqual(['E_LOG_SIGNATURE']);
    expect(() => upgradeLog(indexDir, { key: bob.key, why: 'root version 2' })).toThrowWithCode('E_LOG_SIGNATURE');
    // a "previous root" made up for the purpose does not rotate to the current one
    const madeUp = join(work, 'made-up.json');
    writeFileSync(madeUp, rootOf(1, [carol, mallory], [carol, mallory]));
    expect(() => upgradeLog(indexDir, { key: bob.key, why: 'root version 2' }, { previousRoots: [madeUp] })).toThrowWithCode('E_INDEX_ROOT');
    const upgrade = cli(work, ['index', 'log', '--upgrade', '--previous-root', rootFile, '--key', bob.file, '--reason', 'root version 2', '--index', indexDir]);
    expect(upgrade.stderr).toBe('');
    expect(upgrade.status).toBe(0);
    expect(upgrade.stdout).toMatch(/Vouches for 1 record\(s\), #(\d+)-#\1, by: carol \(key [0-9a-f]{16}, previous root\)/);
    expect(codes()).toEqual([]);
    // once adopted, the old key's records need no previous root again: a later upgrade has nothing to vouch for
    expect(upgradeLog(indexDir, { key: bob.key, why: 'nothing new' })).toEqual([]);
  });

  it('refuses, even against the previous root, a record of a rotated-out key that claims another name', () => {
    appendForged(indexDir, [{ package: 'npm:mcs-driver-rest', field: 'quarantine', before: null, after: 'review 42' }], signerFor(carol.key, 'alice'));
    editEntry(indexDir, 'mcs-driver-rest', (entry) => (entry.quarantine = { reason: 'review 42' }));
    writeFileSync(join(indexDir, 'root.json'), rootOf(2, [alice, bob], [alice, bob]));
    expect(() => upgradeLog(indexDir, { key: bob.key, why: 'root version 2' }, { previousRoots: [rootFile] })).toThrowWithCode('E_LOG_SIGNATURE');
  });
});

describe('label notes and Verified', () => {
  it('refuses label.by, label.at or label.reason that the last signed label record does not say; index label writes them as recorded', async () => {
    const records = await setLabel(indexDir, 'mcs-driver-csv', 'verified', { key: alice.key, why: 'audited' }, allVerify);
    const record = records.find((r) => r.field === 'label')!;
    const entry = JSON.parse(readFileSync(join(indexDir, 'npm', 'mcs-driver-csv.json'), 'utf8'));
    expect(entry.label).toEqual({ value: 'verified', by: 'alice', at: record.at, reason: 'audited' });
    await setLabel(indexDir, 'mcs-driver-rest', 'reference', { key: alice.key, why: 'our own' }, allVerify);
    expect(codes()).toEqual([]);
    editEntry(indexDir, 'mcs-driver-csv', (e) => (e.label = { ...e.label, by: 'security-team', reason: 'external audit passed' }));
    const problems = validateIndexDir(indexDir).problems;
    expect(problems.map((p) => p.code)).toEqual(['E_LOG_UNEXPLAINED', 'E_LOG_UNEXPLAINED']);
    expect(problems[0]!.message).toMatch(/\/label\/by is "security-team", but audit log record #\d+, which set the label, says "alice"/);
    expect(problems[1]!.message).toMatch(/\/label\/reason/);
    const validate = cli(work, ['index', 'validate', '--index', indexDir]);
    expect(validate.status).toBe(1);
    await expect(publishSnapshot({ indexDir, outDir: join(work, 'snap'), root: rootFile, keys: [alice.file], version: 1 })).rejects.toThrowWithCode('E_LOG_UNEXPLAINED');
    editEntry(indexDir, 'mcs-driver-csv', (e) => (e.label = { ...entry.label, at: '2026-01-01T00:00:00.000Z' }));
    expect(validateIndexDir(indexDir).problems[0]!.message).toMatch(/\/label\/at/);
  });

  it('index log --init does not sign a hand-written Verified; it joins as community or reference, then index label', () => {
    const fresh = join(work, 'fresh');
    writeEntry(fresh, { ...CSV, label: { value: 'verified', by: 'alice', at: '2026-01-01T00:00:00Z', reason: 'typed by hand' } });
    copyFileSync(rootFile, join(fresh, 'root.json'));
    const init = cli(work, ['index', 'log', '--init', '--key', alice.file, '--reason', 'start', '--index', fresh]);
    expect(init.status).toBe(1);
    expect(init.stderr).toMatch(/^error E_LABEL_REQUIREMENTS: npm:mcs-driver-csv \(verified\): .*only index label verified sets.*set its label to community or reference/);
    expect(existsSync(join(fresh, LOG_FILE))).toBe(false);
    // on a log that exists, a hand-written entry joins as community only
    writeEntry(indexDir, { ...npmDriver('mcs-driver-xml'), label: { value: 'verified', by: 'alice', at: '2026-01-01T00:00:00Z', reason: 'typed by hand' } });
    const before = logText();
    expect(() => initLog(indexDir, { key: alice.key, why: 'join' })).toThrowWithCode('E_LABEL_REQUIREMENTS');
    expect(logText()).toBe(before);
  });

  it('index sync on an entry the log does not know is E_LOG_UNEXPLAINED, before any registry is asked', () => {
    writeEntry(indexDir, npmDriver('mcs-driver-xml'));
    const sync = cli(work, ['index', 'sync', 'mcs-driver-xml', '--key', alice.file, '--reason', 'sync', '--index', indexDir, '--registry', 'http://127.0.0.1:9']);
    expect(sync.stdout).not.toMatch(/Nothing new/);
    expect(sync.stderr).toMatch(/^error E_LOG_UNEXPLAINED: npm:mcs-driver-xml: not in the audit log/);
    expect(sync.status).toBe(1);
  });
});

describe('info says signed only for a signature it checked', () => {
  it('fails on a bad signature by a listed key, and says not checked where the folder keeps no root', () => {
    appendForged(indexDir, [{ package: 'npm:mcs-driver-rest', field: 'label', before: 'community', after: 'reference' }], { keyid: keyIdOf(createPublicKey(alice.key)), by: 'alice', sign: () => 'AAAA' });
    editEntry(indexDir, 'mcs-driver-rest', (e) => (e.label = { value: 'reference', ...FORGED_NOTES }));
    const info = cli(work, ['info', 'mcs-driver-rest', '--index', indexDir]);
    expect(info.stdout).not.toMatch(/signed by key/);
    expect(info.stderr).toMatch(/^error E_LOG_SIGNATURE: .*does not verify/);
    expect(info.status).toBe(1);
    // the same log with no root to check it against
    rmSync(join(indexDir, 'root.json'));
    const unchecked = cli(work, ['info', 'mcs-driver-rest', '--index', indexDir]);
    expect(unchecked.status).toBe(0);
    expect(unchecked.stdout).toMatch(/audit log record #\d+ by alice \(signature not checked: no root\)/);
    expect(unchecked.stdout).not.toMatch(/signed by key/);
  });
});

describe('the client checks received content against the signed log', () => {
  async function publishedAndInstalled(): Promise<{ out: string; state: string; current: string }> {
    yankVersion(indexDir, 'mcs-driver-csv', '1.0.0', { key: alice.key, why: 'reads outside baseDir' });
    await setLabel(indexDir, 'mcs-driver-csv', 'verified', { key: alice.key, why: 'audited' }, allVerify);
    const out = join(work, 'snap');
    await publishSnapshot({ indexDir, outDir: out, root: rootFile, keys: [alice.file], version: 1 });
    const state = join(work, 'state');
    const result = await updateIndex({ from: out, stateDir: state, root: rootFile });
    return { out, state, current: realpathSync(result.indexDir) };
  }
  const csvOf = (entries: Array<{ path: string; entry: any }>) => entries.find((e) => e.path === 'npm/mcs-driver-csv.json')!.entry;

  it('refuses content a snapshot signer changed under the same signed log (an un-yank, label notes), keeping the working index', async () => {
    const { out, state, current } = await publishedAndInstalled();
    forgeSnapshot(out, [alice.key], (entries) => delete csvOf(entries).versions['1.0.0'].yanked);
    await expect(updateIndex({ from: out, stateDir: state })).rejects.toThrowWithCode('E_LOG_UNEXPLAINED');
    forgeSnapshot(out, [alice.key], (entries) => (csvOf(entries).label = { ...csvOf(entries).label, by: 'security-team', reason: 'full audit' }));
    await expect(updateIndex({ from: out, stateDir: state })).rejects.toThrowWithCode('E_LOG_UNEXPLAINED');
    forgeSnapshot(out, [alice.key], (entries) => {
      const csv = csvOf(entries);
      delete csv.trust;
      for (const record of Object.values(csv.versions) as Array<{ provenance: boolean }>) record.provenance = false;
    });
    await expect(updateIndex({ from: out, stateDir: state })).rejects.toThrowWithCode('E_LABEL_REQUIREMENTS');
    expect(realpathSync(join(state, 'current'))).toBe(current);
    expect(readdirSync(state).filter((n) => n.includes('partial'))).toEqual([]);
  });

  it('refuses a snapshot that signs no log, keeping the log the client holds', async () => {
    const { out, state, current } = await publishedAndInstalled();
    forgeSnapshot(out, [alice.key], () => {}, (signed) => delete signed.log);
    await expect(updateIndex({ from: out, stateDir: state })).rejects.toThrowWithCode('E_LOG_CHAIN');
    expect(realpathSync(join(state, 'current'))).toBe(current);
    expect(existsSync(join(current, LOG_FILE))).toBe(true);
    const update = cli(work, ['update', '--from', out, '--cache-dir', join(work, 'cli-cache'), '--root', rootFile]);
    expect(update.stderr).toMatch(/^error E_LOG_CHAIN: snapshot\.json: the snapshot signs no audit log/);
    expect(update.status).toBe(1);
  });

  it('signs the log length and reads no byte past it', async () => {
    const { out, state, current } = await publishedAndInstalled();
    setQuarantine(indexDir, 'mcs-driver-rest', true, { key: alice.key, why: 'report 7' });
    await publishSnapshot({ indexDir, outDir: out, root: rootFile, keys: [alice.file] });
    const { signed } = JSON.parse(readFileSync(join(out, 'snapshot.json'), 'utf8'));
    const served = join(out, logFileName(signed.log.head));
    expect(signed.log.length).toBe(statSync(served).size);
    appendFileSync(served, '\n');
    await expect(updateIndex({ from: out, stateDir: state })).rejects.toThrowWithCode('E_INDEX_TOO_LARGE');
    expect(realpathSync(join(state, 'current'))).toBe(current);
  });
});
