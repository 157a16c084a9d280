/** `update` remembers its source; a --root other than the pinned one is refused with what is pinned and how to switch. */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { initLog } from '../../../src/maintain/edit.js';
import { keyIdOf, makeRoot, signMetadata } from '../../../src/snapshot/metadata.js';
import { publishSnapshot } from '../../../src/snapshot/publish.js';
import { tempDir } from '../../helpers/index-data.js';

const BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url));

/** An empty index with its own maintainer key and root, published as snapshot `version` into its out folder. */
function makeIndex(work: string, name: string) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const keyFile = join(work, `${name}.pem`);
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeFileSync(keyFile, pem);
  const indexDir = join(work, name);
  mkdirSync(indexDir);
  const root = join(indexDir, 'root.json');
  writeFileSync(root, JSON.stringify(signMetadata(makeRoot({ version: 1, expires: '2030-01-01T00:00:00Z', maintainers: [publicKey], threshold: 1 }), [pem])));
  // every published snapshot carries a log signed by a maintainer of its root
  initLog(indexDir, { key: privateKey, why: 'start the signed log' });
  const out = join(work, `${name}-site`);
  return { root, out, keyid: keyIdOf(publicKey), publish: (version: number) => publishSnapshot({ indexDir, outDir: out, root, keys: [keyFile], version }) };
}

function update(cache: string, args: string[]) {
  const run = spawnSync(process.execPath, [BIN, 'update', '--cache-dir', cache, '--json', ...args], { encoding: 'utf8', timeout: 60_000 });
  const parsed = JSON.parse(run.stdout) as { status?: string; version?: number; error?: { code: string; message: string } };
  return { code: run.status, ...parsed };
}

describe('mcs-pkg update', () => {
  it('without --from: E_USAGE before any update, then the source of the last update', async () => {
    const work = tempDir('mcs-update-source-');
    const cache = join(work, 'cache');
    const a = makeIndex(work, 'a');
    await a.publish(1);
    const none = update(cache, []);
    expect(none.code).toBe(2);
    expect(none.error?.code).toBe('E_USAGE');
    expect(none.error?.message).toContain('--from');
    expect(update(cache, ['--from', a.out, '--root', a.root])).toMatchObject({ code: 0, status: 'updated', version: 1 });
    expect(update(cache, [])).toMatchObject({ code: 0, status: 'current', version: 1 });
    await a.publish(2);
    expect(update(cache, [])).toMatchObject({ code: 0, status: 'updated', version: 2 });
  }, 120_000);

  it('refuses a --root that is not the pinned root (E_INDEX_ROOT naming both, and --reset-root), and switches with --reset-root', async () => {
    const work = tempDir('mcs-update-root-');
    const cache = join(work, 'cache');
    const a = makeIndex(work, 'a');
    const b = makeIndex(work, 'b');
    await a.publish(3);
    await b.publish(1);
    expect(update(cache, ['--from', a.out, '--root', a.root])).toMatchObject({ code: 0, version: 3 });
    const refused = update(cache, ['--from', b.out, '--root', b.root]);
    expect(refused.code).toBe(1);
    expect(refused.error?.code).toBe('E_INDEX_ROOT');
    expect(refused.error?.message).toContain(`index root version 1 (root keys ${a.keyid.slice(0, 12)})`);
    expect(refused.error?.message).toContain(b.keyid.slice(0, 12));
    expect(refused.error?.message).toContain('--reset-root');
    // the pinned root and source are untouched: a plain update still reads index a
    expect(update(cache, [])).toMatchObject({ code: 0, status: 'current', version: 3 });
    // the same pinned root given again is fine
    expect(update(cache, ['--from', a.out, '--root', a.root])).toMatchObject({ code: 0, status: 'current', version: 3 });
    // a deliberate switch forgets the pinned root and the stored version (b is at 1, below a's 3)
    expect(update(cache, ['--from', b.out, '--root', b.root, '--reset-root'])).toMatchObject({ code: 0, status: 'updated', version: 1 });
    expect(update(cache, [])).toMatchObject({ code: 0, status: 'current', version: 1 });
    expect(update(cache, ['--reset-root']).error?.code).toBe('E_USAGE');
  }, 120_000);
});
