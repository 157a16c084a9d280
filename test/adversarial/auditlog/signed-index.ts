/**
 * A maintainers' index folder with a signed audit log, and the moves of
 * someone who can write it (or serve its snapshots) without a maintainer's
 * key: for the audit log's adversarial tests.
 */
import { spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOG_FILE, appendLines, type RecordSigner } from '../../../src/maintain/log.js';
import { keyIdOf, signMetadata, type SnapshotSigned } from '../../../src/snapshot/metadata.js';
import { contentFileName } from '../../../src/snapshot/publish.js';

const BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url));

export interface Maintainer {
  name: string;
  key: KeyObject;
  file: string;
}

/** A maintainer's key pair, the private key kept as a PEM file in `dir`. */
export function maintainer(dir: string, name: string): Maintainer {
  const { privateKey } = generateKeyPairSync('ed25519');
  const file = join(dir, `${name}.pem`);
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  return { name, key: createPrivateKey(readFileSync(file)), file };
}

/** A signer as an attacker builds one: any key, any name. */
export function signerFor(key: KeyObject, by: string): RecordSigner {
  return { keyid: keyIdOf(createPublicKey(key)), by, sign: (bytes) => sign(null, bytes, key).toString('base64') };
}

/** Appends records chained to the log's last line, as anyone who can write the file can; `at` and `why` default to FORGED_NOTES'. */
export function appendForged(indexDir: string, records: Array<Record<string, unknown>>, signer?: RecordSigner): void {
  const file = join(indexDir, LOG_FILE);
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const full = records.map((r) => ({ at: FORGED_NOTES.at, by: FORGED_NOTES.by, why: FORGED_NOTES.reason, ...r })) as unknown as Parameters<typeof appendLines>[2];
  appendFileSync(file, appendLines(lines[lines.length - 1], lines.length, full, signer).map((l) => l + '\n').join(''));
}

/** The label notes of a record appendForged writes. */
export const FORGED_NOTES = { by: 'alice', at: '2026-12-01T00:00:00.000Z', reason: 'review 42' };

export function editEntry(indexDir: string, name: string, edit: (entry: any) => void): void {
  const file = join(indexDir, 'npm', `${name}.json`);
  const entry = JSON.parse(readFileSync(file, 'utf8'));
  edit(entry);
  writeFileSync(file, JSON.stringify(entry, null, 2) + '\n');
}

/** Runs the built CLI with a private home and cache under `work`. */
export function cli(work: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: work, env: { PATH: process.env.PATH ?? '', HOME: work, MCS_PKG_CACHE: join(work, 'cache') }, encoding: 'utf8' });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Re-signs the snapshot a folder publishes as its snapshot signer can: the
 * next version, with content edited by `edit` (entries as publish wrote
 * them) and the metadata changed by `meta`, over the same signed log.
 */
export function forgeSnapshot(outDir: string, signers: KeyObject[], edit: (entries: Array<{ path: string; entry: any }>) => void, meta: (signed: SnapshotSigned) => void = () => {}): void {
  const { signed } = JSON.parse(readFileSync(join(outDir, 'snapshot.json'), 'utf8')) as { signed: SnapshotSigned };
  const content = JSON.parse(readFileSync(join(outDir, signed.content.file), 'utf8'));
  edit(content.entries);
  const bytes = Buffer.from(JSON.stringify(content), 'utf8');
  const sha512 = createHash('sha512').update(bytes).digest('hex');
  writeFileSync(join(outDir, contentFileName(sha512)), bytes);
  const next: SnapshotSigned = { ...signed, version: signed.version + 1, content: { file: contentFileName(sha512), length: bytes.length, sha512 } };
  meta(next);
  writeFileSync(join(outDir, 'snapshot.json'), JSON.stringify(signMetadata(next, signers), null, 1));
}
