/**
 * Forged history: someone who can write the index folder, but holds no
 * maintainer key, appends correctly chained records, edits entries to match,
 * cuts records off, or signs with a key of their own. validate, publish and
 * the client's update must each refuse, with a code.
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateIndexDir } from '../../../src/index/build.js';
import { initLog, loadLog, recordChange, setQuarantine, yankVersion } from '../../../src/maintain/edit.js';
import { LOG_FILE, appendLines, lineHash, type RecordSigner } from '../../../src/maintain/log.js';
import { keyIdOf, makeRoot, signMetadata } from '../../../src/snapshot/metadata.js';
import { logFileName, publishSnapshot, updateIndex } from '../../../src/snapshot/publish.js';
import { SAMPLE_SHA512, npmDriver, removeDir, tempDir, writeEntry } from '../../helpers/index-data.js';
import { canonical } from '../../../src/contract/index.js';

const BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url));
const PUBLISHER = { issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/acme/csv', workflow: '.github/workflows/release.yml' };

interface Maintainer {
  name: string;
  key: KeyObject;
  file: string;
}

let work: string;
let indexDir: string;
let rootFile: string;
let alice: Maintainer;
let bob: Maintainer;
let mallory: Maintainer;

function maintainer(name: string): Maintainer {
  const { privateKey } = generateKeyPairSync('ed25519');
  const file = join(work, `${name}.pem`);
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { name, key: createPrivateKey(readFileSync(file)), file };
}

/** A signer as an attacker builds one: any key, any name. */
function signerFor(key: KeyObject, by: string): RecordSigner {
  return { keyid: keyIdOf(createPublicKey(key)), by, sign: (bytes) => sign(null, bytes, key).toString('base64') };
}

/** Appends records chained to the log's last line, as anyone who can write the file can. */
function appendForged(records: Array<Record<string, unknown>>, signer?: RecordSigner): void {
  const file = join(indexDir, LOG_FILE);
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const at = '2026-12-01T00:00:00.000Z';
  const full = records.map((r) => ({ at, by: 'alice', why: 'review 42', ...r })) as unknown as Parameters<typeof appendLines>[2];
  appendFileSync(file, appendLines(lines[lines.length - 1], lines.length, full, signer).map((l) => l + '\n').join(''));
}

function editEntry(name: string, edit: (entry: any) => void): void {
  const file = join(indexDir, 'npm', `${name}.json`);
  const entry = JSON.parse(readFileSync(file, 'utf8'));
  edit(entry);
  writeFileSync(file, JSON.stringify(entry, null, 2) + '\n');
}

/** The label notes of a record appendForged writes: a signed label record's by, at and why, which the entry's label must repeat. */
const FORGED_NOTES = { by: 'alice', at: '2026-12-01T00:00:00.000Z', reason: 'review 42' };

const codes = (options: Parameters<typeof validateIndexDir>[1] = {}) => validateIndexDir(indexDir, options).problems.map((p) => p.code);

function cli(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work, MCS_PKG_CACHE: join(work, 'cache') }, encoding: 'utf8' });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

beforeEach(() => {
  work = tempDir('mcs-forged-');
  indexDir = join(work, 'index-data');
  alice = maintainer('alice');
  bob = maintainer('bob');
  mallory = maintainer('mallory');
  const root = makeRoot({ version: 1, expires: '2030-01-01T00:00:00Z', maintainers: [alice.key, bob.key].map((k) => createPublicKey(k)), names: ['alice', 'bob'], threshold: 1 });
  rootFile = join(work, 'root.json');
  writeFileSync(rootFile, JSON.stringify(signMetadata(root, [alice.key])));
  writeEntry(indexDir, npmDriver('mcs-driver-csv', { trust: { repository: PUBLISHER.repository, publisher: PUBLISHER }, versions: { '1.0.0': { integrity: SAMPLE_SHA512, size: 10, provenance: true }, '1.1.0': { integrity: SAMPLE_SHA512, size: 10, provenance: true } } }));
  writeEntry(indexDir, npmDriver('mcs-driver-rest'));
  copyFileSync(rootFile, join(indexDir, 'root.json'));
  initLog(indexDir, { key: alice.key, why: 'start the signed log' });
});
afterEach(() => removeDir(work));

