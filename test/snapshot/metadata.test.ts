/** Signed index snapshots: one attack per test, each with its code. */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ROOT_TYPE, SNAPSHOT_TYPE, keyIdOf, publicKeyRecord, rotateRoot, signMetadata, trustInitialRoot, verifyContent, verifySnapshot, type RootSigned, type SnapshotSigned } from '../../src/snapshot/metadata.js';

function keyPair(type: 'ed25519' | 'ec' = 'ed25519') {
  const { publicKey, privateKey } = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { id: keyIdOf(publicKey), record: publicKeyRecord(publicKey), pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

const [A, B, C, D] = [keyPair(), keyPair(), keyPair('ec'), keyPair()];
const NOW = new Date('2026-11-21T12:00:00Z');
const LATER = '2027-11-21T00:00:00Z';
const content = Buffer.from('{"entries":[]}');
const contentRef = { file: 'content.json', length: content.length, sha512: createHash('sha512').update(content).digest('hex') };

function root(version: number, keys: Array<typeof A>, threshold: number, expires = LATER): RootSigned {
  return { _type: ROOT_TYPE, version, expires, keys: Object.fromEntries(keys.map((k) => [k.id, k.record])), threshold };
}

function bytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function snapshot(version: number, rootVersion = 1, expires = LATER): SnapshotSigned {
  return { _type: SNAPSHOT_TYPE, version, expires, rootVersion, content: contentRef };
}

const root1 = root(1, [A, B, C], 2);
const trusted = trustInitialRoot(bytes(signMetadata(root1, [A.pem, B.pem])), 'root.json');

describe('index root', () => {
  it('is trusted when signed by a threshold of its own keys, and not otherwise', () => {
    expect(trusted.version).toBe(1);
    expect(() => trustInitialRoot(bytes(signMetadata(root1, [A.pem])), 'root.json')).toThrowWithCode('E_INDEX_ROOT');
    expect(() => trustInitialRoot(bytes(signMetadata(root(1, [A], 2), [A.pem])), 'root.json')).toThrowWithCode('E_INDEX_ROOT');
  });

  it('rotates only when the old keys and the new keys both sign, one version at a time', () => {
    const root2 = root(2, [B, C, D], 2);
    expect(rotateRoot(trusted, bytes(signMetadata(root2, [A.pem, B.pem, D.pem])), '2.root.json').version).toBe(2);
    expect(() => rotateRoot(trusted, bytes(signMetadata(root2, [D.pem, C.pem])), '2.root.json')).toThrowWithCode('E_INDEX_ROOT'); // only C of the old keys
    expect(() => rotateRoot(trusted, bytes(signMetadata(root(3, [B, C, D], 2), [A.pem, B.pem, C.pem, D.pem])), '3.root.json')).toThrowWithCode('E_INDEX_ROOT');
  });
});

describe('snapshot metadata', () => {
  it('verifies with a threshold of keys, Ed25519 and ECDSA P-256 alike', () => {
    expect(verifySnapshot(bytes(signMetadata(snapshot(5), [A.pem, C.pem])), trusted, { now: NOW, source: 's' }).version).toBe(5);
  });

  it('refuses one signed below threshold, by an unknown key, or with one key counted twice', () => {
    expect(() => verifySnapshot(bytes(signMetadata(snapshot(5), [A.pem])), trusted, { now: NOW, source: 's' })).toThrowWithCode('E_INDEX_SIGNATURE');
    expect(() => verifySnapshot(bytes(signMetadata(snapshot(5), [A.pem, D.pem])), trusted, { now: NOW, source: 's' })).toThrowWithCode('E_INDEX_SIGNATURE');
    const twice = signMetadata(snapshot(5), [A.pem]);
    twice.signatures.push(twice.signatures[0]!);
    expect(() => verifySnapshot(bytes(twice), trusted, { now: NOW, source: 's' })).toThrowWithCode('E_INDEX_SIGNATURE');
  });

  it('refuses a snapshot signed by a key the current root rotated out', () => {
    const root2 = rotateRoot(trusted, bytes(signMetadata(root(2, [B, C, D], 2), [A.pem, B.pem, C.pem])), '2.root.json');
    expect(() => verifySnapshot(bytes(signMetadata(snapshot(6, 2), [A.pem, B.pem])), root2, { now: NOW, source: 's' })).toThrowWithCode('E_INDEX_SIGNATURE');
    expect(verifySnapshot(bytes(signMetadata(snapshot(6, 2), [B.pem, D.pem])), root2, { now: NOW, source: 's' }).version).toBe(6);
  });

  it('refuses metadata edited after signing', () => {
    const signed = signMetadata(snapshot(5), [A.pem, B.pem]);
    signed.signed.version = 50;
    expect(() => verifySnapshot(bytes(signed), trusted, { now: NOW, source: 's' })).toThrowWithCode('E_INDEX_SIGNATURE');
  });

  it('refuses an expired snapshot, and a snapshot under an expired root', () => {
    expect(() => verifySnapshot(bytes(signMetadata(snapshot(5, 1, '2026-11-21T11:59:59Z'), [A.pem, B.pem])), trusted, { now: NOW, source: 's' })).toThrowWithCode('E_INDEX_EXPIRED');
    const oldRoot = trustInitialRoot(bytes(signMetadata(root(1, [A, B, C], 2, '2026-01-01T00:00:00Z'), [A.pem, B.pem])), 'root.json');
    expect(() => verifySnapshot(bytes(signMetadata(snapshot(5), [A.pem, B.pem])), oldRoot, { now: NOW, source: 's' })).toThrowWithCode('E_INDEX_EXPIRED');
  });

  it('refuses a rollback to a version older than the stored one (a replayed old snapshot)', () => {
    const old = bytes(signMetadata(snapshot(4), [A.pem, B.pem]));
    expect(() => verifySnapshot(old, trusted, { now: NOW, storedVersion: 5, source: 's' })).toThrowWithCode('E_INDEX_ROLLBACK');
  });

  it('refuses oversized metadata before parsing it', () => {
    expect(() => verifySnapshot(Buffer.alloc(2 * 1024 * 1024, 0x20), trusted, { now: NOW, source: 's' })).toThrowWithCode('E_INDEX_TOO_LARGE');
  });
});

describe('content', () => {
  const signed = verifySnapshot(bytes(signMetadata(snapshot(5), [A.pem, B.pem])), trusted, { now: NOW, source: 's' });

  it('must be exactly the signed bytes', () => {
    expect(() => verifyContent(content, signed, 'content.json')).not.toThrow();
    expect(() => verifyContent(Buffer.from('{"entries":[1]}'), signed, 'content.json')).toThrowWithCode('E_INDEX_MIXED');
    expect(() => verifyContent(Buffer.from('{"entries":[9]}'), signed, 'content.json')).toThrowWithCode('E_INDEX_MIXED');
  });
});
