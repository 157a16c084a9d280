/**
 * Search cursors: opaque to the client, tamper-evident to the server. A
 * cursor carries the offset of the next page, the snapshot it was made on and
 * a digest of the query and filters, authenticated with HMAC-SHA256 under the
 * server's secret. Replicas that share the secret accept each other's cursors;
 * a cursor that was altered or made elsewhere is refused (400), one made on
 * another snapshot or for another search is refused as stale (409).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { McsError } from '../errors.js';

const MAX_CURSOR_LENGTH = 512;

export interface CursorState {
  offset: number;
  snapshot: string;
  search: string;
}

/** A digest of what a search asks, so a cursor cannot be replayed for another query. */
export function searchDigest(query: string, filters: Record<string, readonly string[]>, limit: number): string {
  const facets = Object.keys(filters).sort().map((key) => [key, [...filters[key]!].sort()]);
  return createHash('sha256').update(JSON.stringify([query.normalize('NFKC').trim().toLowerCase(), facets, limit])).digest('base64url').slice(0, 22);
}

export class CursorCodec {
  private readonly key: Buffer;

  /** `secret`: shared by replicas behind one address; default a random one, so cursors are valid on this process only. */
  constructor(secret?: string) {
    this.key = secret ? createHash('sha256').update(secret).digest() : randomBytes(32);
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.key).update(payload).digest();
  }

  encode(state: CursorState): string {
    const payload = Buffer.from(JSON.stringify([state.offset, state.snapshot, state.search])).toString('base64url');
    return `${payload}.${this.mac(payload).toString('base64url')}`;
  }

  /** The state of a cursor this server made for `expected` (the same snapshot and search); E_CURSOR_INVALID otherwise. */
  decode(cursor: string, expected: Omit<CursorState, 'offset'>): number {
    const invalid = (why: string, status: 400 | 409 = 400): McsError =>
      new McsError('E_CURSOR_INVALID', `cursor: ${why}; search again from the first page (without cursor)`, { details: { status } });
    if (cursor.length > MAX_CURSOR_LENGTH) throw invalid(`expected at most ${MAX_CURSOR_LENGTH} characters, got ${cursor.length}`);
    const [payload, tag, extra] = cursor.split('.');
    if (payload === undefined || tag === undefined || extra !== undefined || !/^[\w-]+$/.test(payload) || !/^[\w-]+$/.test(tag)) throw invalid('not a cursor this server made');
    const given = Buffer.from(tag, 'base64url');
    const wanted = this.mac(payload);
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) throw invalid('its signature does not match: it was altered, or made by a server with another secret');
    const state = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as [number, string, string];
    if (state[1] !== expected.snapshot) throw invalid(`it was made on index snapshot ${state[1]}, and the server now answers from ${expected.snapshot}`, 409);
    if (state[2] !== expected.search) throw invalid('it was made for another query, filters or limit', 409);
    return state[0];
  }
}
