/** Signed index snapshots: one attack per test, each with its code. */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_TYPE, makeRoot, needsSigstore, rotateRoot, signMetadata, signingBytes, trustInitialRoot, verifyContent, verifySnapshot, type KeylessTrust, type RootSigned, type Signed, type SnapshotSigned } from '../../src/snapshot/metadata.js';
import { createTrustMaterial, signKeyless } from '../../src/trust/sigstore.js';
import { identityToken, startMockSigstore, type GithubIdentity, type MockSigstore } from '../helpers/mock-sigstore.js';

function keyPair(type: 'ed25519' | 'ec' = 'ed25519') {
  const { publicKey, privateKey } = type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { publicKey, pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

const [A, B, C, D] = [keyPair(), keyPair(), keyPair('ec'), keyPair()];
const NOW = new Date('2026-11-21T12:00:00Z');
const LATER = '2027-11-21T00:00:00Z';
const content = Buffer.from('{"entries":[]}');
const contentRef = { file: 'content.json', length: content.length, sha512: createHash('sha512').update(content).digest('hex') };

function root(version: number, keys: Array<typeof A>, threshold: number, expires = LATER): RootSigned {
  return makeRoot({ version, expires, maintainers: keys.map((k) => k.publicKey), threshold });
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

describe('keyless snapshot signatures (Sigstore, as the pinned publishing workflow)', () => {
  const WORKFLOW = { issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/mcs-index/index', workflow: '.github/workflows/publish.yml', ref: 'refs/heads/main' };
  const ACTOR = { repository: 'mcs-index/index', workflow: '.github/workflows/publish.yml', ref: 'refs/heads/main' };
  let sigstore: MockSigstore;
  let other: MockSigstore;
  let trust: KeylessTrust;
  let keylessRoot: RootSigned;

  /** Signs the snapshot's bytes as `identity` through the real sigstore client against the mock services. */
  async function keyless(metadata: Signed<SnapshotSigned>, identity: GithubIdentity, via = sigstore): Promise<Signed<SnapshotSigned>> {
    const bundle = await signKeyless(signingBytes(metadata.signed), { fulcioURL: via.url, rekorURL: via.url, identityToken: identityToken(identity) });
    const keyid = keylessRoot.roles.snapshot.keyids.find((id) => keylessRoot.keys[id]!.keytype === 'sigstore-keyless')!;
    return { signed: metadata.signed, signatures: [...metadata.signatures, { keyid, bundle }] };
  }

  /** `withTrust` null: no Sigstore trust material at all. */
  const verifyWith = (metadata: Signed<SnapshotSigned>, root = keylessRoot, withTrust: KeylessTrust | null = trust) =>
    verifySnapshot(bytes(metadata), root, { now: NOW, source: 's', ...(withTrust ? { trust: withTrust } : {}) });

  beforeAll(async () => {
    [sigstore, other] = await Promise.all([startMockSigstore(), startMockSigstore()]);
    trust = { sigstore: createTrustMaterial(sigstore.trustedRoot) };
    keylessRoot = makeRoot({ version: 1, expires: LATER, maintainers: [A.publicKey, B.publicKey, C.publicKey], threshold: 2, keyless: [WORKFLOW], snapshotThreshold: 1 });
  });
  afterAll(async () => Promise.all([sigstore.close(), other.close()]));

  it('verifies a snapshot the pinned workflow signed, and a maintainer key counts toward the same threshold', async () => {
    const signed = await keyless({ signed: snapshot(7), signatures: [] }, ACTOR);
    expect(verifyWith(signed).version).toBe(7);
    expect(verifyWith(signMetadata(snapshot(7), [A.pem])).version).toBe(7);
    expect(needsSigstore(keylessRoot, signed)).toBe(true);
    expect(needsSigstore(keylessRoot, signMetadata(snapshot(7), [A.pem]))).toBe(false);
    expect(needsSigstore(trusted, signed)).toBe(false);
  });

  it('counts nothing without Sigstore trust material, or against another Sigstore instance', async () => {
    const signed = await keyless({ signed: snapshot(7), signatures: [] }, ACTOR);
    expect(() => verifyWith(signed, keylessRoot, null)).toThrowWithCode('E_INDEX_SIGNATURE');
    expect(() => verifyWith(signed, keylessRoot, { sigstore: createTrustMaterial(other.trustedRoot) })).toThrowWithCode('E_INDEX_SIGNATURE');
    const elsewhere = await keyless({ signed: snapshot(7), signatures: [] }, ACTOR, other);
    expect(() => verifyWith(elsewhere)).toThrowWithCode('E_INDEX_SIGNATURE');
  });

  it('refuses a signature by another workflow, repository, ref or runner', async () => {
    for (const actor of [
      { ...ACTOR, workflow: '.github/workflows/other.yml' },
      { ...ACTOR, repository: 'mcs-index/index-fork' },
      { ...ACTOR, ref: 'refs/heads/feature' },
      { ...ACTOR, runnerEnvironment: 'self-hosted' as const },
    ]) {
      const signed = await keyless({ signed: snapshot(7), signatures: [] }, actor);
      expect(() => verifyWith(signed), JSON.stringify(actor)).toThrowWithCode('E_INDEX_SIGNATURE');
    }
  });

  it('refuses a bundle moved onto other metadata, and a DSSE bundle by the right workflow', async () => {
    const signed = await keyless({ signed: snapshot(7), signatures: [] }, ACTOR);
    expect(() => verifyWith({ signed: snapshot(8), signatures: signed.signatures })).toThrowWithCode('E_INDEX_SIGNATURE');
    const dsse = await sigstore.signStatement({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'x', predicate: snapshot(7) }, ACTOR);
    expect(() => verifyWith({ signed: snapshot(7), signatures: [{ keyid: signed.signatures[0]!.keyid, bundle: dsse }] })).toThrowWithCode('E_INDEX_SIGNATURE');
  });

  it('needs both when the threshold is two: the workflow counts once however often it signs', async () => {
    const both = makeRoot({ version: 1, expires: LATER, maintainers: [A.publicKey, B.publicKey], threshold: 1, keyless: [WORKFLOW], snapshotThreshold: 2 });
    keylessRoot = both;
    try {
      const workflowOnly = await keyless({ signed: snapshot(7), signatures: [] }, ACTOR);
      expect(() => verifyWith(workflowOnly, both)).toThrowWithCode('E_INDEX_SIGNATURE');
      expect(() => verifyWith({ signed: snapshot(7), signatures: [...workflowOnly.signatures, ...workflowOnly.signatures] }, both)).toThrowWithCode('E_INDEX_SIGNATURE');
      expect(verifyWith(await keyless(signMetadata(snapshot(7), [A.pem]), ACTOR), both).version).toBe(7);
    } finally {
      keylessRoot = makeRoot({ version: 1, expires: LATER, maintainers: [A.publicKey, B.publicKey, C.publicKey], threshold: 2, keyless: [WORKFLOW], snapshotThreshold: 1 });
    }
  });

  it('refuses a build signer other than the pinned workflow at the same ref (a reusable workflow called from elsewhere)', async () => {
    const signed = await keyless({ signed: snapshot(7), signatures: [] }, { ...ACTOR, jobWorkflowRef: 'mcs-index/index/.github/workflows/publish.yml@refs/heads/feature' });
    expect(() => verifyWith(signed)).toThrowWithCode('E_INDEX_SIGNATURE');
  });

  it('compares GitHub\'s repository and owner ids when the root pins them, so a re-registered name does not match', async () => {
    const signed = await keyless({ signed: snapshot(7), signatures: [] }, ACTOR);
    const pinned = (ids: { repositoryId?: string; ownerId?: string }) => {
      keylessRoot = makeRoot({ version: 1, expires: LATER, maintainers: [A.publicKey], threshold: 1, keyless: [{ ...WORKFLOW, ...ids }] });
      return keylessRoot;
    };
    const resigned = async (root: RootSigned) => ({ signed: snapshot(7), signatures: [{ keyid: root.roles.snapshot.keyids[1]!, bundle: signed.signatures[0]!.bundle }] });
    try {
      expect(verifyWith(await resigned(pinned({ repositoryId: '100001', ownerId: '200002' })), keylessRoot).version).toBe(7); // the ids the mock's tokens carry
      const other = await resigned(pinned({ repositoryId: '999' }));
      expect(() => verifyWith(other, keylessRoot)).toThrowWithCode('E_INDEX_SIGNATURE');
      const otherOwner = await resigned(pinned({ ownerId: '999' }));
      expect(() => verifyWith(otherOwner, keylessRoot)).toThrowWithCode('E_INDEX_SIGNATURE');
    } finally {
      keylessRoot = makeRoot({ version: 1, expires: LATER, maintainers: [A.publicKey, B.publicKey, C.publicKey], threshold: 2, keyless: [WORKFLOW], snapshotThreshold: 1 });
    }
  });

  it('refuses a root with two workflow records (one workflow counted twice), unknown fields, or a branch pattern', () => {
    const rootWith = (keyless: Array<Record<string, string>>, snapshotThreshold = 1) =>
      bytes(signMetadata(makeRoot({ version: 1, expires: LATER, maintainers: [A.publicKey], threshold: 1, keyless: keyless as never, snapshotThreshold }), [A.pem]));
    expect(() => trustInitialRoot(rootWith([WORKFLOW, { ...WORKFLOW, ref: 'refs/tags/v*' }], 2), 'root.json')).toThrowWithCode('E_INDEX_ROOT');
    expect(() => trustInitialRoot(rootWith([{ ...WORKFLOW, note: 'x' }]), 'root.json')).toThrowWithCode('E_INDEX_ROOT');
    expect(() => trustInitialRoot(rootWith([{ ...WORKFLOW, repositoryId: 'abc' }]), 'root.json')).toThrowWithCode('E_INDEX_ROOT');
    for (const ref of ['*', 'refs/heads/*', 'refs/*', 'refs/tags/*', 'refs/tags/v*-rc*']) {
      expect(() => trustInitialRoot(rootWith([{ ...WORKFLOW, ref }]), 'root.json'), ref).toThrowWithCode('E_INDEX_ROOT');
    }
    expect(trustInitialRoot(rootWith([{ ...WORKFLOW, ref: 'refs/tags/v*' }]), 'root.json').roles.snapshot.keyids).toHaveLength(2);
  });

  it('never lets a keyless identity sign roots', () => {
    const root = makeRoot({ version: 1, expires: LATER, maintainers: [A.publicKey], threshold: 1, keyless: [WORKFLOW] });
    const workflowId = root.roles.snapshot.keyids[1]!;
    const bad = { ...root, roles: { ...root.roles, root: { keyids: [root.roles.root.keyids[0]!, workflowId], threshold: 1 } } };
    expect(() => trustInitialRoot(bytes(signMetadata(bad, [A.pem])), 'root.json')).toThrowWithCode('E_INDEX_ROOT');
  });
});
