/**
 * What the server answers, decided from one served index and the request's
 * path and query: the JSON API under /api/v1/ (docs/api.md) and the pages.
 * Synchronous from start to end, so one response is computed from one
 * snapshot even when `update` switches the index meanwhile.
 */
import { MAX_SEARCH_LIMIT } from '../config.js';
import { McsError } from '../errors.js';
import { FILTER_KEYS, type SearchFilters, type SearchResult } from '../index/search.js';
import type { PackageInfo } from '../index/store.js';
import { replaceInvisible } from '../manifest/text.js';
import type { Ecosystem } from '../manifest/types.js';
import { APP_JS, ICON_SVG, STYLE_CSS } from './assets.js';
import { searchDigest, type CursorCodec } from './cursor.js';
import { packagePage, searchPage, type PageContext } from './html.js';
import type { ServedIndex } from './served.js';

/** Results per page of the API's search: default and most. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export type ContentKind = 'json' | 'html' | 'css' | 'js' | 'svg' | 'metadata';

export interface Reply {
  status: number;
  kind: ContentKind;
  body: string | Buffer;
  /** The index state the body came from (X-Index-Snapshot), absent for what does not depend on it. */
  snapshot?: string;
  /** Sent as Location (a redirect). */
  location?: string;
}

/** Index text in JSON: invisible characters become \\uXXXX escapes, as in the CLI's --json output (same document, nothing hidden). */
export function jsonText(value: unknown): string {
  return replaceInvisible(JSON.stringify(value), (codePoint) => {
    const units = String.fromCodePoint(codePoint);
    let escaped = '';
    for (let i = 0; i < units.length; i++) escaped += `\\u${units.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return escaped;
  });
}

function json(served: ServedIndex, value: Record<string, unknown>, status = 200): Reply {
  return { status, kind: 'json', body: jsonText({ ...value, index: indexState(served) }), snapshot: served.id };
}

/** Which state of the index a response comes from: the same id as the X-Index-Snapshot header. */
function indexState(served: ServedIndex): Record<string, unknown> {
  const freshness = served.freshness();
  return { id: served.id, snapshot: freshness.snapshot, expires: freshness.expires, expired: freshness.expired, packages: served.index.status.packages };
}

const usage = (message: string, details: Record<string, unknown> = {}): McsError => new McsError('E_USAGE', message, { details });

/** The search a query string asks for; unknown parameters and repeated single ones are refused, so a typo is not silently ignored. */
function searchRequest(params: URLSearchParams): { query: string; filters: Record<string, string[]>; limit: number; cursor: string | undefined } {
  const known = new Set<string>(['q', 'limit', 'cursor', ...FILTER_KEYS]);
  for (const key of new Set(params.keys())) {
    if (!known.has(key)) throw usage(`unknown search parameter ${JSON.stringify(key)}; expected q, limit, cursor or a facet (${FILTER_KEYS.join(', ')})`, { parameter: key });
    if ((key === 'q' || key === 'limit' || key === 'cursor') && params.getAll(key).length > 1) throw usage(`the search parameter ${key} is given more than once`, { parameter: key });
  }
  const filters: Record<string, string[]> = {};
  for (const key of FILTER_KEYS) {
    const values = params.getAll(key).map((v) => v.trim()).filter((v) => v !== '');
    if (values.length > 0) filters[key] = values;
  }
  const limitText = params.get('limit');
  const limit = limitText === null || limitText === '' ? DEFAULT_PAGE_SIZE : Number(limitText);
  if ((limitText !== null && limitText !== '' && !/^\d{1,3}$/.test(limitText)) || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw usage(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${JSON.stringify(limitText)}`, { parameter: 'limit', found: limitText });
  }
  return { query: params.get('q') ?? '', filters, limit, cursor: params.get('cursor') ?? undefined };
}

/** One page of a search, and the cursor of the next one; pages reach the first MAX_SEARCH_LIMIT results. */
function searchPageOf(served: ServedIndex, params: URLSearchParams, codec: CursorCodec): { result: SearchResult; next: string | null } {
  const request = searchRequest(params);
  const search = searchDigest(request.query, request.filters, request.limit);
  const offset = request.cursor === undefined ? 0 : codec.decode(request.cursor, { snapshot: served.id, search });
  const wanted = Math.min(offset + request.limit + 1, MAX_SEARCH_LIMIT);
  const all = served.index.search(request.query, request.filters as SearchFilters, { limit: wanted });
  const results = all.results.slice(offset, offset + request.limit);
  const more = all.results.length > offset + request.limit;
  return { result: { ...all, results }, next: more ? codec.encode({ offset: offset + request.limit, snapshot: served.id, search }) : null };
}

/** `name` or `@scope/name` after /packages/<ecosystem>/, and what of it is asked. */
const PACKAGE_PATH = /^\/(npm|pypi)\/((?:@[^/]+\/)?[^/@][^/]*)(\/versions|\/audit)?\/?$/;

function lookup(served: ServedIndex, ecosystem: string, encodedName: string): PackageInfo {
  let name: string;
  try {
    name = decodeURIComponent(encodedName);
  } catch {
    throw usage(`${encodedName}: not a percent-encoded package name`);
  }
  return served.index.getPackage(`${ecosystem}:${name}`);
}

function historyOf(served: ServedIndex, info: PackageInfo) {
  return served.history.get(`${info.entry.ecosystem}:${info.entry.name}`) ?? [];
}

