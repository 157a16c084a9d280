/**
 * A private Sigstore for tests: mock Fulcio (with CT log), Rekor v1 and TSA from @sigstore/mock,
 * served by one node:http server on 127.0.0.1, plus npm-registry-style signing keys.
 * Bundles are made by the real @sigstore/sign, so the real @sigstore/verify can check them.
 */
import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
// Deep imports on purpose: the package index loads ./mock.js, which activates nock process-wide.
import { fulcioHandler, initializeCA, initializeCTLog } from '@sigstore/mock/dist/fulcio/index.js';
import { initializeTLog, rekorHandler } from '@sigstore/mock/dist/rekor/index.js';
import { initializeTSA, tsaHandler } from '@sigstore/mock/dist/timestamp/index.js';
import { bundleToJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { DSSEBundleBuilder, FulcioSigner, RekorWitness, TSAWitness, type Signer, type Witness } from '@sigstore/sign';

/** GitHub Actions identity claims the mock Fulcio turns into certificate extensions. */
export interface GithubIdentity {
  /** OIDC issuer; default 'https://token.actions.githubusercontent.com' */
  issuer?: string;
  /** 'owner/repo' */
  repository: string;
  /** e.g. 'refs/tags/v1.0.0' */
  ref: string;
  /** workflow file path inside the repo, e.g. '.github/workflows/release.yml' */
  workflow: string;
  /** default 'github-hosted' */
  runnerEnvironment?: 'github-hosted' | 'self-hosted';
  /** commit sha; default 40 hex chars */
  sha?: string;
  /** The workflow that actually ran (Fulcio's build signer), when it is a reusable workflow other than `workflow@ref`: 'owner/repo/.github/workflows/x.yml@refs/heads/y' */
  jobWorkflowRef?: string;
}

export interface RegistryKey {
  /** npm's keyid: 'SHA256:' + unpadded base64 of sha256 over the OpenSSH wire form of the ECDSA P-256 public key */
  keyid: string;
  privateKey: KeyObject;
  /** SPKI DER, base64 */
  publicKeyBase64: string;
}

export interface MockSigstore {
  /** base URL, http://127.0.0.1:PORT */
  readonly url: string;
  /** The trusted root of this instance, in the JSON form of a Sigstore trusted_root.json (TrustedRoot.toJSON shape). */
  readonly trustedRoot: Record<string, unknown>;
  /** Signs an in-toto statement (DSSE, payloadType application/vnd.in-toto+json) with a short-lived Fulcio certificate for `identity`; logged in the mock Rekor and timestamped by the mock TSA. Returns the bundle in its JSON form (what the npm registry serves under attestations[].bundle). */
  signStatement(statement: object, identity: GithubIdentity): Promise<Record<string, unknown>>;
  /** Signs an in-toto statement with a registry key (like npm's publish attestation): keyed bundle whose verificationMaterial.publicKey.hint and DSSE signature keyid are key.keyid; logged in the mock Rekor. */
  signStatementWithKey(statement: object, key: RegistryKey): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';
const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const TRUST_START_LEEWAY_MS = 60_000;
const FETCH_OPTIONS = { timeout: 10_000, retry: false } as const;

type KeyPair = { publicKey: KeyObject; privateKey: KeyObject };
type HandlerFn = (request: string) => Promise<{ statusCode: number; response: string | ArrayBufferView; contentType?: string }>;

function newP256KeyPair(): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function base64(bytes: ArrayBufferView): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function sha256(data: string | Buffer, encoding: 'hex' | 'base64'): string {
  return createHash('sha256').update(data).digest(encoding);
}

interface ProposedDsseEntry {
  apiVersion: string;
  kind: 'dsse';
  spec: { proposedContent: { envelope: string; verifiers: string[] } };
}

function isProposedDsseEntry(entry: unknown): entry is ProposedDsseEntry {
  const e = entry as Partial<ProposedDsseEntry> | null;
  return e?.kind === 'dsse' && typeof e.spec?.proposedContent?.envelope === 'string';
}

/**
 * Rewrites a proposed dsse entry into the canonical form the real Rekor stores (envelope and payload
 * hashes, one signature per verifier); the mock logs the proposed form verbatim, which
 * @sigstore/verify rejects with TLOG_BODY_ERROR "signature count mismatch".
 */
function canonicalizeDsseEntry(request: string): string {
  const entry: unknown = JSON.parse(request);
  if (!isProposedDsseEntry(entry)) return request;
  const { envelope, verifiers } = entry.spec.proposedContent;
  const parsed = JSON.parse(envelope) as { payload: string; signatures: Array<{ sig: string }> };
  return JSON.stringify({
    apiVersion: entry.apiVersion,
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(envelope, 'hex') },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(parsed.payload, 'base64'), 'hex') },
      signatures: parsed.signatures.map((s, i) => ({ signature: s.sig, verifier: verifiers[i] ?? verifiers[0] })),
    },
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function unsignedJwt(claims: Record<string, string>): string {
  const encode = (part: object): string => Buffer.from(JSON.stringify(part)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}

/** The GitHub Actions OIDC claims for `identity`, shaped so that the mock Fulcio emits both the legacy (.1.1-.1.6) and the current (.1.8+) extensions. */
function githubClaims(identity: GithubIdentity): Record<string, string> {
  const { repository, ref, workflow } = identity;
  const sha = identity.sha ?? createHash('sha1').update(`${repository}@${ref}`).digest('hex');
  const owner = repository.split('/')[0] ?? repository;
  const workflowRef = `${repository}/${workflow}@${ref}`;
  return {
    iss: identity.issuer ?? DEFAULT_ISSUER,
    sub: `https://github.com/${workflowRef}`,
    aud: 'sigstore',
    repository,
    repository_owner: owner,
    repository_id: '100001',
    repository_owner_id: '200002',
    repository_visibility: 'public',
    ref,
    sha,
    workflow: workflow.replace(/^.*\//, '').replace(/\.ya?ml$/, ''),
    event_name: 'push',
    job_workflow_ref: identity.jobWorkflowRef ?? workflowRef,
    job_workflow_sha: sha,
    workflow_ref: workflowRef,
    workflow_sha: sha,
    runner_environment: identity.runnerEnvironment ?? 'github-hosted',
    run_id: '1',
    run_attempt: '1',
  };
}

/** An OIDC token for `identity` that the mock Fulcio accepts (unsigned: the mock reads the claims without checking a signature). */
export function identityToken(identity: GithubIdentity): string {
  return unsignedJwt(githubClaims(identity));
}

/** Starts a fresh mock Sigstore (new CA, CT log, Rekor and TSA keys) on an ephemeral loopback port. */
export async function startMockSigstore(): Promise<MockSigstore> {
  const createdAt = Date.now();
  // The mocks read this one Date on every request. Whole seconds avoid TSA genTimes that
  // @sigstore/core rejects ("invalid time"); rounding up keeps it at or after the notBefore the
  // mocks give their root and intermediate certificates (taken from new Date() at creation).
  const clock = new Date(Math.ceil(createdAt / 1000) * 1000);
  const advanceClock = (): void => {
    clock.setTime(Math.max(clock.getTime(), Math.ceil(Date.now() / 1000) * 1000));
  };

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  try {
    const ctlog = await initializeCTLog(newP256KeyPair(), clock);
    const ca = await initializeCA(newP256KeyPair(), ctlog, clock);
    const tlog = await initializeTLog(url, newP256KeyPair(), clock);
    const tsa = await initializeTSA(newP256KeyPair(), clock);

    const fulcio = fulcioHandler(ca);
    const rekor = rekorHandler(tlog);
    const timestamp = tsaHandler(tsa);
    const routes = new Map<string, HandlerFn>([
      [fulcio.path, fulcio.fn],
      [rekor.path, (request) => rekor.fn(canonicalizeDsseEntry(request))],
      [timestamp.path, timestamp.fn],
    ]);

    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // one request per connection: a kept-alive socket the server times out while the signing client idles resets its next request
      res.setHeader('connection', 'close');
      void (async () => {
        try {
          const route = req.method === 'POST' ? routes.get(new URL(req.url ?? '/', url).pathname) : undefined;
          const request = await readBody(req);
          if (!route) {
            res.writeHead(404).end();
            return;
          }
          advanceClock();
          const out = await route(request);
          res.writeHead(out.statusCode, { 'content-type': out.contentType ?? 'application/octet-stream' });
          res.end(typeof out.response === 'string'
            ? out.response
            : Buffer.from(out.response.buffer, out.response.byteOffset, out.response.byteLength));
        } catch (error) {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(error instanceof Error ? error.message : String(error));
        }
      })();
    });

    const trustStart = new Date(createdAt - TRUST_START_LEEWAY_MS).toISOString();
    const trustedRoot = TrustedRoot.toJSON(TrustedRoot.fromJSON({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [{
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: base64(tlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: trustStart } },
        logId: { keyId: sha256(tlog.publicKey, 'base64') },
      }],
      certificateAuthorities: [{
        subject: { organization: 'sigstore.mock', commonName: 'fulcio' },
        uri: url,
        certChain: { certificates: [{ rawBytes: base64(ca.rootCertificate) }] },
        validFor: { start: trustStart },
      }],
      ctlogs: [{
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: base64(ctlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: trustStart } },
        logId: { keyId: base64(ctlog.logID) },
      }],
      timestampAuthorities: [{
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: url,
        certChain: { certificates: [{ rawBytes: base64(tsa.intCertificate) }, { rawBytes: base64(tsa.rootCertificate) }] },
        validFor: { start: trustStart },
      }],
    })) as Record<string, unknown>;

    const signDsse = async (statement: object, signer: Signer, witnesses: Witness[]): Promise<Record<string, unknown>> => {
      const bundle = await new DSSEBundleBuilder({ signer, witnesses })
        .create({ data: Buffer.from(JSON.stringify(statement)), type: INTOTO_PAYLOAD_TYPE });
      return bundleToJSON(bundle) as unknown as Record<string, unknown>;
    };
    const rekorWitness = (): RekorWitness => new RekorWitness({ rekorBaseURL: url, entryType: 'dsse', ...FETCH_OPTIONS });

    let closing: Promise<void> | undefined;
    return {
      url,
      get trustedRoot() {
        return structuredClone(trustedRoot);
      },
      signStatement(statement, identity) {
        const token = identityToken(identity);
        const signer = new FulcioSigner({ fulcioBaseURL: url, identityProvider: { getToken: async () => token }, ...FETCH_OPTIONS });
        return signDsse(statement, signer, [rekorWitness(), new TSAWitness({ tsaBaseURL: url, ...FETCH_OPTIONS })]);
      },
      signStatementWithKey(statement, key) {
        const publicKeyPem = createPublicKey(key.privateKey).export({ format: 'pem', type: 'spki' }).toString();
        const signer: Signer = {
          sign: async (data) => ({
            signature: sign('sha256', data, key.privateKey),
            key: { $case: 'publicKey', publicKey: publicKeyPem, hint: key.keyid },
          }),
        };
        return signDsse(statement, signer, [rekorWitness()]);
      },
      close() {
        closing ??= new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          server.closeAllConnections();
        });
        return closing;
      },
    };
  } catch (error) {
    server.close();
    throw error;
  }
}

