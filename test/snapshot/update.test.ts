/**
 * Publishing and updating the index through signed snapshots, from a folder
 * and over loopback HTTP. Every refused update must leave the working index
 * as it was.
 */
import { spawn } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openIndex } from '../../src/index/store.js';
import { makeRoot, signMetadata, type RootSigned } from '../../src/snapshot/metadata.js';
import { publishSnapshot, updateIndex } from '../../src/snapshot/publish.js';
import { validateIndexDir } from '../../src/index/build.js';
import { initLog, loadLog, recordNewEntry, setQuarantine, upgradeLog } from '../../src/maintain/edit.js';
import { appendLines } from '../../src/maintain/log.js';
import { npmDriver, removeDir, tempDir, writeEntry } from '../helpers/index-data.js';
import { identityToken, startMockSigstore, type GithubIdentity, type MockSigstore } from '../helpers/mock-sigstore.js';

function keyFile(dir: string, name: string) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const file = join(dir, `${name}.pem`);
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { publicKey, file, pem: readFileSync(file, 'utf8') };
}

let work: string;
let indexDir: string;
let outDir: string;
let keys: Record<'A' | 'B' | 'C' | 'D', ReturnType<typeof keyFile>>;
let rootFile: string;

function rootOf(version: number, members: Array<keyof typeof keys>, threshold: number): RootSigned {
  return makeRoot({ version, expires: '2030-01-01T00:00:00Z', maintainers: members.map((k) => keys[k].publicKey), threshold });
}

async function searchNames(dir: string, query: string): Promise<string[]> {
  const index = await openIndex({ indexDir: dir, cacheDir: join(work, 'cache') });
  try {
    return index.search(query).results.map((r) => r.name);
  } finally {
    index.close();
  }
}

beforeAll(() => {
  work = tempDir('mcs-snapshot-');
  keys = { A: keyFile(work, 'A'), B: keyFile(work, 'B'), C: keyFile(work, 'C'), D: keyFile(work, 'D') };
  rootFile = join(work, 'root.json');
  writeFileSync(rootFile, JSON.stringify(signMetadata(rootOf(1, ['A', 'B', 'C'], 2), [keys.A.pem, keys.B.pem])));
  maintainer = { key: createPrivateKey(keys.A.pem), why: 'test index' };
});
afterAll(() => removeDir(work));

let state: string;
beforeEach(() => {
  indexDir = tempDir('mcs-snapshot-index-');
  outDir = tempDir('mcs-snapshot-out-');
  state = tempDir('mcs-snapshot-state-');
  writeEntry(indexDir, npmDriver('mcs-driver-csv', { description: 'Reads CSV files' }));
  writeEntry(indexDir, npmDriver('mcs-driver-rest', { description: 'Calls REST APIs' }));
  // the index keeps its root, whose maintainer keys sign the audit log
  copyFileSync(rootFile, join(indexDir, 'root.json'));
  initLog(indexDir, maintainer);
});

let maintainer: { key: ReturnType<typeof createPrivateKey>; why: string };
/** Adds a package the way a maintainer does: through the audit log. */
const addEntry = (entry: ReturnType<typeof npmDriver>) => recordNewEntry(indexDir, entry, maintainer);

/** A new publishing folder starts at version 1; later publishes continue from its snapshot.json. */
const startAtOne = () => (existsSync(join(outDir, 'snapshot.json')) ? {} : { version: 1 });

const publish = (signers: Array<keyof typeof keys>, extra: Partial<Parameters<typeof publishSnapshot>[0]> = {}) =>
  publishSnapshot({ indexDir, outDir, root: rootFile, keys: signers.map((k) => keys[k].file), ...startAtOne(), ...extra });

/** The content file the published snapshot.json names. */
function contentFile(): string {
  return join(outDir, (JSON.parse(readFileSync(join(outDir, 'snapshot.json'), 'utf8')) as { signed: { content: { file: string } } }).signed.content.file);
}