function apiPackage(served: ServedIndex, path: string): Reply {
  const match = PACKAGE_PATH.exec(path);
  if (!match) throw new McsError('E_NOT_FOUND', `no API route ${JSON.stringify(`/api/v1/packages${path}`)}; packages are at /api/v1/packages/<npm|pypi>/<name>`, { details: { status: 404 } });
  const info = lookup(served, match[1]!, match[2]!);
  const { entry } = info;
  const id = { name: entry.name, ecosystem: entry.ecosystem as Ecosystem };
  if (match[3] === '/versions') {
    return json(served, { ...id, latest: info.latest, versions: Object.entries(entry.versions).map(([version, record]) => ({ version, ...record })) });
  }
  if (match[3] === '/audit') {
    const records = historyOf(served, info);
    return json(served, { ...id, records, signed: records.length > 0 && records.every((r) => r.keyid !== undefined) });
  }
  const label = [...historyOf(served, info)].reverse().find((r) => r.field === 'label');
  return json(served, {
    ...id,
    latest: info.latest,
    summary: info.summary,
    entry,
    ...(label ? { labelRecord: { seq: label.seq, by: label.by, at: label.at, why: label.why, ...(label.keyid ? { keyid: label.keyid } : {}) } } : {}),
  });
}

function signedFile(served: ServedIndex, name: 'snapshot.json' | 'root.json'): Reply {
  const bytes = served.signed[name];
  if (!bytes) {
    throw new McsError('E_NOT_FOUND', `${name}: this server's index was not installed by mcs-pkg update from a signed snapshot, so it has no signed ${name} to pass on`, { details: { status: 404 } });
  }
  return { status: 200, kind: 'metadata', body: bytes, snapshot: served.id };
}

function apiRoute(served: ServedIndex, path: string, params: URLSearchParams, codec: CursorCodec): Reply {
  if (path === '/' || path === '') {
    return json(served, { routes: ['/api/v1/search', '/api/v1/packages/{ecosystem}/{name}', '/api/v1/packages/{ecosystem}/{name}/versions', '/api/v1/packages/{ecosystem}/{name}/audit', '/api/v1/snapshot.json', '/api/v1/root.json'] });
  }
  if (path === '/search') {
    const { result, next } = searchPageOf(served, params, codec);
    return json(served, { query: result.query, filters: result.filters, results: result.results, next });
  }
  if (path === '/snapshot.json' || path === '/root.json') return signedFile(served, path.slice(1) as 'snapshot.json' | 'root.json');
  if (path.startsWith('/packages/')) return apiPackage(served, path.slice('/packages'.length));
  throw new McsError('E_NOT_FOUND', `no API route ${JSON.stringify(`/api/v1${path}`)}; see /api/v1/ for the list`, { details: { status: 404 } });
}

function pageContext(served: ServedIndex): PageContext {
  return { freshness: served.freshness(), snapshot: served.id, mode: 'server' };
}

/** The search page, with the results run on the server when the query string asks for any (so it works without JavaScript). */
function searchRoute(served: ServedIndex, params: URLSearchParams, codec: CursorCodec): Reply {
  const filters: Record<string, string | undefined> = {};
  for (const key of FILTER_KEYS) filters[key] = params.get(key) ?? undefined;
  const query = params.get('q') ?? '';
  const asked = [...params.entries()].some(([key, value]) => key !== 'cursor' && value.trim() !== '');
  if (!asked) return { status: 200, kind: 'html', body: searchPage({ query, filters }, pageContext(served)), snapshot: served.id };
  const kept = new URLSearchParams([...params.entries()].filter(([, value]) => value.trim() !== ''));
  try {
    const { result, next } = searchPageOf(served, kept, codec);
    const nextParams = new URLSearchParams(kept);
    if (next) nextParams.set('cursor', next);
    return { status: 200, kind: 'html', body: searchPage({ query, filters, result, ...(next ? { next: `?${nextParams}` } : {}) }, pageContext(served)), snapshot: served.id };
  } catch (error) {
    if (!(error instanceof McsError) || !['E_USAGE', 'E_QUERY_EMPTY', 'E_CURSOR_INVALID'].includes(error.code)) throw error;
    return { status: 400, kind: 'html', body: searchPage({ query, filters, problem: error.message }, pageContext(served)), snapshot: served.id };
  }
}

/** Answers one GET (or HEAD) for `url` (path and query, already capped) from `served`. */
export function route(served: ServedIndex, url: URL, codec: CursorCodec): Reply {
  const path = url.pathname;
  if (path === '/assets/style.css') return { status: 200, kind: 'css', body: STYLE_CSS };
  if (path === '/assets/app.js') return { status: 200, kind: 'js', body: APP_JS };
  if (path === '/assets/icon.svg') return { status: 200, kind: 'svg', body: ICON_SVG };
  if (path === '/api/v1') return { status: 301, kind: 'json', body: '', location: '/api/v1/' };
  if (path.startsWith('/api/v1/')) return apiRoute(served, path.slice('/api/v1'.length), url.searchParams, codec);
  if (path === '/' || path === '/index.html') return searchRoute(served, url.searchParams, codec);
  if (path.startsWith('/packages/')) {
    const match = PACKAGE_PATH.exec(path.slice('/packages'.length));
    if (match && !match[3]) {
      if (!path.endsWith('/')) return { status: 301, kind: 'html', body: '', location: `${path}/` };
      const info = lookup(served, match[1]!, match[2]!);
      return { status: 200, kind: 'html', body: packagePage(info, historyOf(served, info), pageContext(served)), snapshot: served.id };
    }
  }
  throw new McsError('E_NOT_FOUND', `nothing at ${JSON.stringify(path)}`, { details: { status: 404 } });
}