/** npm's keyid for a P-256 public key: the OpenSSH SHA256 fingerprint of its wire form (not a hash of the SPKI DER). */
function npmKeyId(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new Error(`npmKeyId: expected a P-256 key, got ${jwk.crv ?? jwk.kty}`);
  const sshString = (bytes: Buffer): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  const wire = Buffer.concat([sshString(Buffer.from('ecdsa-sha2-nistp256')), sshString(Buffer.from('nistp256')), sshString(point)]);
  return 'SHA256:' + sha256(wire, 'base64').replace(/=+$/, '');
}

/** Creates a new ECDSA P-256 registry signing key with its npm keyid. */
export function createRegistryKey(): RegistryKey {
  const { publicKey, privateKey } = newP256KeyPair();
  return {
    keyid: npmKeyId(publicKey),
    privateKey,
    publicKeyBase64: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  };
}

/** npm registry signature (dist.signatures entry) over `${name}@${version}:${integrity}`: ECDSA P-256 SHA-256, DER signature, base64. */
export function signForRegistry(key: RegistryKey, name: string, version: string, integrity: string): { keyid: string; sig: string } {
  const sig = sign('sha256', Buffer.from(`${name}@${version}:${integrity}`), key.privateKey).toString('base64');
  return { keyid: key.keyid, sig };
}

/** The registry's /-/npm/v1/keys answer for these keys. */
export function keysResponse(keys: Array<{ key: RegistryKey; expires?: string | null }>): { keys: Array<{ expires: string | null; keyid: string; keytype: 'ecdsa-sha2-nistp256'; scheme: 'ecdsa-sha2-nistp256'; key: string }> } {
  return {
    keys: keys.map(({ key, expires }) => ({
      expires: expires ?? null,
      keyid: key.keyid,
      keytype: 'ecdsa-sha2-nistp256',
      scheme: 'ecdsa-sha2-nistp256',
      key: key.publicKeyBase64,
    })),
  };
}
