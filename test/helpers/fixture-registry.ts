/**
 * A fixture npm registry for tests: node:http on a loopback address, serving packuments, tarballs,
 * registry keys, attestations and search built at test time, and misbehaving on demand
 * (5xx, stalls, endless bodies, redirects, arbitrary bodies) at the socket level.
 */
import { createHash } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import semver from 'semver';

export interface FixtureVersion {
  name: string; // may be scoped: @scope/name
  version: string;
  tarball: Buffer; // the .tgz bytes served
  /** The registry's attestations JSON for this version ({"attestations":[...]}); when set, the packument's dist.attestations points at it. */
  attestations?: unknown;
  /** dist.signatures entries. */
  signatures?: Array<{ keyid: string; sig: string }>;
  /** packument time[version]; default now. */
  publishedAt?: Date;
  deprecated?: string;
  /** Override dist.integrity (default: sha512 SRI of the tarball, computed with node:crypto). */
  integrity?: string;
  /** Override dist.tarball (default: this registry's URL for the tarball). */
  tarballUrl?: string;
}

/**
 * A way to misbehave for matching requests (any method). A string `path` matches the request path exactly,
 * with or without its query string; a RegExp is tested against the path including the query string.
 */
export type Misbehavior =
  /** Answer with this HTTP status (JSON error body) `times` times (default always), then behave. */
  | { kind: 'status'; path: string | RegExp; status: number; times?: number }
  /** Send 200 headers, then never the body, until the client gives up or close() is called. */
  | { kind: 'stall'; path: string | RegExp }
  /** Answer 200 with `bytes` bytes of junk, streamed in 64 KiB chunks without a Content-Length; stops when the client disconnects. */
  | { kind: 'oversize'; path: string | RegExp; bytes: number }
  /** Answer `status` (default 302) with this Location header and an empty body. */
  | { kind: 'redirect'; path: string | RegExp; location: string; status?: number }
  /** Answer 200 with this body (default Content-Type application/json). */
  | { kind: 'body'; path: string | RegExp; body: string | Buffer; contentType?: string };

export interface FixtureRegistry {
  /** Base URL with trailing slash, e.g. http://127.0.0.1:PORT/ */
  readonly url: string;
  /** Adds (or replaces) a version; dist-tags.latest becomes the highest version published. */
  publish(version: FixtureVersion): void;
  /** The body served at /-/npm/v1/keys (default: 404 until set). */
  setKeys(body: unknown): void;
  /** Misbehaviors apply in order of addition; the first whose path matches the request path wins. */
  misbehave(rule: Misbehavior): void;
  clearMisbehavior(): void;
  /** Every request received: method and path (with query string), in order. */
  readonly requests: ReadonlyArray<{ method: string; path: string }>;
  /** Bytes of junk the 'oversize' answers have handed to their sockets so far (how far a client let them stream). */
  readonly oversizeBytesSent: number;
  close(): Promise<void>;
}

interface StoredVersion extends FixtureVersion {
  publishedAt: Date;
  /** package.json read from the tarball, when it is a readable npm tarball. */
  manifest: Record<string, unknown> | undefined;
}

interface ActiveRule {
  rule: Misbehavior;
  /** Answers left for a 'status' rule with `times`; Infinity otherwise. */
  remaining: number;
}

const OVERSIZE_CHUNK = Buffer.alloc(64 * 1024, 0x61);
const MANIFEST_READ_CAP = 16 * 1024 * 1024;

function jsonBody(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body);
  return Buffer.from(JSON.stringify(body));
}

function send(res: ServerResponse, status: number, body: string | Buffer, contentType: string, headers: Record<string, string> = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': String(bytes.length) });
  res.end(bytes);
}

function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify({ error: message }), 'application/json', headers);
}

