/** The maintainers' snapshot workflow through the real binary: keys, a 2-of-3 root, publish, update, refusal. */
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/index-data.js';
import { identityToken, startMockSigstore } from '../helpers/mock-sigstore.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
let dir: string;

function run(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, MCS_PKG_CACHE: join(dir, 'cache') }, encoding: 'utf8' });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  dir = tempDir('mcs-snapshot-cli-');
});

/** A copy of the embedded index that keeps `root` and whose audit log a maintainer of it adopted into signing, as publish requires. */
function signedIndex(name: string, root: string, key: string): string {
  cpSync(fileURLToPath(new URL('../../index-data', import.meta.url)), join(dir, name), { recursive: true });
  copyFileSync(join(dir, root), join(dir, name, 'root.json'));
  const adopted = run(['index', 'log', '--upgrade', '--key', key, '--reason', 'adopt the reviewed log', '--index', name]);
  expect(adopted.stderr).toBe('');
  return name;
}
afterAll(() => removeDir(dir));

it('creates keys and a root, publishes, updates, serves the updated index, and refuses an under-signed snapshot', () => {
  for (const key of ['a', 'b', 'c']) expect(run(['index', 'keygen', '--out', `${key}.pem`]).status).toBe(0);
  expect(run(['index', 'root', '--out', 'root.json', '--member', 'a.pem.pub', '--member', 'b.pem.pub', '--member', 'c.pem.pub', '--threshold', '2', '--sign', 'a.pem', '--sign', 'b.pem']).status).toBe(0);
  const unsigned = run(['index', 'publish', '--out', 'snap', '--root', 'root.json', '--key', 'a.pem', '--key', 'c.pem', '--snapshot-version', '1']);
  expect(unsigned.status).toBe(1);
  expect(unsigned.stderr).toMatch(/^error E_LOG_UNSIGNED: /); // the embedded index's log is not signed by this root's maintainers
  const idx = ['--index', signedIndex('idx', 'root.json', 'a.pem')];
  const unversioned = run(['index', 'publish', '--out', 'snap', '--root', 'root.json', '--key', 'a.pem', '--key', 'c.pem', ...idx]);
  expect(unversioned.status).toBe(2);
  expect(unversioned.stderr).toMatch(/^error E_USAGE: snap holds no snapshot\.json to continue from/);
  expect(run(['index', 'publish', '--out', 'snap', '--root', 'root.json', '--key', 'a.pem', '--key', 'c.pem', '--snapshot-version', '1', ...idx]).status).toBe(0);
  const first = run(['update', '--from', 'snap', '--root', 'root.json', '--json']);
  expect(first.status).toBe(0);
  expect(JSON.parse(first.stdout)).toMatchObject({ status: 'updated', version: 1, rootVersion: 1 });
  expect(JSON.parse(run(['search', 'csv', '--json']).stdout).results[0].name).toBe('mcs-driver-csv');
  expect(JSON.parse(run(['info', 'mcs-driver-csv', '--json']).stdout).source).toContain(join(dir, 'cache', 'index-state'));
  // --cache-dir is the same as MCS_PKG_CACHE: the index updated into it is the one later commands use
  expect(run(['update', '--from', 'snap', '--root', 'root.json', '--cache-dir', 'other-cache']).status).toBe(0);
  expect(JSON.parse(run(['info', 'mcs-driver-csv', '--json', '--cache-dir', 'other-cache']).stdout).source).toContain(join(dir, 'other-cache', 'index-state'));
  const short = run(['index', 'publish', '--out', 'snap', '--root', 'root.json', '--key', 'a.pem', ...idx]);
  expect(short.status).toBe(1);
  expect(short.stderr).toMatch(/^error E_INDEX_SIGNATURE: .*1 of the 2 signatures/);
  expect(run(['index', 'publish', '--out', 'snap', '--root', 'root.json', '--key', 'a.pem', '--key', 'b.pem', ...idx]).status).toBe(0);
  const metadata = JSON.parse(readFileSync(join(dir, 'snap', 'snapshot.json'), 'utf8')) as { signatures: unknown[] };
  metadata.signatures.pop();
  writeFileSync(join(dir, 'snap', 'snapshot.json'), JSON.stringify(metadata));
  const refused = run(['update', '--from', 'snap']);
  expect(refused.status).toBe(1);
  expect(refused.stderr).toMatch(/^error E_INDEX_SIGNATURE: /);

  // rotation: root version 2 drops a, signed by a threshold of the old root's keys and of its own
  expect(run(['index', 'keygen', '--out', 'd.pem']).status).toBe(0);
  const members = ['--member', 'b.pem.pub', '--member', 'c.pem.pub', '--member', 'd.pem.pub', '--threshold', '2'];
  expect(run(['index', 'root', '--out', 'root2.json', '--root-version', '2', ...members, '--sign', 'b.pem', '--sign', 'c.pem']).stderr).toMatch(/^error E_USAGE: root version 2 is a rotation: give the root it replaces with --previous/);
  const underSigned = run(['index', 'root', '--out', 'root2.json', '--previous', 'root.json', ...members, '--sign', 'b.pem', '--sign', 'd.pem']);
  expect(underSigned.status).toBe(1);
  expect(underSigned.stderr).toMatch(/^error E_INDEX_ROOT: root2\.json \(not written\): not signed by 2 root keys of root version 1/);
  expect(existsSync(join(dir, 'root2.json'))).toBe(false);
  const rotated = run(['index', 'root', '--out', 'root2.json', '--previous', 'root.json', ...members, '--sign', 'a.pem', '--sign', 'b.pem', '--sign', 'c.pem']);
  expect(rotated.stderr).toBe('');
  expect(rotated.stdout).toMatch(/root version 2, 3 maintainer keys/);
  // a's records stay valid once a maintainer of the new root vouches for the log again, checked against the root that listed a
  copyFileSync(join(dir, 'root2.json'), join(dir, 'idx', 'root.json'));
  expect(run(['index', 'publish', '--out', 'snap', '--root', 'root2.json', '--key', 'c.pem', '--key', 'd.pem', ...idx]).stderr).toMatch(/^error E_LOG_SIGNATURE: .*index log --upgrade --previous-root OLD_ROOT/);
  expect(run(['index', 'log', '--upgrade', '--key', 'c.pem', '--reason', 'root version 2', ...idx]).stderr).toMatch(/^error E_LOG_SIGNATURE: /);
  const readopted = run(['index', 'log', '--upgrade', '--previous-root', 'root.json', '--key', 'c.pem', '--reason', 'root version 2', ...idx]);
  expect(readopted.stderr).toBe('');
  expect(readopted.stdout).toMatch(/Vouches for \d+ record\(s\), #\d+-#\d+, by: .*\(key [0-9a-f]{16}, previous root\)/);
  expect(run(['index', 'publish', '--out', 'snap', '--root', 'root2.json', '--key', 'c.pem', '--key', 'd.pem', ...idx]).status).toBe(0);
  expect(JSON.parse(run(['update', '--from', 'snap', '--json']).stdout)).toMatchObject({ status: 'updated', rootVersion: 2 });
}, 240_000); // about thirty CLI runs in a row: minutes on a loaded two-core machine

it('keyless: a root pinning the publishing workflow, publish --keyless in that workflow, update against the Sigstore trusted root', async () => {
  const sigstore = await startMockSigstore();
  const runAsync = async (args: string[], env: Record<string, string> = {}): Promise<{ status: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, MCS_PKG_CACHE: join(dir, 'cache-keyless'), NO_PROXY: '127.0.0.1', ...env }, encoding: 'utf8' }, (error, stdout, stderr) =>
        resolve({ status: error ? Number(error.code ?? -1) : 0, stdout, stderr }));
    });
  try {
    writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
    const root = run(['index', 'root', '--out', 'keyless-root.json', '--member', 'a.pem.pub', '--member', 'b.pem', '--threshold', '2', '--sign', 'a.pem', '--sign', 'b.pem',
      '--keyless-repository', 'mcs-index/index', '--keyless-workflow', '.github/workflows/publish.yml', '--keyless-ref', 'refs/heads/main', '--keyless-repository-id', '100001', '--snapshot-threshold', '1']);
    expect(root.stdout).toMatch(/publishing workflow https:\/\/github\.com\/mcs-index\/index\/\.github\/workflows\/publish\.yml@refs\/heads\/main; a snapshot needs 1 signature/);
    const sigstoreFlags = ['--keyless', '--fulcio-url', sigstore.url, '--rekor-url', sigstore.url, '--snapshot-version', '1', '--index', signedIndex('keyless-idx', 'keyless-root.json', 'a.pem')];
    const wrong = await runAsync(['index', 'publish', '--out', 'keyless-snap', '--root', 'keyless-root.json', ...sigstoreFlags, '--trusted-root', 'trusted_root.json'], { SIGSTORE_ID_TOKEN: identityToken({ repository: 'mcs-index/index', workflow: '.github/workflows/ci.yml', ref: 'refs/heads/main' }) });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/^error E_INDEX_SIGNATURE: the keyless signature is for https:\/\/github\.com\/mcs-index\/index\/\.github\/workflows\/ci\.yml@refs\/heads\/main/);
    const published = await runAsync(['index', 'publish', '--out', 'keyless-snap', '--root', 'keyless-root.json', ...sigstoreFlags, '--trusted-root', 'trusted_root.json', '--identity-token', identityToken({ repository: 'mcs-index/index', workflow: '.github/workflows/publish.yml', ref: 'refs/heads/main' })]);
    expect(published.stderr).toBe('');
    expect(published.status).toBe(0);
    const branchPattern = run(['index', 'root', '--out', 'loose-root.json', '--member', 'a.pem.pub', '--threshold', '1', '--sign', 'a.pem', '--keyless-repository', 'mcs-index/index', '--keyless-workflow', '.github/workflows/publish.yml', '--keyless-ref', 'refs/heads/*']);
    expect(branchPattern.status).toBe(1);
    expect(branchPattern.stderr).toMatch(/^error E_INDEX_ROOT: .*pinned to one ref, or to tags by a prefix/);
    expect(existsSync(join(dir, 'loose-root.json'))).toBe(false);
    const updated = await runAsync(['update', '--from', 'keyless-snap', '--root', 'keyless-root.json', '--trusted-root', 'trusted_root.json', '--json']);
    expect(updated.status).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ status: 'updated', version: 1 });
  } finally {
    await sigstore.close();
  }
});

