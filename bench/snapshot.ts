/**
 * (f) signed index snapshots at 100k packages: publish (validate, serialize,
 * sign with 2 of 3 Ed25519 keys), verify (maintainer keys, and a keyless
 * Sigstore signature by the pinned workflow) and update (verify, fetch from a folder,
 * check length and sha512, unpack, switch), the update as a ratio to plain
 * copies of the same bytes.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initLog } from '../src/maintain/edit.js';
import { LOG_FILE } from '../src/maintain/log.js';
import { makeRoot, signMetadata, signingBytes, trustInitialRoot, verifyContent, verifySnapshot, type Signed, type SnapshotSigned } from '../src/snapshot/metadata.js';
import { SNAPSHOT_FILE, publishSnapshot, updateIndex } from '../src/snapshot/publish.js';
import { createTrustMaterial, signKeyless } from '../src/trust/sigstore.js';
import { identityToken, startMockSigstore } from '../test/helpers/mock-sigstore.js';

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

export async function snapshotFigures(work: string, indexDir: string, packages: number): Promise<void> {
  const dir = join(work, 'snapshot-bench');
  mkdirSync(dir, { recursive: true });
  const keys = ['a', 'b', 'c'].map((name) => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const file = join(dir, `${name}.pem`);
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    return { publicKey, file, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  });
  const rootFile = join(dir, 'root.json');
  const expires = new Date(Date.now() + 365 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
  writeFileSync(rootFile, JSON.stringify(signMetadata(makeRoot({ version: 1, expires, maintainers: keys.map((k) => k.publicKey), threshold: 2 }), [keys[0]!.pem, keys[1]!.pem])));

  // a real index keeps its root and an audit log signed by a maintainer, which publish requires, replays and checks
  copyFileSync(rootFile, join(indexDir, 'root.json'));
  let t0 = performance.now();
  const logged = initLog(indexDir, { key: createPrivateKey(keys[0]!.pem), why: 'start the log of the synthetic index' }).length;
  const logSeconds = seconds(t0);
  const logMb = statSync(join(indexDir, LOG_FILE)).size / 1e6;

  const outDir = join(dir, 'out');
  t0 = performance.now();
  const published = await publishSnapshot({ indexDir, outDir, root: rootFile, keys: [keys[0]!.file, keys[2]!.file], version: 1 });
  const publishSeconds = seconds(t0);
  const contentFile = join(outDir, published.content.file);

  // verification alone (what update does before it unpacks): signatures and expiry, then length and sha512 of the content
  const snapshotBytes = readFileSync(join(outDir, SNAPSHOT_FILE));
  const now = new Date();
  t0 = performance.now();
  const root = trustInitialRoot(readFileSync(rootFile), rootFile);
  verifyContent(readFileSync(contentFile), verifySnapshot(snapshotBytes, root, { now, source: SNAPSHOT_FILE }), published.content.file);
  const verifySeconds = seconds(t0);

  // the same snapshot signed keylessly by a pinned workflow (mock Sigstore on loopback), verified the same way
  const sigstore = await startMockSigstore();
  let keylessSeconds: number;
  try {
    const workflow = { repository: 'mcs-index/index', workflow: '.github/workflows/publish.yml', ref: 'refs/heads/main' };
    const keylessRoot = makeRoot({ version: 1, expires, maintainers: keys.map((k) => k.publicKey), threshold: 2, keyless: [{ ...workflow, issuer: 'https://token.actions.githubusercontent.com', repository: `https://github.com/${workflow.repository}` }], snapshotThreshold: 1 });
    const signed = (JSON.parse(snapshotBytes.toString('utf8')) as Signed<SnapshotSigned>).signed;
    const bundle = await signKeyless(signingBytes(signed), { fulcioURL: sigstore.url, rekorURL: sigstore.url, identityToken: identityToken(workflow) });
    const keyid = keylessRoot.roles.snapshot.keyids.at(-1)!;
    const keylessBytes = Buffer.from(JSON.stringify({ signed, signatures: [{ keyid, bundle }] }));
    t0 = performance.now();
    const trust = { sigstore: createTrustMaterial(sigstore.trustedRoot) };
    verifyContent(readFileSync(contentFile), verifySnapshot(keylessBytes, keylessRoot, { now, source: SNAPSHOT_FILE, trust }), published.content.file);
    keylessSeconds = seconds(t0);
  } finally {
    await sigstore.close();
  }

  t0 = performance.now();
  const updated = await updateIndex({ from: outDir, stateDir: join(dir, 'state'), root: rootFile });
  const updateSeconds = seconds(t0);

  t0 = performance.now();
  copyFileSync(contentFile, join(dir, 'content-copy.json'));
  const fileCopySeconds = seconds(t0);
  t0 = performance.now();
  cpSync(indexDir, join(dir, 'index-data-copy'), { recursive: true });
  const folderCopySeconds = seconds(t0);

  const mb = statSync(contentFile).size / 1e6;
  console.log(`\n(f) signed index snapshot of ${packages.toLocaleString('en')} packages (content ${mb.toFixed(1)} MB, version ${published.version} -> client ${updated.version})`);
  console.log(`  signed audit log started (${logged.toLocaleString('en')} records, ${logMb.toFixed(1)} MB) ${logSeconds.toFixed(2)} s`);
  console.log(`  publish (validate, replay the log, serialize, sign 2 of 3) ${publishSeconds.toFixed(2)} s`);
  console.log(`  verify, 2 of 3 maintainer keys (+ sha512)   ${verifySeconds.toFixed(2)} s`);
  console.log(`  verify, keyless workflow bundle (+ sha512)  ${keylessSeconds.toFixed(2)} s`);
  console.log(`  update (verify, fetch, hash, unpack, switch) ${updateSeconds.toFixed(2)} s`);
  console.log(`  plain copy of the content file              ${(fileCopySeconds * 1000).toFixed(0)} ms -> update is ${(updateSeconds / fileCopySeconds).toFixed(1)}x`);
  console.log(`  plain copy of the index-data folder         ${folderCopySeconds.toFixed(2)} s -> update is ${(updateSeconds / folderCopySeconds).toFixed(2)}x`);
}