/** `name` without its scope: '@scope/name' → 'name'. */
function basename(name: string): string {
  return name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** The package/package.json inside an npm tarball, or undefined when the tarball is not a readable one (hostile fixtures). */
function readManifest(tarball: Buffer): Record<string, unknown> | undefined {
  try {
    const tar = gunzipSync(tarball, { maxOutputLength: MANIFEST_READ_CAP });
    const text = (start: number, length: number) => {
      const field = tar.subarray(start, start + length);
      const end = field.indexOf(0);
      return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
    };
    for (let offset = 0; offset + 512 <= tar.length; ) {
      const name = text(offset, 100);
      if (name === '') return undefined;
      const size = parseInt(text(offset + 124, 12).trim() || '0', 8);
      if (!Number.isFinite(size) || size < 0) return undefined;
      const prefix = text(offset + 345, 155);
      const path = prefix ? `${prefix}/${name}` : name;
      const type = text(offset + 156, 1);
      if ((type === '0' || type === '') && /^[^/]+\/package\.json$/.test(path)) {
        const parsed: unknown = JSON.parse(tar.subarray(offset + 512, offset + 512 + size).toString('utf8'));
        return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
      }
      offset += 512 + Math.ceil(size / 512) * 512;
    }
  } catch {
    // not gzip, not tar, too big or not JSON: the packument simply carries no manifest fields
  }
  return undefined;
}

function pathMatches(pattern: string | RegExp, path: string, pathname: string): boolean {
  if (typeof pattern === 'string') return pattern === path || pattern === pathname;
  pattern.lastIndex = 0; // a /g or /y pattern would otherwise carry state from one request to the next
  return pattern.test(path);
}

/** Starts a fixture npm registry listening on a free port of `host` (default 127.0.0.1). */
export async function startFixtureRegistry(options: { host?: string } = {}): Promise<FixtureRegistry> {
  const host = options.host ?? '127.0.0.1';
  const packages = new Map<string, Map<string, StoredVersion>>();
  const rules: ActiveRule[] = [];
  const requests: Array<{ method: string; path: string }> = [];
  let oversizeBytesSent = 0;
  const sockets = new Set<Socket>();
  let keys: Buffer | undefined;
  let url = '';

  const tarballUrlOf = (name: string, version: string) => `${url}${name}/-/${basename(name)}-${version}.tgz`;
  const attestationsUrlOf = (name: string, version: string) => `${url}-/npm/v1/attestations/${name}@${version}`;

  function latestOf(versions: Map<string, StoredVersion>): string | undefined {
    let latest: string | undefined;
    for (const version of versions.keys()) {
      if (latest === undefined) latest = version;
      else if (semver.valid(version) && (!semver.valid(latest) || semver.gt(version, latest))) latest = version;
    }
    return latest;
  }

  function packument(name: string, versions: Map<string, StoredVersion>): unknown {
    const docs: Record<string, unknown> = {};
    const time: Record<string, string> = {};
    let created: Date | undefined;
    let modified: Date | undefined;
    for (const [version, stored] of versions) {
      const { name: _n, version: _v, dist: _d, deprecated: _dep, _id, ...manifestFields } = stored.manifest ?? {};
      const dist: Record<string, unknown> = {
        tarball: stored.tarballUrl ?? tarballUrlOf(name, version),
        integrity: stored.integrity ?? `sha512-${createHash('sha512').update(stored.tarball).digest('base64')}`,
        shasum: createHash('sha1').update(stored.tarball).digest('hex'),
      };
      if (stored.signatures !== undefined) dist.signatures = stored.signatures;
      if (stored.attestations !== undefined) {
        dist.attestations = { url: attestationsUrlOf(name, version), provenance: { predicateType: 'https://slsa.dev/provenance/v1' } };
      }
      docs[version] = {
        ...manifestFields,
        _id: `${name}@${version}`,
        name,
        version,
        dist,
        ...(stored.deprecated !== undefined ? { deprecated: stored.deprecated } : {}),
      };
      time[version] = stored.publishedAt.toISOString();
      if (created === undefined || stored.publishedAt < created) created = stored.publishedAt;
      if (modified === undefined || stored.publishedAt > modified) modified = stored.publishedAt;
    }
    const latest = latestOf(versions);
    return {
      _id: name,
      name,
      'dist-tags': latest === undefined ? {} : { latest },
      versions: docs,
      time: { created: (created ?? new Date()).toISOString(), modified: (modified ?? new Date()).toISOString(), ...time },
    };
  }

  function search(res: ServerResponse, query: string): void {
    const params = new URLSearchParams(query);
    const text = (params.get('text') ?? '').toLowerCase();
    const sizeParam = Number.parseInt(params.get('size') ?? '', 10);
    const fromParam = Number.parseInt(params.get('from') ?? '', 10);
    const size = Number.isFinite(sizeParam) && sizeParam >= 0 ? sizeParam : 20;
    const from = Number.isFinite(fromParam) && fromParam >= 0 ? fromParam : 0;
    const matches = [...packages.keys()]
      .filter((name) => name.toLowerCase().includes(text))
      .sort((a, b) => Number(b.toLowerCase() === text) - Number(a.toLowerCase() === text) || a.localeCompare(b));
    const objects = matches.slice(from, from + size).flatMap((name) => {
      const versions = packages.get(name);
      const latest = versions && latestOf(versions);
      const stored = latest === undefined ? undefined : versions?.get(latest);
      if (stored === undefined) return [];
      const description = stored.manifest?.description;
      return [
        {
          package: {
            name,
            version: stored.version,
            ...(typeof description === 'string' ? { description } : {}),
            date: stored.publishedAt.toISOString(),
          },
        },
      ];
    });
    send(res, 200, JSON.stringify({ objects, total: matches.length, time: new Date().toUTCString() }), 'application/json');
  }

  /** Serves the registry routes; returns false when nothing matched. */
  function route(res: ServerResponse, pathname: string, query: string): boolean {
    if (pathname === '/-/npm/v1/keys') {
      if (keys === undefined) return false;
      send(res, 200, keys, 'application/json');
      return true;
    }
    const attestationsPrefix = '/-/npm/v1/attestations/';
    if (pathname.startsWith(attestationsPrefix)) {
      const spec = decode(pathname.slice(attestationsPrefix.length));
      const at = spec === undefined ? -1 : spec.lastIndexOf('@');
      if (spec === undefined || at <= 0) return false;
      const stored = packages.get(spec.slice(0, at))?.get(spec.slice(at + 1));
      if (stored?.attestations === undefined) return false;
      send(res, 200, jsonBody(stored.attestations), 'application/json');
      return true;
    }
    if (pathname === '/-/v1/search') {
      search(res, query);
      return true;
    }
    if (pathname.startsWith('/-/')) return false;

    const separator = pathname.indexOf('/-/');
    const name = decode(separator === -1 ? pathname.slice(1) : pathname.slice(1, separator));
    if (name === undefined) return false;
    const versions = packages.get(name);
    if (versions === undefined) return false;
    if (separator === -1) {
      send(res, 200, JSON.stringify(packument(name, versions)), 'application/json');
      return true;
    }
    const file = decode(pathname.slice(separator + 3));
    const prefix = `${basename(name)}-`;
    if (file === undefined || !file.startsWith(prefix) || !file.endsWith('.tgz')) return false;
    const stored = versions.get(file.slice(prefix.length, -'.tgz'.length));
    if (stored === undefined) return false;
    send(res, 200, stored.tarball, 'application/octet-stream');
    return true;
  }

  function streamJunk(res: ServerResponse, bytes: number): void {
    let remaining = bytes;
    let stopped = false;
    res.on('close', () => {
      stopped = true;
    });
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const pump = (): void => {
      while (!stopped && remaining > 0) {
        const length = Math.min(remaining, OVERSIZE_CHUNK.length);
        remaining -= length;
        oversizeBytesSent += length;
        if (!res.write(length === OVERSIZE_CHUNK.length ? OVERSIZE_CHUNK : OVERSIZE_CHUNK.subarray(0, length))) {
          res.once('drain', pump);
          return;
        }
      }
      if (!stopped) res.end();
    };
    pump();
  }

  function applyRule(res: ServerResponse, rule: Misbehavior): void {
    switch (rule.kind) {
      case 'status':
        sendError(res, rule.status, STATUS_CODES[rule.status] ?? 'Error');
        return;
      case 'stall':
        // headers go out now; the body never comes, until the client gives up or close() ends the socket
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        return;
      case 'oversize':
        streamJunk(res, rule.bytes);
        return;
      case 'redirect':
        res.writeHead(rule.status ?? 302, { location: rule.location, 'content-length': '0' });
        res.end();
        return;
      case 'body':
        send(res, 200, rule.body, rule.contentType ?? 'application/json');
        return;
    }
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    requests.push({ method, path });
    const queryAt = path.indexOf('?');
    const pathname = queryAt === -1 ? path : path.slice(0, queryAt);
    const query = queryAt === -1 ? '' : path.slice(queryAt + 1);

    for (const active of rules) {
      if (active.remaining <= 0 || !pathMatches(active.rule.path, path, pathname)) continue;
      active.remaining -= 1;
      applyRule(res, active.rule);
      return;
    }
    if (method !== 'GET') {
      sendError(res, 405, 'Method not allowed', { allow: 'GET' });
      return;
    }
    if (!route(res, pathname, query)) sendError(res, 404, 'Not found');
  }

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      if (!res.headersSent) sendError(res, 500, `fixture registry: ${String(error)}`);
      else res.destroy();
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;

  return {
    url,
    get requests() {
      return requests;
    },
    get oversizeBytesSent() {
      return oversizeBytesSent;
    },
    publish(version) {
      if (version.name === '' || (version.name.startsWith('@') && !/^@[^/]+\/[^/]+$/.test(version.name))) {
        throw new Error(`fixture registry: invalid package name ${JSON.stringify(version.name)}`);
      }
      let versions = packages.get(version.name);
      if (versions === undefined) packages.set(version.name, (versions = new Map()));
      versions.set(version.version, { ...version, publishedAt: version.publishedAt ?? new Date(), manifest: readManifest(version.tarball) });
    },
    setKeys(body) {
      keys = body === undefined ? undefined : jsonBody(body);
    },
    misbehave(rule) {
      rules.push({ rule, remaining: rule.kind === 'status' && rule.times !== undefined ? rule.times : Infinity });
    },
    clearMisbehavior() {
      rules.length = 0;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}