it('key files: never replaced, never half a pair, and the wrong kind of key is a usage error', () => {
  expect(run(['index', 'keygen', '--out', 'k.pem']).status).toBe(0);
  const again = run(['index', 'keygen', '--out', 'k.pem']);
  expect(again.status).toBe(2);
  expect(again.stderr).toMatch(/^error E_USAGE: k\.pem already exists/);
  writeFileSync(join(dir, 'lonely.pem.pub'), 'someone else\'s key');
  expect(run(['index', 'keygen', '--out', 'lonely.pem']).stderr).toMatch(/^error E_USAGE: lonely\.pem\.pub already exists/);
  expect(existsSync(join(dir, 'lonely.pem'))).toBe(false);
  expect(run(['index', 'keygen', '--out', join('no', 'such', 'dir', 'x.pem')]).status).toBe(0); // folders are created
  const publicAsPrivate = run(['index', 'root', '--out', 'r.json', '--member', 'k.pem.pub', '--threshold', '1', '--sign', 'k.pem.pub']);
  expect(publicAsPrivate.status).toBe(2);
  expect(publicAsPrivate.stderr).toMatch(/^error E_USAGE: k\.pem\.pub is not a private key in PEM \(give the private \.pem file/);
  expect(run(['index', 'root', '--out', 'r.json', '--member', 'missing.pem', '--threshold', '1', '--sign', 'k.pem']).stderr).toMatch(/^error E_USAGE: cannot read public key missing\.pem/);
  expect(run(['index', 'root', '--out', 'r.json', '--member', 'k.pem.pub', '--threshold', '2', '--sign', 'k.pem']).stderr).toMatch(/^error E_USAGE: threshold must be a whole number from 1 to 1, got 2/);
  expect(run(['index', 'root', '--out', 'r.json', '--member', 'k.pem.pub', '--threshold', '1', '--sign', 'k.pem']).status).toBe(0);
  expect(run(['index', 'root', '--out', 'r.json', '--member', 'k.pem.pub', '--threshold', '1', '--sign', 'k.pem']).stderr).toMatch(/^error E_USAGE: r\.json already exists/);
  expect(run(['index', 'publish', '--out', 'k.pem', '--root', 'r.json', '--key', 'k.pem', '--snapshot-version', '1']).stderr).toMatch(/^error E_USAGE: k\.pem is not a folder/);
});

it('update warns while there is time when the index root is about to expire', () => {
  expect(run(['index', 'keygen', '--out', 'soon.pem']).status).toBe(0);
  expect(run(['index', 'root', '--out', 'soon-root.json', '--member', 'soon.pem.pub', '--threshold', '1', '--sign', 'soon.pem', '--expires-days', '10']).status).toBe(0);
  expect(run(['index', 'publish', '--out', 'soon-snap', '--root', 'soon-root.json', '--key', 'soon.pem', '--snapshot-version', '1', '--index', signedIndex('soon-idx', 'soon-root.json', 'soon.pem')]).status).toBe(0);
  const updated = run(['update', '--from', 'soon-snap', '--root', 'soon-root.json', '--cache-dir', 'soon-cache', '--json']);
  expect(updated.status).toBe(0);
  expect(updated.stderr).toMatch(/^warning: index root version 1 expires .* \(in 9 days\); after that updates are refused/);
  expect(JSON.parse(updated.stdout).expires.root).toBe(JSON.parse(readFileSync(join(dir, 'soon-root.json'), 'utf8')).signed.expires);
});
