/**
 * `mcs-pkg serve`: the index over HTTP, read-only, on node:http alone. This
 * layer does what is about HTTP: byte caps on the request line and headers,
 * a per-address token bucket, methods (GET, HEAD, OPTIONS), CORS without
 * credentials, ETag and If-None-Match, cache and security headers, and coded
 * JSON errors. What to answer is routes.ts's; which index, served.ts's.
 * Nothing is kept per client but the rate bucket, so replicas behind a CDN
 * that serve one snapshot answer alike.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McsError, isMcsError, type McsErrorCode } from '../errors.js';
import type { OpenIndexOptions } from '../index/store.js';
import { CursorCodec } from './cursor.js';
import { CONTENT_SECURITY_POLICY } from './html.js';
import { jsonText, route, type ContentKind, type Reply } from './routes.js';
import { ServedHolder } from './served.js';

export const DEFAULT_SERVE_HOST = '127.0.0.1';
export const DEFAULT_SERVE_PORT = 8787;
/** Longest request line target (path and query) answered, in bytes. */
export const MAX_URL_BYTES = 2048;
/** Most bytes of request headers read (node refuses more before any handler runs). */
export const MAX_HEADER_BYTES = 8192;
/** Requests per second per client address, and the burst allowed above it. */
export const DEFAULT_RATE_PER_SECOND = 20;
export const DEFAULT_RATE_BURST = 60;
/** Addresses whose buckets are kept; beyond this, full buckets are forgotten first. */
const MAX_TRACKED_CLIENTS = 10_000;

export interface ServeOptions extends Pick<OpenIndexOptions, 'indexDir' | 'cacheDir'> {
  /** Address to listen on. Default DEFAULT_SERVE_HOST (loopback only). */
  host?: string;
  /** Port; 0 picks a free one. Default DEFAULT_SERVE_PORT. */
  port?: number;
  /** Requests per second each client address may make. Default DEFAULT_RATE_PER_SECOND. */
  ratePerSecond?: number;
  /** Requests a client may make at once above that rate. Default DEFAULT_RATE_BURST. */
  rateBurst?: number;
  /** Key of the search cursors' HMAC; replicas behind one address must share it. Default: $MCS_PKG_SERVE_SECRET, else random per process. */
  cursorSecret?: string;
  /** Told of failures the client sees only as E_INTERNAL (default: standard error). */
  onError?: (error: unknown) => void;
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<ContentKind, string> = {
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  svg: 'image/svg+xml',
  metadata: 'application/json',
};


const STATUS_BY_CODE: Partial<Record<McsErrorCode, number>> = {
  E_NOT_FOUND: 404,
  E_USAGE: 400,
  E_QUERY_EMPTY: 400,
  E_CURSOR_INVALID: 400,
  E_RATE_LIMITED: 429,
  E_REQUEST_TOO_LARGE: 431,
  E_METHOD_NOT_ALLOWED: 405,
};

/** A token bucket per client address: `burst` requests at once, refilled at `perSecond`. */
class RateCap {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Seconds to wait before the next request is allowed, or 0 when this one is (and is counted). */
  take(client: string, now = Date.now()): number {
    const bucket = this.buckets.get(client) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (!this.buckets.has(client)) {
      if (this.buckets.size >= MAX_TRACKED_CLIENTS) this.forgetIdle(now);
      this.buckets.set(client, bucket);
    }
    if (bucket.tokens < 1) return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
    bucket.tokens -= 1;
    return 0;
  }