/** Signs the published snapshot's metadata again with other keys, as an attacker or a careless publisher could. */
function resign(signers: Array<keyof typeof keys>): void {
  const file = join(outDir, 'snapshot.json');
  const { signed } = JSON.parse(readFileSync(file, 'utf8')) as { signed: unknown };
  writeFileSync(file, JSON.stringify(signMetadata(signed, signers.map((k) => keys[k].pem))));
}

describe('publish and update', () => {
  it('publishes, updates, and serves the new index; a second version keeps the previous one', async () => {
    expect(await publish(['A', 'B'])).toMatchObject({ version: 1, entries: 2 });
    const progress: string[] = [];
    const first = await updateIndex({ from: outDir, stateDir: state, root: rootFile, onProgress: (done, total) => progress.push(`${done}/${total}`) });
    expect(progress).toEqual(['2/2']);
    expect(first).toMatchObject({ status: 'updated', version: 1, previousVersion: null });
    expect(await searchNames(first.indexDir, 'csv')).toEqual(['mcs-driver-csv']);

    addEntry(npmDriver('mcs-driver-xml', { description: 'Reads XML files' }));
    expect((await publish(['B', 'C'])).version).toBe(2);
    const second = await updateIndex({ from: outDir, stateDir: state });
    expect(second).toMatchObject({ status: 'updated', version: 2, previousVersion: 1 });
    expect(await searchNames(second.indexDir, 'xml')).toEqual(['mcs-driver-xml']);
    expect(existsSync(join(state, 'index-data.1'))).toBe(true);
    expect((await updateIndex({ from: outDir, stateDir: state })).status).toBe('current');
  });

  it('names content by its digest and keeps the previous content, so a client that read the old snapshot.json still finds its content', async () => {
    await publish(['A', 'B']);
    const first = contentFile();
    await updateIndex({ from: outDir, stateDir: state, root: rootFile });
    addEntry(npmDriver('mcs-driver-xml', { description: 'Reads XML files' }));
    await publish(['A', 'B']);
    const second = contentFile();
    expect(second).not.toBe(first);
    expect(existsSync(first)).toBe(true);
    addEntry(npmDriver('mcs-driver-yaml', { description: 'Reads YAML files' }));
    await publish(['A', 'B']);
    expect(readdirSync(outDir).filter((name) => name.startsWith('content.')).sort()).toEqual([second, contentFile()].map((f) => f.slice(outDir.length + 1)).sort());
    expect((await updateIndex({ from: outDir, stateDir: state })).version).toBe(3);
  });

  it('refuses a damaged or old-format client state with a way out, and never starts over silently', async () => {
    await publish(['A', 'B']);
    await updateIndex({ from: outDir, stateDir: state, root: rootFile });
    const stateFile = join(state, 'state.json');
    for (const damaged of ['{"version":1}', '{"version":"2","root":{"version":1}}', JSON.stringify({ version: 1, root: { version: 1, keys: {}, threshold: 1 } }), 'not json']) {
      writeFileSync(stateFile, damaged);
      const error = await updateIndex({ from: outDir, stateDir: state, root: rootFile }).catch((e: unknown) => e);
      expect(error).toThrowWithCode('E_INDEX_ROOT');
      expect((error as Error).message).toMatch(/Move it aside and update again with --root root\.json/);
    }
  });

  it('continues the folder\'s versions, and refuses to restart them, to go back, or to sign with an older root than the folder publishes', async () => {
    await expect(publishSnapshot({ indexDir, outDir, root: rootFile, keys: [keys.A.file, keys.B.file] })).rejects.toThrowWithCode('E_USAGE'); // empty folder, no version
    expect(readdirSync(outDir)).toEqual([]);
    await publish(['A', 'B'], { version: 5 });
    expect((await publish(['A', 'B'])).version).toBe(6);
    await expect(publish(['A', 'B'], { version: 6 })).rejects.toThrowWithCode('E_INDEX_ROLLBACK');
    writeFileSync(join(outDir, '2.root.json'), JSON.stringify(signMetadata(rootOf(2, ['B', 'C', 'D'], 2), [keys.A.pem, keys.B.pem, keys.C.pem, keys.D.pem])));
    await expect(publish(['A', 'B'])).rejects.toThrowWithCode('E_INDEX_ROOT'); // root version 1 into a folder at version 2
    const root3 = join(work, 'root3.json');
    writeFileSync(root3, JSON.stringify(signMetadata(rootOf(3, ['B', 'C', 'D'], 2), [keys.B.pem, keys.C.pem])));
    rmSync(join(outDir, '2.root.json'));
    await expect(publishSnapshot({ indexDir, outDir, root: root3, keys: [keys.B.file, keys.C.file] })).rejects.toThrow(/2\.root\.json is missing/);
    expect(JSON.parse(readFileSync(join(outDir, 'snapshot.json'), 'utf8')).signed.version).toBe(6);
  });

  it('refuses a different root of a version the folder already publishes, and a malformed previous snapshot', async () => {
    await publish(['A', 'B']);
    const imposter = join(work, 'imposter-root.json');
    writeFileSync(imposter, JSON.stringify(signMetadata(rootOf(1, ['C', 'D'], 1), [keys.C.pem])));
    await expect(publishSnapshot({ indexDir, outDir, root: imposter, keys: [keys.C.file] })).rejects.toThrow(/1\.root\.json is a different root of the same version/);
    const metadata = JSON.parse(readFileSync(join(outDir, 'snapshot.json'), 'utf8'));
    metadata.signed.log = { records: 3, head: 42 };
    writeFileSync(join(outDir, 'snapshot.json'), JSON.stringify(metadata));
    await expect(publish(['A', 'B'])).rejects.toThrowWithCode('E_INDEX_SIGNATURE');
  });

  it('refuses to publish from an audit log that does not extend the one the last snapshot was published from', async () => {
    await publish(['A', 'B']);
    const logFile = join(indexDir, 'audit.log.jsonl');
    const entryFile = join(indexDir, 'npm', 'mcs-driver-rest.json');
    const [logBefore, entryBefore] = [readFileSync(logFile, 'utf8'), readFileSync(entryFile, 'utf8')];
    setQuarantine(indexDir, 'mcs-driver-rest', true, { ...maintainer, why: 'report 7' });
    expect((await publish(['A', 'B'])).version).toBe(2); // the log grew: fine
    const published = readFileSync(join(outDir, 'snapshot.json'), 'utf8');
    // cut the hold out of both the log and the entry: validate cannot tell, publish can
    writeFileSync(logFile, logBefore);
    writeFileSync(entryFile, entryBefore);
    expect(validateIndexDir(indexDir).problems).toEqual([]);
    await expect(publish(['A', 'B'])).rejects.toThrowWithCode('E_LOG_CHAIN');
    // a log rebuilt from scratch with a fresh chain, unsigned: refused for that alone
    const records = loadLog(indexDir).records.map(({ seq: _s, prev: _p, keyid: _k, sig: _g, ...rest }) => ({ ...rest, by: 'mallory' }));
    writeFileSync(logFile, appendLines(undefined, 0, records).join('\n') + '\n');
    expect(validateIndexDir(indexDir).problems.map((p) => p.code)).toEqual(['E_LOG_UNSIGNED']);
    await expect(publish(['A', 'B'])).rejects.toThrowWithCode('E_LOG_UNSIGNED');
    expect(readFileSync(join(outDir, 'snapshot.json'), 'utf8')).toBe(published);
  });

  it('refuses to publish an index with problems, or with signers short of the threshold, writing nothing', async () => {
    await expect(publish(['A'])).rejects.toThrowWithCode('E_INDEX_SIGNATURE');
    await expect(publish(['A', 'D'])).rejects.toThrowWithCode('E_INDEX_SIGNATURE');
    await expect(publish(['A', 'B'], { expiresDays: 0 })).rejects.toThrowWithCode('E_USAGE');
    await expect(publish(['A', 'B'], { expiresDays: Number.NaN })).rejects.toThrowWithCode('E_USAGE');
    writeEntry(indexDir, { ...npmDriver('mcs-driver-json'), description: '' });
    await expect(publish(['A', 'B'])).rejects.toThrowWithCode('E_SCHEMA');
    expect(readdirSync(outDir)).toEqual([]);
  });
});

