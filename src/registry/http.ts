/**
 * Bounded HTTP for the registry client, the only code in mcs-pkg that opens
 * network connections. Every request has a byte cap (checked on the
 * declared length and again while the body streams), a deadline covering
 * connect, headers and body, a bounded number of retries for 5xx answers
 * and dropped connections, and follows redirects only within the origin it
 * started from.
 */
import { McsError } from '../errors.js';

export interface RequestLimits {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Deadline for one attempt (connect, headers and body), in ms. */
  timeoutMs: number;
  /** Further attempts after a 5xx answer or a dropped connection. */
  retries: number;
}

export interface RequestOptions extends RequestLimits {
  headers?: Record<string, string>;
  /** Cancels the request (for example when the user interrupts). */
  signal?: AbortSignal;
  /** A 404 resolves to null instead of failing (for optional documents). */
  allowNotFound?: boolean;
  /** The size the body must have (a pinned tarball): reading stops at it, and a longer body fails with E_SIZE_MISMATCH at the first byte over. */
  pinnedBytes?: number;
  /** Media types a 200 answer must declare (PEP 691 negotiates JSON by Content-Type); another one fails with E_REGISTRY_MALFORMED. */
  contentTypes?: readonly string[];
}

const MAX_REDIRECTS = 5;
const RETRY_BASE_MS = 100;

function origin(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** Throws unless `url` is on the registry's origin: tarballs and attestations are fetched from the configured registry only. */
export function assertSameOrigin(url: string, registry: string, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new McsError('E_REGISTRY_MALFORMED', `${what}: ${JSON.stringify(url)} is not a URL`, { cause, details: { url } });
  }
  if (origin(parsed) !== origin(new URL(registry))) {
    throw new McsError('E_REGISTRY_REDIRECT', `${what}: ${parsed.href} is not on the configured registry ${origin(new URL(registry))}`, {
      details: { url: parsed.href, registry },
    });
  }
  return parsed;
}

class RetryableError extends Error {}

/** The error for a body longer than the cap, or than the pinned size when that is the smaller. */
function overLimit(url: string, maxBytes: number, pinnedBytes: number | undefined, found: number | undefined): McsError {
  if (pinnedBytes !== undefined && pinnedBytes <= maxBytes) {
    return new McsError('E_SIZE_MISMATCH', `${url}: expected the pinned ${pinnedBytes} bytes, got ${found ?? 'more'}${found === undefined ? ' (the download was stopped there)' : ''}`, { details: { url, expected: pinnedBytes, ...(found !== undefined ? { found } : {}) } });
  }
  return new McsError('E_REGISTRY_TOO_LARGE', found !== undefined ? `${url}: the answer is ${found} bytes, over the limit of ${maxBytes}` : `${url}: the answer grew past the limit of ${maxBytes} bytes`, { details: { url, limit: maxBytes, ...(found !== undefined ? { found } : {}) } });
}

async function readCapped(response: Response, url: string, maxBytes: number, pinnedBytes: number | undefined): Promise<Buffer> {
  const limit = Math.min(maxBytes, pinnedBytes ?? maxBytes);
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw overLimit(url, maxBytes, pinnedBytes, declared);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw overLimit(url, maxBytes, pinnedBytes, undefined);
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(chunks, total);
}

async function attempt(url: string, options: RequestOptions): Promise<Buffer | null> {
  const start = new URL(url);
  let current = start;
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  try {
    for (let hop = 0; ; hop++) {
      let response: Response;
      try {
        response = await fetch(current, { headers: options.headers ?? {}, redirect: 'manual', signal });
      } catch (cause) {
        if (signal.aborted) throw cause;
        throw new RetryableError(`${current.href}: ${(cause as Error).message}`, { cause });
      }
      if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
        await response.body?.cancel().catch(() => undefined);
        let next: URL;
        try {
          next = new URL(response.headers.get('location')!, current);
        } catch (cause) {
          throw new McsError('E_REGISTRY_MALFORMED', `${start.href}: redirected to an unusable location ${JSON.stringify(response.headers.get('location'))}`, { cause, details: { url: start.href } });
        }
        if (origin(next) !== origin(start)) {
          throw new McsError('E_REGISTRY_REDIRECT', `${start.href}: redirected to ${next.href}, another host; refused`, { details: { url: start.href, location: next.href } });
        }
        if (hop + 1 >= MAX_REDIRECTS) throw new McsError('E_REGISTRY_REDIRECT', `${start.href}: more than ${MAX_REDIRECTS} redirects`, { details: { url: start.href } });
        current = next;
        continue;
      }
      if (response.status === 404 && options.allowNotFound) {
        await response.body?.cancel().catch(() => undefined);
        return null;
      }
      if (response.status >= 500) {
        await response.body?.cancel().catch(() => undefined);
        throw new RetryableError(`${current.href}: HTTP ${response.status}`);
      }
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        throw new McsError('E_REGISTRY_HTTP', `${current.href}: HTTP ${response.status}`, { details: { url: current.href, status: response.status } });
      }
      const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (options.contentTypes && !options.contentTypes.includes(mediaType)) {
        await response.body?.cancel().catch(() => undefined);
        throw new McsError('E_REGISTRY_MALFORMED', `${current.href}: expected Content-Type ${options.contentTypes.join(' or ')}, got ${JSON.stringify(mediaType || null)}`, { details: { url: current.href, contentType: mediaType } });
      }
      try {
        return await readCapped(response, current.href, options.maxBytes, options.pinnedBytes);
      } catch (cause) {
        if (cause instanceof McsError || signal.aborted) throw cause;
        // the connection dropped or the body could not be decoded: worth another attempt
        throw new RetryableError(`${current.href}: the answer broke off: ${(cause as Error).message}`, { cause });
      }
    }
  } catch (error) {
    if (deadline.aborted) {
      throw new McsError('E_REGISTRY_TIMEOUT', `${start.href}: no complete answer within ${options.timeoutMs} ms`, { cause: error, details: { url: start.href, timeoutMs: options.timeoutMs } });
    }
    throw error;
  }
}

/**
 * GETs a URL within the limits. Resolves to the body, or to null for a 404
 * when `allowNotFound`; fails with a coded error otherwise.
 */
export async function getBytes(url: string, options: RequestOptions): Promise<Buffer | null> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt(url, options);
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      if (retry >= options.retries || options.signal?.aborted) {
        throw new McsError(error.message.includes('HTTP 5') ? 'E_REGISTRY_HTTP' : 'E_REGISTRY_NETWORK', `${error.message} (after ${retry + 1} attempts)`, {
          cause: error.cause ?? error,
          details: { url, attempts: retry + 1 },
        });
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 2 ** retry));
    }
  }
}
