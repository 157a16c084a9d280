/**
 * (f) signed index snapshots at 100k packages: publish (validate, serialize,
 * sign with 2 of 3 Ed25519 keys) and update (verify, fetch from a folder,
 * check length and sha512, unpack, switch), the update as a ratio to plain
 * copies of the same bytes.
 */
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRoot, signMetadata } from '../src/snapshot/metadata.js';
import { CONTENT_FILE, publishSnapshot, updateIndex } from '../src/snapshot/publish.js';

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

  const outDir = join(dir, 'out');
  let t0 = performance.now();
  const published = await publishSnapshot({ indexDir, outDir, root: rootFile, keys: [keys[0]!.file, keys[2]!.file] });
  const publishSeconds = seconds(t0);

  t0 = performance.now();
  const updated = await updateIndex({ from: outDir, stateDir: join(dir, 'state'), root: rootFile });
  const updateSeconds = seconds(t0);

  t0 = performance.now();
  copyFileSync(join(outDir, CONTENT_FILE), join(dir, 'content-copy.json'));
  const fileCopySeconds = seconds(t0);
  t0 = performance.now();
  cpSync(indexDir, join(dir, 'index-data-copy'), { recursive: true });
  const folderCopySeconds = seconds(t0);

  const mb = statSync(join(outDir, CONTENT_FILE)).size / 1e6;
  console.log(`\n(f) signed index snapshot of ${packages.toLocaleString('en')} packages (content ${mb.toFixed(1)} MB, version ${published.version} -> client ${updated.version})`);
  console.log(`  publish (validate, serialize, sign 2 of 3)  ${publishSeconds.toFixed(2)} s`);
  console.log(`  update (verify, fetch, hash, unpack, switch) ${updateSeconds.toFixed(2)} s`);
  console.log(`  plain copy of content.json                  ${(fileCopySeconds * 1000).toFixed(0)} ms -> update is ${(updateSeconds / fileCopySeconds).toFixed(1)}x`);
  console.log(`  plain copy of the index-data folder         ${folderCopySeconds.toFixed(2)} s -> update is ${(updateSeconds / folderCopySeconds).toFixed(2)}x`);
}