describe('refused updates leave the working index untouched', () => {
  async function updatedOnce(): Promise<string> {
    await publish(['A', 'B']);
    const result = await updateIndex({ from: outDir, stateDir: state, root: rootFile });
    return realpathSync(result.indexDir);
  }

  async function expectRefused(code: string, options: Partial<Parameters<typeof updateIndex>[0]> = {}): Promise<void> {
    const before = realpathSync(join(state, 'current'));
    const stateBefore = readFileSync(join(state, 'state.json'), 'utf8');
    await expect(updateIndex({ from: outDir, stateDir: state, ...options })).rejects.toThrowWithCode(code);
    expect(realpathSync(join(state, 'current'))).toBe(before);
    expect(readFileSync(join(state, 'state.json'), 'utf8')).toBe(stateBefore);
    expect(await searchNames(join(state, 'current'), 'csv')).toEqual(['mcs-driver-csv']);
  }

  it('a rollback to an older snapshot (replayed metadata and content)', async () => {
    await updatedOnce();
    copyFileSync(join(outDir, 'snapshot.json'), join(work, 'old-snapshot.json'));
    const oldContent = contentFile();
    copyFileSync(oldContent, join(work, 'old-content.json'));
    addEntry(npmDriver('mcs-driver-xml', { description: 'Reads XML files' }));
    await publish(['A', 'B']);
    await updateIndex({ from: outDir, stateDir: state });
    copyFileSync(join(work, 'old-snapshot.json'), join(outDir, 'snapshot.json'));
    copyFileSync(join(work, 'old-content.json'), oldContent);
    await expectRefused('E_INDEX_ROLLBACK');
  });

  it('an expired snapshot, judged by one clock reading', async () => {
    await updatedOnce();
    await publish(['A', 'B'], { expiresDays: 1 });
    await expectRefused('E_INDEX_EXPIRED', { now: new Date(Date.now() + 3 * 86_400_000) });
  });

  it('a snapshot signed below threshold, or by a key the root does not list', async () => {
    await updatedOnce();
    await publish(['A', 'B']);
    resign(['A']);
    await expectRefused('E_INDEX_SIGNATURE');
    resign(['A', 'D']);
    await expectRefused('E_INDEX_SIGNATURE');
  });

  it('a snapshot signed by a key rotated out, while the rotation itself is followed', async () => {
    await updatedOnce();
    writeFileSync(join(outDir, '2.root.json'), JSON.stringify(signMetadata(rootOf(2, ['B', 'C', 'D'], 2), [keys.A.pem, keys.B.pem, keys.C.pem, keys.D.pem])));
    writeFileSync(rootFile.replace('root.json', 'root2.json'), readFileSync(join(outDir, '2.root.json')));
    // the log A signed is vouched for again by a maintainer of the new root, before publishing under it
    copyFileSync(join(outDir, '2.root.json'), join(indexDir, 'root.json'));
    await expect(publishSnapshot({ indexDir, outDir, root: rootFile.replace('root.json', 'root2.json'), keys: [keys.B.file, keys.D.file] })).rejects.toThrowWithCode('E_LOG_SIGNATURE');
    expect(upgradeLog(indexDir, { key: createPrivateKey(keys.B.pem), why: 'root version 2' }, { previousRoots: [rootFile] }).map((r) => r.field)).toEqual(['signed']);
    await publishSnapshot({ indexDir, outDir, root: rootFile.replace('root.json', 'root2.json'), keys: [keys.B.file, keys.D.file] });
    resign(['A', 'B']); // A was rotated out: only B counts
    await expectRefused('E_INDEX_SIGNATURE');
    resign(['B', 'D']);
    expect(await updateIndex({ from: outDir, stateDir: state })).toMatchObject({ status: 'updated', rootVersion: 2 });
  });

  it('content swapped after signing, and a body over the signed length', async () => {
    await updatedOnce();
    await publish(['A', 'B']);
    const file = contentFile();
    const content = readFileSync(file, 'utf8');
    writeFileSync(file, content.replace('Reads CSV files', 'Reads CSV filez'));
    await expectRefused('E_INDEX_MIXED');
    writeFileSync(file, content);
    appendFileSync(file, ' '.repeat(4096));
    await expectRefused('E_INDEX_TOO_LARGE');
  });

  it('a snapshot folder missing its content file, and a source that is neither a folder nor http(s)', async () => {
    await updatedOnce();
    await publish(['A', 'B']);
    rmSync(contentFile());
    await expectRefused('E_INDEX_IO');
    await expectRefused('E_USAGE', { from: 'ftp://127.0.0.1/index/' });
  });

  it('a server that stalls, over HTTP', async () => {
    await updatedOnce();
    await publish(['A', 'B']);
    let stall = false;
    const server: Server = createServer((request, response) => {
      if (stall) return; // never answers
      const file = join(outDir, (request.url ?? '/').slice(1));
      if (!existsSync(file)) return void response.writeHead(404).end();
      response.writeHead(200).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      expect((await updateIndex({ from: url, stateDir: state })).version).toBe(2);
      await publish(['A', 'B']);
      stall = true;
      await expectRefused('E_REGISTRY_TIMEOUT', { from: url, timeoutMs: 300 });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a client killed in the middle of an update: the old index still serves, and the next update succeeds', async () => {
    const before = await updatedOnce();
    addEntry(npmDriver('mcs-driver-xml', { description: 'Reads XML files' }));
    await publish(['A', 'B']);
    let halfSent: () => void = () => undefined;
    const sentHalf = new Promise<void>((resolve) => (halfSent = resolve));
    const server: Server = createServer((request, response) => {
      const file = join(outDir, (request.url ?? '/').slice(1));
      if (!existsSync(file)) return void response.writeHead(404).end();
      const body = readFileSync(file);
      if (!/\/content\.[0-9a-f]+\.json$/.test(request.url ?? '')) return void response.writeHead(200).end(body);
      response.writeHead(200, { 'content-length': String(body.length) });
      response.write(body.subarray(0, body.length >> 1), () => halfSent()); // then nothing more: the client dies waiting
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const module = fileURLToPath(new URL('../../dist/src/snapshot/publish.js', import.meta.url));
    const child = spawn(process.execPath, ['--input-type=module', '-e', `const { updateIndex } = await import(${JSON.stringify(module)}); await updateIndex({ from: ${JSON.stringify(url)}, stateDir: ${JSON.stringify(state)} });`], {
      env: { PATH: process.env.PATH ?? '', NO_PROXY: '127.0.0.1' },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      await sentHalf;
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
    } finally {
      server.closeAllConnections();
      server.close();
    }
    expect(realpathSync(join(state, 'current'))).toBe(before);
    expect(JSON.parse(readFileSync(join(state, 'state.json'), 'utf8')).version).toBe(1);
    expect(await searchNames(join(state, 'current'), 'csv')).toEqual(['mcs-driver-csv']);
    const next = await updateIndex({ from: outDir, stateDir: state });
    expect(next).toMatchObject({ status: 'updated', version: 2, previousVersion: 1 });
    expect(await searchNames(next.indexDir, 'xml')).toEqual(['mcs-driver-xml']);
  });
});

describe('keyless publishing: the pinned workflow signs through Sigstore, clients verify against the Sigstore trusted root', () => {
  const ACTOR = { repository: 'mcs-index/index', workflow: '.github/workflows/publish.yml', ref: 'refs/heads/main' };
  let sigstore: MockSigstore;
  let keylessRootFile: string;
  let trustedRootFile: string;

  beforeAll(async () => {
    sigstore = await startMockSigstore();
    trustedRootFile = join(work, 'trusted_root.json');
    writeFileSync(trustedRootFile, JSON.stringify(sigstore.trustedRoot));
    keylessRootFile = join(work, 'keyless-root.json');
    const signed = makeRoot({
      version: 1,
      expires: '2030-01-01T00:00:00Z',
      maintainers: [keys.A.publicKey, keys.B.publicKey],
      threshold: 2,
      keyless: [{ issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/mcs-index/index', workflow: '.github/workflows/publish.yml', ref: 'refs/heads/main' }],
      snapshotThreshold: 1,
    });
    writeFileSync(keylessRootFile, JSON.stringify(signMetadata(signed, [keys.A.pem, keys.B.pem])));
  });
  afterAll(() => sigstore.close());

  const keylessPublish = (actor: GithubIdentity, root = keylessRootFile, trustedRoot = trustedRootFile) =>
    publishSnapshot({ indexDir, outDir, root, keys: [], keyless: { fulcioURL: sigstore.url, rekorURL: sigstore.url, identityToken: identityToken(actor) }, trustedRoot, ...startAtOne() });

  async function strangerRoot(): Promise<string> {
    const stranger = await startMockSigstore();
    const file = join(work, 'stranger_root.json');
    writeFileSync(file, JSON.stringify(stranger.trustedRoot));
    await stranger.close();
    return file;
  }

  it('publishes with no maintainer key at hand, and the client updates', async () => {
    expect(await keylessPublish(ACTOR)).toMatchObject({ version: 1, entries: 2 });
    const metadata = JSON.parse(readFileSync(join(outDir, 'snapshot.json'), 'utf8')) as { signatures: Array<{ bundle?: { mediaType?: string } }> };
    expect(metadata.signatures).toHaveLength(1);
    expect(metadata.signatures[0]!.bundle?.mediaType).toMatch(/^application\/vnd\.dev\.sigstore\.bundle/);
    const result = await updateIndex({ from: outDir, stateDir: state, root: keylessRootFile, trustedRoot: trustedRootFile });
    expect(result).toMatchObject({ status: 'updated', version: 1 });
    expect(await searchNames(result.indexDir, 'csv')).toEqual(['mcs-driver-csv']);
  });

  it('refuses to publish as a workflow the root does not pin, or under a root that pins none, writing nothing', async () => {
    await expect(keylessPublish({ ...ACTOR, workflow: '.github/workflows/ci.yml' })).rejects.toThrowWithCode('E_INDEX_SIGNATURE');
    await expect(keylessPublish(ACTOR, rootFile)).rejects.toThrowWithCode('E_INDEX_SIGNATURE');
    await expect(keylessPublish(ACTOR, keylessRootFile, await strangerRoot())).rejects.toThrow(/does not verify against the Sigstore trusted root/);
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('a snapshot the maintainers signed needs no Sigstore trusted root, even under a root that pins a workflow', async () => {
    await publishSnapshot({ indexDir, outDir, root: keylessRootFile, keys: [keys.A.file], ...startAtOne() });
    const unreachable = { mirrorURL: 'http://127.0.0.1:9/', cachePath: join(work, 'no-tuf'), timeoutMs: 500 };
    expect(await updateIndex({ from: outDir, stateDir: state, root: keylessRootFile, tuf: unreachable })).toMatchObject({ status: 'updated', version: 1 });
    resign([]); // nothing to count: refused without reaching for Sigstore
    await expect(updateIndex({ from: outDir, stateDir: state, tuf: unreachable })).rejects.toThrowWithCode('E_INDEX_SIGNATURE');
    await keylessPublish(ACTOR); // a keyless signature to count, and no way to get the trusted root
    await expect(updateIndex({ from: outDir, stateDir: state, tuf: unreachable })).rejects.toThrowWithCode('E_TRUST_ROOT');
  });

  it('a client refuses a keyless snapshot checked against another Sigstore trusted root', async () => {
    await keylessPublish(ACTOR);
    await expect(updateIndex({ from: outDir, stateDir: state, root: keylessRootFile, trustedRoot: await strangerRoot() })).rejects.toThrowWithCode('E_INDEX_SIGNATURE');
    expect(existsSync(join(state, 'current'))).toBe(false);
  });
});
