/**
 * Search, the pure part: turning what a person typed into a plan the store
 * can run, and the shapes of what comes back. FTS5 has a query language of
 * its own (AND, OR, NEAR, quotes, *, column filters); user text never reaches
 * it raw: only words survive, each quoted as a prefix term.
 */
import { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT } from '../config.js';
import { McsError, wholeNumber } from '../errors.js';
import type { Ecosystem, Label, PackageClass, Permission } from '../manifest/types.js';
import type { SearchPlan } from './db.js';
import type { PackageSummary } from './rows.js';

/** Facet filters; several values of one facet match any of them, different facets must all match. */
export interface SearchFilters {
  capability?: string | string[];
  /** Matches drivers bound to this adapter or to any adapter ("*"), and the adapter packages for it. */
  adapter?: string | string[];
  label?: Label | Label[];
  /** Matches drivers that target this model or any model ("*"). */
  llm?: string | string[];
  ecosystem?: Ecosystem | Ecosystem[];
  class?: PackageClass | PackageClass[];
  permission?: Permission | Permission[];
}

/** The facet filters, in the order the CLI lists them. */
export const FILTER_KEYS = ['capability', 'adapter', 'label', 'llm', 'ecosystem', 'class', 'permission'] as const satisfies ReadonlyArray<keyof SearchFilters>;

export interface SearchOptions {
  /** Most results to return. Default DEFAULT_SEARCH_LIMIT, at most MAX_SEARCH_LIMIT. */
  limit?: number;
}

export type MatchKind = 'name' | 'name-prefix' | 'capability' | 'text' | 'filter';

export interface SearchHit extends PackageSummary {
  name: string;
  ecosystem: Ecosystem;
  class: PackageClass;
  label: Label;
  description: string;
  latest: string | null;
  /** Why it matched: the strongest of exact name, name prefix, capability, text. */
  match: MatchKind;
}

export interface SearchResult {
  query: string;
  filters: SearchFilters;
  results: SearchHit[];
}

export const MAX_QUERY_LENGTH = 256;
const MAX_TERMS = 16;
/** Operator words of FTS5; typed in capitals they are meant as syntax, not as words to find. */
const OPERATOR_WORDS = new Set(['AND', 'OR', 'NOT', 'NEAR']);

/** The words of a query as FTS5's unicode61 tokenizer would split them, lowercased. */
export function queryTerms(query: string): string[] {
  const words = query.normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.filter((w) => !OPERATOR_WORDS.has(w)).map((w) => w.toLowerCase()).slice(0, MAX_TERMS);
}

/** Words every MCS package name contains: they narrow nothing, so they are not searched for unless alone. */
const STOP_TERMS = new Set(['mcs']);

/**
 * An FTS5 expression matching entries that contain every term (stemmed);
 * with `prefixLast`, the last term also matches as a word prefix, as a
 * person types.
 */
export function toMatchExpression(terms: string[], prefixLast = true): string | null {
  const useful = terms.filter((t) => !STOP_TERMS.has(t));
  const chosen = useful.length > 0 ? useful : terms;
  if (chosen.length === 0) return null;
  return chosen.map((t, i) => `"${t.replace(/"/g, '""')}"${prefixLast && i === chosen.length - 1 ? '*' : ''}`).join(' ');
}

function asList<T extends string>(value: T | T[] | undefined): T[] | undefined {
  if (value === undefined) return undefined;
  const list = (Array.isArray(value) ? value : [value]).map((v) => v.trim().toLowerCase() as T).filter((v) => v !== '');
  return list.length > 0 ? list : undefined;
}

/**
 * Validates a query and its filters and plans the lookup. An empty query is
 * allowed only with at least one filter (then it lists what the filters keep).
 */
export function planSearch(query: string, filters: SearchFilters = {}, options: SearchOptions = {}): SearchPlan {
  if (query.length > MAX_QUERY_LENGTH) {
    throw new McsError('E_USAGE', `search query is ${query.length} characters long; the limit is ${MAX_QUERY_LENGTH}`, {
      details: { limit: MAX_QUERY_LENGTH, found: query.length },
    });
  }
  const limit = wholeNumber(options.limit ?? DEFAULT_SEARCH_LIMIT, 'limit', 1, MAX_SEARCH_LIMIT);
  const planFilters: SearchPlan['filters'] = {};
  for (const key of FILTER_KEYS) {
    const list = asList(filters[key] as string | string[] | undefined);
    if (list) planFilters[key] = list;
  }
  const text = query.normalize('NFKC').trim().toLowerCase().replace(/\s+/g, ' ');
  const terms = queryTerms(query);
  if (terms.length === 0 && Object.keys(planFilters).length === 0) {
    throw new McsError(
      'E_QUERY_EMPTY',
      query.trim() === ''
        ? 'nothing to search for: give a query or at least one filter (--capability, --adapter, ...)'
        : `the query ${JSON.stringify(query)} has no words to search for; give letters or digits, or a filter`,
      { details: { query } },
    );
  }
  return { text: terms.length === 0 ? '' : text, match: toMatchExpression(terms, false), prefixMatch: toMatchExpression(terms, true), filters: planFilters, limit };
}

const MATCH_BY_TIER: readonly MatchKind[] = ['name', 'name-prefix', 'capability', 'text'];

export function matchKind(tier: number, planText: string): MatchKind {
  return planText === '' ? 'filter' : (MATCH_BY_TIER[tier] ?? 'text');
}

/** Edit distance counting an adjacent transposition (csv/cvs) as one edit. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** Prefixes of a mistyped name worth scanning for candidates: a few characters short of it, and its first half. */
export function suggestionPrefixes(name: string): string[] {
  const lengths = new Set([name.length - 1, name.length - 2, name.length - 3, Math.floor(name.length / 2)]);
  return [...lengths].filter((n) => n >= 3).map((n) => name.slice(0, n));
}

/** The candidates within a small edit distance of `name`, closest first. */
export function closestNames(name: string, candidates: Iterable<string>, most = 3): string[] {
  const limit = name.length > 20 ? 3 : 2;
  return [...new Set(candidates)]
    .map((candidate) => ({ candidate, distance: editDistance(name, candidate) }))
    .filter((c) => c.distance > 0 && c.distance <= limit)
    .sort((x, y) => x.distance - y.distance || (x.candidate < y.candidate ? -1 : 1))
    .slice(0, most)
    .map((c) => c.candidate);
}
