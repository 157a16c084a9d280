/**
 * A loopback Python package index for tests: node:http on 127.0.0.1
 * serving the PEP 691 JSON simple API (/simple/<project>/), the files
 * (/files/<filename>) and PyPI's integrity API
 * (/integrity/<project>/<version>/<filename>/provenance) with PEP 740
 * attestations signed at test time by the mock Sigstore, and misbehaving on
 * demand: a wrong stated digest, a flipped bit, stripped provenance, another
 * publisher's attestation, redirects, a file URL on another host, oversize
 * and stalled answers, another content type or API version.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { GithubIdentity, MockSigstore } from './mock-sigstore.js';
import { distStatement, provenanceObject, sha256Hex, signAttestation } from './pep740.js';

export interface FixtureDist {
  filename: string;
  bytes: Buffer;
  requiresPython?: string;
  uploaded?: string;
  yanked?: string | true;
  /** Sign a publish attestation for the file as this GitHub identity (needs `sigstore`). */
  publisher?: GithubIdentity;
  /** Serve this provenance object for the file (real data), instead of signing one. */
  provenance?: Record<string, unknown>;
}

export interface FixtureProject {
  /** The project name as published (the page is served under its PEP 503 form). */
  name: string;
  files: FixtureDist[];
}

export type PypiMisbehavior =
  /** The page states another sha256 for the file. */
  | { kind: 'wrong-digest'; filename: string }
  /** The file is served with one bit flipped (the page states the right digest). */
  | { kind: 'flip-bit'; filename: string }
  /** The page has no provenance URL for the file and the integrity API answers 404. */
  | { kind: 'strip-provenance'; filename: string }
  /** The integrity API serves an attestation of the file signed by another identity. */
  | { kind: 'other-publisher'; filename: string; publisher: GithubIdentity }
  /** The page gives this URL for the file. */
  | { kind: 'file-url'; filename: string; url: string }
  /** Requests for this path are redirected. */
  | { kind: 'redirect'; path: string; location: string }
  /** Requests for this path get `bytes` bytes of junk without a Content-Length. */
  | { kind: 'oversize'; path: string; bytes: number }
  /** Requests for this path get headers and then nothing. */
  | { kind: 'stall'; path: string }
  /** Requests for this path get this status. */
  | { kind: 'status'; path: string; status: number }
  /** Project pages are served with this Content-Type. */
  | { kind: 'content-type'; contentType: string }
  /** Project pages say this meta.api-version. */
  | { kind: 'api-version'; version: string };

export interface FixturePypi {
  /** The simple API's base URL, e.g. http://127.0.0.1:PORT/simple/ */
  readonly indexUrl: string;
  /** The server's origin with a trailing slash. */
  readonly url: string;
  /** Adds a project, or files to one, signing attestations for files with a publisher. */
  publish(project: FixtureProject): Promise<void>;
  misbehave(rule: PypiMisbehavior): Promise<void>;
  clearMisbehavior(): void;
  /** Every request received (method, path, Accept and Authorization headers), in order. */
  readonly requests: ReadonlyArray<{ method: string; path: string; accept?: string; authorization?: string }>;
  close(): Promise<void>;
}

interface StoredDist extends FixtureDist {
  project: string;
  version: string;
}

const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';
const JUNK = Buffer.alloc(64 * 1024, 0x61);

const normalize = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** The version part of a wheel or sdist name (enough for fixtures; the product parses names properly). */
function versionOf(filename: string): string {
  if (filename.endsWith('.whl')) return filename.split('-')[1]!;
  const stem = filename.replace(/\.(tar\.gz|zip)$/, '');
  return stem.slice(stem.lastIndexOf('-') + 1);
}

function send(res: ServerResponse, status: number, body: Buffer | string, contentType: string): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(bytes.length) });
  res.end(bytes);
}