describe('a signed audit log', () => {
  it('records who made each change from the key, and validates', () => {
    yankVersion(indexDir, 'mcs-driver-csv', '1.0.0', { key: bob.key, why: 'reads outside baseDir' });
    const records = loadLog(indexDir).records;
    expect(records[0]).toMatchObject({ package: '*', field: 'signed', by: 'alice' });
    expect(records.every((r) => typeof r.sig === 'string' && typeof r.keyid === 'string')).toBe(true);
    expect(records[records.length - 1]).toMatchObject({ field: 'yanked', version: '1.0.0', by: 'bob' });
    expect(codes()).toEqual([]);
  });

  it('refuses a forged, correctly chained label record with the entry edited to match: validate fails, publish refuses', async () => {
    appendForged([{ package: 'npm:mcs-driver-csv', field: 'label', before: 'community', after: 'verified' }]);
    editEntry('mcs-driver-csv', (entry) => (entry.label = { value: 'verified', by: 'alice', at: '2026-12-01T00:00:00Z', reason: 'review 42' }));
    expect(codes()).toEqual(['E_LOG_UNSIGNED']);
    const validate = cli(['index', 'validate', '--index', indexDir]);
    expect(validate.status).toBe(1);
    expect(validate.stdout + validate.stderr).toMatch(/E_LOG_UNSIGNED .*audit\.log\.jsonl:\d+: unsigned record \(by "alice"\)/);
    const out = join(work, 'snap');
    await expect(publishSnapshot({ indexDir, outDir: out, root: rootFile, keys: [alice.file], version: 1 })).rejects.toThrowWithCode('E_LOG_UNSIGNED');
    expect(existsSync(join(out, 'snapshot.json'))).toBe(false);
  });

  it('refuses a record signed by a key the root does not list, and one whose by disagrees with its key', async () => {
    // a maintainer cannot type another name than the root gives their key
    const typed = cli(['index', 'quarantine', 'mcs-driver-rest', '--key', bob.file, '--by', 'alice', '--reason', 'x', '--index', indexDir]);
    expect(typed.status).toBe(2);
    expect(typed.stderr).toMatch(/^error E_USAGE: --by alice, but the index root names this key bob/);
    appendForged([{ package: 'npm:mcs-driver-csv', field: 'label', before: 'community', after: 'verified' }], signerFor(mallory.key, 'alice'));
    editEntry('mcs-driver-csv', (entry) => (entry.label.value = 'verified'));
    expect(codes()).toEqual(['E_LOG_SIGNATURE']);
    expect(validateIndexDir(indexDir).problems[0]!.message).toMatch(/signed by key "[0-9a-f]{64}", which the index root does not list/);
    await expect(publishSnapshot({ indexDir, outDir: join(work, 'snap'), root: rootFile, keys: [alice.file], version: 1 })).rejects.toThrowWithCode('E_LOG_SIGNATURE');

    // bob's real key, but the record claims alice
    const file = join(indexDir, LOG_FILE);
    writeFileSync(file, readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(0, -1).join('\n') + '\n');
    appendForged([{ package: 'npm:mcs-driver-csv', field: 'label', before: 'community', after: 'verified' }], signerFor(bob.key, 'alice'));
    expect(codes()).toEqual(['E_LOG_SIGNATURE']);
    expect(validateIndexDir(indexDir).problems[0]!.message).toMatch(/says it is by "alice", but it is signed by "bob"'s key/);
  });

  it('refuses an unsigned record after adoption, on write and on validate', () => {
    const before = readFileSync(join(indexDir, LOG_FILE), 'utf8');
    expect(() => setQuarantine(indexDir, 'mcs-driver-rest', true, { by: 'alice', why: 'report 7' })).toThrowWithCode('E_LOG_UNSIGNED');
    expect(() => setQuarantine(indexDir, 'mcs-driver-rest', true, { key: mallory.key, why: 'report 7' })).toThrowWithCode('E_LOG_SIGNATURE');
    expect(readFileSync(join(indexDir, LOG_FILE), 'utf8')).toBe(before);
    appendForged([{ package: 'npm:mcs-driver-rest', field: 'quarantine', before: null, after: 'report 7' }]);
    editEntry('mcs-driver-rest', (entry) => (entry.quarantine = { reason: 'report 7' }));
    expect(codes()).toEqual(['E_LOG_UNSIGNED']);
  });

  it('refuses a record edited after it was signed, even with the chain rebuilt after it', () => {
    setQuarantine(indexDir, 'mcs-driver-rest', true, { key: alice.key, why: 'report 7' });
    const file = join(indexDir, LOG_FILE);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    const last = JSON.parse(lines.pop()!);
    last.after = 'nothing to see';
    last.prev = lineHash(lines[lines.length - 1]!);
    writeFileSync(file, [...lines, canonical(last)].join('\n') + '\n');
    editEntry('mcs-driver-rest', (entry) => (entry.quarantine.reason = 'nothing to see'));
    expect(codes()).toEqual(['E_LOG_SIGNATURE']);
  });

  it('refuses a hand-made Verified whose entry does not meet the rules, whatever the log says (even a record signed by a maintainer)', () => {
    const logged = JSON.parse(readFileSync(join(indexDir, 'npm', 'mcs-driver-rest.json'), 'utf8')).label;
    appendForged([{ package: 'npm:mcs-driver-rest', field: 'label', before: 'community', after: 'verified' }], signerFor(alice.key, 'alice'));
    editEntry('mcs-driver-rest', (entry) => (entry.label = { value: 'verified', ...FORGED_NOTES }));
    expect(codes()).toEqual(['E_LABEL_REQUIREMENTS']);
    expect(validateIndexDir(indexDir).problems[0]!.message).toMatch(/npm:mcs-driver-rest is labelled verified without meeting its rules: no pinned publisher identity \(trust\.publisher\); 1\.0\.0 \(published without provenance\)/);
    // and no write leaves a Verified package short of the rules
    editEntry('mcs-driver-rest', (entry) => (entry.label = logged));
    const file = join(indexDir, LOG_FILE);
    writeFileSync(file, readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(0, -1).join('\n') + '\n');
    expect(codes()).toEqual([]);
  });

  it('refuses, at write time, a change that leaves Verified without its rules (a version without provenance pinned)', () => {
    appendForged([{ package: 'npm:mcs-driver-csv', field: 'label', before: 'community', after: 'verified' }], signerFor(alice.key, 'alice'));
    editEntry('mcs-driver-csv', (entry) => (entry.label = { value: 'verified', ...FORGED_NOTES }));
    expect(codes()).toEqual([]);
    expect(() => recordChange(indexDir, 'mcs-driver-csv', { key: alice.key, why: 'pin 2.0.0' }, (entry) => {
      entry.versions['2.0.0'] = { integrity: SAMPLE_SHA512, size: 10, provenance: false };
      return entry;
    })).toThrowWithCode('E_LABEL_REQUIREMENTS');
  });

  it('refuses a dropped last record with the entry reverted: publish against the previous snapshot, validate given that snapshot', async () => {
    const out = join(work, 'snap');
    const entryFile = join(indexDir, 'npm', 'mcs-driver-csv.json');
    const logFile = join(indexDir, LOG_FILE);
    const [entryBefore, logBefore] = [readFileSync(entryFile, 'utf8'), readFileSync(logFile, 'utf8')];
    yankVersion(indexDir, 'mcs-driver-csv', '1.0.0', { key: alice.key, why: 'reads outside baseDir' });
    await publishSnapshot({ indexDir, outDir: out, root: rootFile, keys: [alice.file], version: 1 });
    writeFileSync(entryFile, entryBefore);
    writeFileSync(logFile, logBefore);
    expect(codes()).toEqual([]); // the log alone cannot tell
    expect(codes({ published: { ...JSON.parse(readFileSync(join(out, 'snapshot.json'), 'utf8')).signed.log, version: 1 } })).toEqual(['E_LOG_CHAIN']);
    const validate = cli(['index', 'validate', '--index', indexDir, '--published', out]);
    expect(validate.status).toBe(1);
    expect(validate.stdout).toMatch(/E_LOG_CHAIN .*does not extend the one snapshot version 1 was published from/);
    const snapshot = readFileSync(join(out, 'snapshot.json'), 'utf8');
    await expect(publishSnapshot({ indexDir, outDir: out, root: rootFile, keys: [alice.file] })).rejects.toThrowWithCode('E_LOG_CHAIN');
    expect(readFileSync(join(out, 'snapshot.json'), 'utf8')).toBe(snapshot);
  });
});

describe('the client checks the log the snapshot signs', () => {
  async function published(): Promise<{ out: string; state: string; logName: string }> {
    setQuarantine(indexDir, 'mcs-driver-rest', true, { key: bob.key, why: 'report 7' });
    const out = join(work, 'snap');
    await publishSnapshot({ indexDir, outDir: out, root: rootFile, keys: [alice.file], version: 1 });
    const logName = readdirSync(out).find((name) => /^audit\.[0-9a-f]{32}\.jsonl$/.test(name))!;
    return { out, state: join(work, 'state'), logName };
  }

  it('keeps the verified log, so info shows who set a label and that the record is signed', async () => {
    const { out, state, logName } = await published();
    const { signed } = JSON.parse(readFileSync(join(out, 'snapshot.json'), 'utf8'));
    expect(logName).toBe(logFileName(signed.log.head));
    const result = await updateIndex({ from: out, stateDir: state, root: rootFile });
    expect(readFileSync(join(result.indexDir, LOG_FILE), 'utf8')).toBe(readFileSync(join(indexDir, LOG_FILE), 'utf8'));
    const info = cli(['info', 'mcs-driver-csv', '--json', '--index', result.indexDir]);
    expect(JSON.parse(info.stdout).labelRecord).toMatchObject({ by: 'alice', keyid: keyIdOf(createPublicKey(alice.key)) });
    expect(cli(['info', 'mcs-driver-csv', '--index', result.indexDir]).stdout).toMatch(/audit log record #\d+ by alice, signed by key [0-9a-f]{16}/);
  });

  it('refuses a log that does not match the signed head (cut short, or a record swapped), leaving the working index as it was', async () => {
    const { out, state, logName } = await published();
    const first = await updateIndex({ from: out, stateDir: state, root: rootFile });
    const current = realpathSync(first.indexDir);
    setQuarantine(indexDir, 'mcs-driver-rest', false, { key: bob.key, why: 'report 7 closed' });
    await publishSnapshot({ indexDir, outDir: out, root: rootFile, keys: [alice.file] });
    const { signed } = JSON.parse(readFileSync(join(out, 'snapshot.json'), 'utf8'));
    const served = join(out, logFileName(signed.log.head));
    const good = readFileSync(served, 'utf8');
    const lines = good.split('\n').filter(Boolean);
    writeFileSync(served, lines.slice(0, -1).join('\n') + '\n');
    await expect(updateIndex({ from: out, stateDir: state })).rejects.toThrowWithCode('E_INDEX_MIXED');
    // the previous snapshot's log, served under the new head's name
    writeFileSync(served, readFileSync(join(out, logName), 'utf8'));
    await expect(updateIndex({ from: out, stateDir: state })).rejects.toThrowWithCode('E_INDEX_MIXED');
    // a record edited in place keeps the length, but neither its signature nor the head
    writeFileSync(served, good.replace('"report 7 closed"', '"report 8 closed"'));
    await expect(updateIndex({ from: out, stateDir: state })).rejects.toThrowWithCode('E_LOG_SIGNATURE');
    expect(realpathSync(join(state, 'current'))).toBe(current);
    writeFileSync(served, good);
    expect(await updateIndex({ from: out, stateDir: state })).toMatchObject({ status: 'updated', version: 2 });
  });

  it('refuses a snapshot whose log does not extend the one the client already holds (history rewritten, published from a fresh folder)', async () => {
    const { out, state } = await published();
    const first = await updateIndex({ from: out, stateDir: state, root: rootFile });
    const logFile = join(indexDir, LOG_FILE);
    // drop the hold from the log and the entry, then publish version 2 somewhere publish has no earlier snapshot to compare with
    writeFileSync(logFile, readFileSync(logFile, 'utf8').split('\n').filter(Boolean).slice(0, -1).join('\n') + '\n');
    editEntry('mcs-driver-rest', (entry) => delete entry.quarantine);
    const fresh = join(work, 'fresh');
    await publishSnapshot({ indexDir, outDir: fresh, root: rootFile, keys: [alice.file], version: 2 });
    await expect(updateIndex({ from: fresh, stateDir: state })).rejects.toThrowWithCode('E_LOG_CHAIN');
    expect(realpathSync(join(state, 'current'))).toBe(realpathSync(first.indexDir));
  });
});