  private forgetIdle(now: number): void {
    for (const [client, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(client);
    }
    // all busy: forget the oldest rather than grow without bound
    if (this.buckets.size >= MAX_TRACKED_CLIENTS) this.buckets.delete(this.buckets.keys().next().value!);
  }
}

function errorReply(error: McsError): { status: number; body: string } {
  const status = typeof error.details.status === 'number' ? error.details.status : (STATUS_BY_CODE[error.code] ?? 500);
  return { status, body: jsonText({ error: { code: error.code, message: error.message } }) };
}

function setCommonHeaders(response: ServerResponse): void {
  response.setHeader('Access-Control-Allow-Origin', '*');
  response.setHeader('Access-Control-Expose-Headers', 'ETag, X-Index-Snapshot, Retry-After');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
}

function sendError(response: ServerResponse, error: McsError, head: boolean, extra: Record<string, string> = {}): void {
  const { status, body } = errorReply(error);
  setCommonHeaders(response);
  response.writeHead(status, { 'Content-Type': CONTENT_TYPES.json, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body), ...extra });
  response.end(head ? undefined : body);
}

/** A strong validator for a reply: what it was computed from (the index state, or the asset itself) and the request it answers. */
function etagOf(reply: Reply, target: string): string {
  const hash = createHash('sha256').update(reply.snapshot ?? '').update('\0').update(target).update('\0');
  if (reply.snapshot === undefined) hash.update(reply.body);
  return `"${hash.digest('base64url').slice(0, 27)}"`;
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

/** Starts the server; resolves once it listens. */
export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const holder = new ServedHolder({ ...(options.indexDir !== undefined ? { indexDir: options.indexDir } : {}), ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}) });
  await holder.get(); // a folder that cannot be served fails here, not on the first request
  const codec = new CursorCodec(options.cursorSecret ?? process.env.MCS_PKG_SERVE_SECRET);
  const rate = new RateCap(options.ratePerSecond ?? DEFAULT_RATE_PER_SECOND, options.rateBurst ?? DEFAULT_RATE_BURST);
  const onError = options.onError ?? ((error: unknown) => void process.stderr.write(`mcs-pkg serve: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`));

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const head = request.method === 'HEAD';
    const target = request.url ?? '/';
    const wait = rate.take(request.socket.remoteAddress ?? 'unknown');
    if (wait > 0) {
      sendError(response, new McsError('E_RATE_LIMITED', `too many requests from this address; retry in ${wait} s`, { details: { retryAfter: wait } }), head, { 'Retry-After': String(wait) });
      return;
    }
    if (Buffer.byteLength(target) > MAX_URL_BYTES) {
      sendError(response, new McsError('E_REQUEST_TOO_LARGE', `the request target is ${Buffer.byteLength(target)} bytes long; the limit is ${MAX_URL_BYTES}`, { details: { status: 414, limit: MAX_URL_BYTES } }), head);
      return;
    }
    if (request.method === 'OPTIONS') {
      setCommonHeaders(response);
      response.writeHead(204, { 'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS', 'Access-Control-Allow-Headers': 'If-None-Match, Accept', 'Access-Control-Max-Age': '86400', 'Cache-Control': 'public, max-age=86400' });
      response.end();
      return;
    }
    if (request.method !== 'GET' && !head) {
      sendError(response, new McsError('E_METHOD_NOT_ALLOWED', `${request.method ?? 'this method'} is not answered: the index is served read-only (GET, HEAD, OPTIONS)`), false, { Allow: 'GET, HEAD, OPTIONS' });
      return;
    }
    if (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0' || request.headers['transfer-encoding'] !== undefined) {
      sendError(response, new McsError('E_REQUEST_TOO_LARGE', 'a GET request carries no body here; send it without one', { details: { status: 413 } }), head, { Connection: 'close' });
      return;
    }
    let url: URL;
    try {
      url = new URL(target, 'http://localhost');
    } catch {
      sendError(response, new McsError('E_USAGE', 'the request target is not a URL path'), head);
      return;
    }
    let reply: Reply;
    try {
      const current = holder.get();
      // from here to the reply nothing yields: one snapshot per response, and a switch cannot close it meanwhile
      reply = route(current instanceof Promise ? await current : current, url, codec);
    } catch (error) {
      if (isMcsError(error) && (STATUS_BY_CODE[error.code] !== undefined || typeof error.details.status === 'number')) {
        sendError(response, error, head);
      } else {
        onError(error);
        sendError(response, new McsError('E_INTERNAL', 'the server could not answer this request; its log says why'), head);
      }
      return;
    }
    setCommonHeaders(response);
    if (reply.location) {
      response.writeHead(reply.status, { Location: reply.location, 'Cache-Control': 'public, max-age=3600', 'Content-Length': 0 });
      response.end();
      return;
    }
    const etag = etagOf(reply, `${url.pathname}?${url.searchParams}`);
    const headers: Record<string, string> = {
      ETag: etag,
      'Cache-Control': reply.status === 200 ? 'public, max-age=60, must-revalidate' : 'no-store',
      ...(reply.snapshot ? { 'X-Index-Snapshot': reply.snapshot } : {}),
    };
    if (reply.status === 200 && matches(request.headers['if-none-match'], etag)) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
    const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
    response.writeHead(reply.status, { ...headers, 'Content-Type': CONTENT_TYPES[reply.kind], 'Content-Length': body.length });
    response.end(head ? undefined : body);
  };

  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 10_000, headersTimeout: 5_000 }, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      onError(error);
      if (!response.headersSent) sendError(response, new McsError('E_INTERNAL', 'the server could not answer this request; its log says why'), false);
      else response.destroy();
    });
  });
  // headers over the cap (or a request node cannot parse) never reach the handler: answer them in the same coded JSON
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const coded = tooLarge
      ? new McsError('E_REQUEST_TOO_LARGE', `the request headers are over the limit of ${MAX_HEADER_BYTES} bytes`, { details: { status: 431 } })
      : new McsError('E_USAGE', 'the request is not well-formed HTTP', { details: { status: 400 } });
    const { status, body } = errorReply(coded);
    socket.end(`HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: ${CONTENT_TYPES.json}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new McsError('E_USAGE', `cannot listen on ${options.host ?? DEFAULT_SERVE_HOST}:${options.port ?? DEFAULT_SERVE_PORT}: ${error.message}`, { cause: error })),
    );
    server.listen(options.port ?? DEFAULT_SERVE_PORT, options.host ?? DEFAULT_SERVE_HOST, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          holder.close();
          resolve();
        });
      }),
  };
}