/** Starts a loopback PyPI; `sigstore` signs the attestations of files that name a publisher. */
export async function startFixturePypi(options: { projects?: FixtureProject[]; sigstore?: MockSigstore } = {}): Promise<FixturePypi> {
  const projects = new Map<string, { name: string; files: Map<string, StoredDist> }>();
  const rules: PypiMisbehavior[] = [];
  const requests: Array<{ method: string; path: string; accept?: string; authorization?: string }> = [];
  const sockets = new Set<Socket>();
  /** Attestations by another publisher, per file, for 'other-publisher'. */
  const otherProvenance = new Map<string, Record<string, unknown>>();
  let url = '';

  const rule = <K extends PypiMisbehavior['kind']>(kind: K, filename: string): Extract<PypiMisbehavior, { kind: K }> | undefined =>
    rules.find((r) => r.kind === kind && 'filename' in r && r.filename === filename) as Extract<PypiMisbehavior, { kind: K }> | undefined;

  async function attest(file: FixtureDist, publisher: GithubIdentity): Promise<Record<string, unknown>> {
    if (!options.sigstore) throw new Error('fixture PyPI: a file with a publisher needs the mock Sigstore');
    const attestation = await signAttestation(options.sigstore, publisher, distStatement(file.filename, file.bytes));
    return provenanceObject([attestation], { kind: 'GitHub', repository: publisher.repository, workflow: publisher.workflow.split('/').pop(), environment: null });
  }

  async function publish(project: FixtureProject): Promise<void> {
    const key = normalize(project.name);
    const stored = projects.get(key) ?? { name: project.name, files: new Map<string, StoredDist>() };
    projects.set(key, stored);
    for (const file of project.files) {
      const provenance = file.provenance ?? (file.publisher ? await attest(file, file.publisher) : undefined);
      stored.files.set(file.filename, { ...file, project: key, version: versionOf(file.filename), ...(provenance ? { provenance } : {}) });
    }
  }

  const provenancePath = (file: StoredDist) => `/integrity/${file.project}/${file.version}/${file.filename}/provenance`;

  function page(key: string): Record<string, unknown> {
    const project = projects.get(key)!;
    const files = [...project.files.values()].map((file) => {
      const wrong = rule('wrong-digest', file.filename);
      const fileUrl = rule('file-url', file.filename)?.url ?? `${url}files/${file.filename}`;
      const provenance = file.provenance && !rule('strip-provenance', file.filename) ? `${url}${provenancePath(file).slice(1)}` : null;
      return {
        filename: file.filename,
        url: fileUrl,
        hashes: { sha256: wrong ? sha256Hex(Buffer.concat([file.bytes, Buffer.from('x')])) : sha256Hex(file.bytes) },
        size: file.bytes.length,
        ...(file.requiresPython ? { 'requires-python': file.requiresPython } : {}),
        'upload-time': file.uploaded ?? '2026-01-02T03:04:05.000000Z',
        yanked: file.yanked ?? false,
        provenance,
      };
    });
    const versions = [...new Set([...project.files.values()].map((f) => f.version))];
    const apiVersion = (rules.find((r) => r.kind === 'api-version') as { version: string } | undefined)?.version ?? '1.1';
    return { meta: { 'api-version': apiVersion }, name: key, versions, files };
  }

  function findFile(filename: string): StoredDist | undefined {
    for (const project of projects.values()) {
      const file = project.files.get(filename);
      if (file) return file;
    }
    return undefined;
  }

  function route(res: ServerResponse, pathname: string): boolean {
    const simple = /^\/simple\/([^/]+)\/$/.exec(pathname);
    if (simple) {
      const key = decodeURIComponent(simple[1]!);
      if (!projects.has(key)) return false;
      const contentType = (rules.find((r) => r.kind === 'content-type') as { contentType: string } | undefined)?.contentType ?? JSON_TYPE;
      send(res, 200, JSON.stringify(page(key)), contentType);
      return true;
    }
    const files = /^\/files\/([^/]+)$/.exec(pathname);
    if (files) {
      const file = findFile(decodeURIComponent(files[1]!));
      if (!file) return false;
      let bytes = file.bytes;
      if (rule('flip-bit', file.filename)) {
        bytes = Buffer.from(bytes);
        bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x01;
      }
      send(res, 200, bytes, 'application/octet-stream');
      return true;
    }
    const integrity = /^\/integrity\/([^/]+)\/([^/]+)\/([^/]+)\/provenance$/.exec(pathname);
    if (integrity) {
      const file = findFile(decodeURIComponent(integrity[3]!));
      if (!file || rule('strip-provenance', file.filename)) return false;
      const provenance = rule('other-publisher', file.filename) ? otherProvenance.get(file.filename) : file.provenance;
      if (!provenance) return false;
      send(res, 200, JSON.stringify(provenance), 'application/vnd.pypi.integrity.v1+json');
      return true;
    }
    return false;
  }

  function applyPathRule(res: ServerResponse, active: Extract<PypiMisbehavior, { path: string }>): void {
    switch (active.kind) {
      case 'redirect':
        res.writeHead(302, { location: active.location, 'content-length': '0' });
        res.end();
        return;
      case 'stall':
        res.writeHead(200, { 'content-type': JSON_TYPE });
        res.flushHeaders();
        return;
      case 'status':
        send(res, active.status, '{"message":"fixture"}', 'application/json');
        return;
      case 'oversize': {
        let remaining = active.bytes;
        let stopped = false;
        res.on('close', () => (stopped = true));
        res.writeHead(200, { 'content-type': active.path.startsWith('/simple/') ? JSON_TYPE : 'application/octet-stream' });
        const pump = (): void => {
          while (!stopped && remaining > 0) {
            const length = Math.min(remaining, JUNK.length);
            remaining -= length;
            if (!res.write(JUNK.subarray(0, length))) return void res.once('drain', pump);
          }
          if (!stopped) res.end();
        };
        pump();
        return;
      }
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    requests.push({ method: req.method ?? 'GET', path, ...(req.headers.accept ? { accept: req.headers.accept } : {}), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const pathname = path.split('?')[0]!;
    const pathRule = rules.find((r): r is Extract<PypiMisbehavior, { path: string }> => 'path' in r && r.path === pathname);
    if (pathRule) return applyPathRule(res, pathRule);
    if (req.method !== 'GET') return send(res, 405, '{"message":"method not allowed"}', 'application/json');
    if (!route(res, pathname)) send(res, 404, '{"message":"not found"}', 'application/json');
  }

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      if (!res.headersSent) send(res, 500, JSON.stringify({ message: String(error) }), 'application/json');
      else res.destroy();
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  for (const project of options.projects ?? []) await publish(project);

  return {
    indexUrl: `${url}simple/`,
    url,
    publish,
    async misbehave(next) {
      if (next.kind === 'other-publisher') {
        const file = findFile(next.filename);
        if (!file) throw new Error(`fixture PyPI: no file ${next.filename}`);
        otherProvenance.set(next.filename, await attest(file, next.publisher));
      }
      rules.push(next);
    },
    clearMisbehavior() {
      rules.length = 0;
    },
    get requests() {
      return requests;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
