/**
 * Search, the pure part: turning what a person typed into a plan the store
 * can run, and the shapes of what comes back. FTS5 has a query language of
 * its own (AND, OR, NEAR, quotes, *, column filters); user text never reaches
 * it raw: only words survive, each quoted as a string, and the expression
 * around them (synonyms, compound parts, passes) is built here.
 */
import { DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT } from '../config.js';
import { McsError, wholeNumber } from '../errors.js';
import type { Ecosystem, Label, PackageClass, Permission } from '../manifest/types.js';
import { compoundParts, joinLetterHyphens } from './analyze.js';
import type { SearchPlan } from './db.js';
import type { PackageSummary } from './rows.js';
import { STOP_WORDS, SYNONYMS } from './synonyms.js';

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

/** A word of the query the index does not know, and the known word searched for instead. */
export interface Correction {
  from: string;
  to: string;
}

export interface SearchResult {
  query: string;
  filters: SearchFilters;
  results: SearchHit[];
  /** Present when words of the query were unknown and close to known ones: the results are for `query` here. */
  suggestion?: { query: string; corrections: Correction[] };
}

export const MAX_QUERY_LENGTH = 256;
const MAX_TERMS = 16;
/** Operator words of FTS5; typed in capitals they are meant as syntax, not as words to find. */
const OPERATOR_WORDS = new Set(['AND', 'OR', 'NOT', 'NEAR']);

/**
 * The words of a query as the index cuts text (see analyze.ts), lowercased:
 * e-mail is email, and a camelCase word is its parts (sendEmail: send, email).
 */
export function queryTerms(query: string): string[] {
  const words = joinLetterHyphens(query.normalize('NFKC')).match(/[\p{L}\p{N}]+/gu) ?? [];
  return words
    .filter((w) => !OPERATOR_WORDS.has(w))
    .flatMap((w) => {
      const parts = compoundParts(w);
      return parts.length > 1 && w !== w.toLowerCase() ? parts : [w.toLowerCase()];
    })
    .slice(0, MAX_TERMS);
}

/** The words worth searching for: without stop words, unless nothing else is left. */
export function contentTerms(terms: string[]): string[] {
  const useful = terms.filter((t) => !STOP_WORDS.has(t));
  return [...new Set(useful.length > 0 ? useful : terms)];
}

/** One word as an FTS5 string (a phrase when the tokenizer splits it), a prefix query when asked. */
export function ftsString(word: string, prefix = false): string {
  return `"${word.replace(/"/g, '""')}"${prefix ? '*' : ''}`;
}

/**
 * What one typed word matches: itself, its synonyms, and, for a compound,
 * all of its parts (each with its synonyms): mailsend is "mailsend" OR
 * (("mail" OR "email") AND "send").
 */
export function termExpression(term: string, prefix = false, depth = 0): string {
  const alternatives = [ftsString(term, prefix), ...(SYNONYMS[term] ?? []).map((s) => ftsString(s))];
  const parts = depth === 0 ? compoundParts(term) : [];
  if (parts.length > 1) alternatives.push(`(${parts.map((p) => termExpression(p, false, depth + 1)).join(' AND ')})`);
  return alternatives.length === 1 ? alternatives[0]! : `(${alternatives.join(' OR ')})`;
}

/** Subsets of `size` items out of n, as index lists, in order. */
function subsets(n: number, size: number): number[][] {
  if (size === 0) return [[]];
  if (n < size) return [];
  return [...subsets(n - 1, size - 1).map((s) => [...s, n - 1]), ...subsets(n - 1, size)];
}

/** Most subsets a "most of the words" pass combines; beyond it the pass is skipped. */
const MAX_SUBSETS = 20;

/**
 * The full-text passes of a query, in rank order: every word as typed;
 * every word with the last also matching as a prefix, as a person types;
 * then, for three words or more, packages matching all but one, all but
 * two, ... down to a strict majority of the words.
 */
export function textPasses(terms: string[]): string[] {
  if (terms.length === 0) return [];
  const exact = terms.map((t) => termExpression(t));
  const passes = [exact.join(' AND ')];
  const last = terms.length - 1;
  passes.push([...exact.slice(0, last), termExpression(terms[last]!, true)].join(' AND '));
  const majority = Math.floor(terms.length / 2) + 1;
  for (let size = terms.length - 1; size >= majority; size--) {
    const groups = subsets(terms.length, size);
    if (groups.length > MAX_SUBSETS) break;
    passes.push(groups.map((g) => `(${g.map((i) => exact[i]).join(' AND ')})`).join(' OR '));
  }
  return passes;
}

function asList<T extends string>(value: T | T[] | undefined): T[] | undefined {
  if (value === undefined) return undefined;
  const list = (Array.isArray(value) ? value : [value]).map((v) => v.trim().toLowerCase() as T).filter((v) => v !== '');
  return list.length > 0 ? list : undefined;
}

/** A search plan and the words it searches for (which typo correction checks). */
export interface QueryPlan extends SearchPlan {
  words: string[];
}

/**
 * Validates a query and its filters and plans the lookup. An empty query is
 * allowed only with at least one filter (then it lists what the filters keep).
 */
export function planSearch(query: string, filters: SearchFilters = {}, options: SearchOptions = {}): QueryPlan {
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
  const words = contentTerms(terms);
  const passes = textPasses(words);
  const capabilities = [...new Set([text, ...words])].filter((c) => c !== '');
  return { text: terms.length === 0 ? '' : text, passes, capabilities, capabilityMatch: words.length > 1 ? passes[0]! : null, filters: planFilters, limit, words };
}

/** Most edits between a typed word and the known word it is corrected to: one for short words, two from six letters. */
export function maxTypoDistance(word: string): number {
  return word.length >= 6 ? 2 : 1;
}

/** Whether a typed word is one typo correction may replace: letters only, at least three of them, not a stop word or synonym. */
export function correctable(word: string): boolean {
  return word.length >= 3 && /^\p{L}+$/u.test(word) && !STOP_WORDS.has(word) && SYNONYMS[word] === undefined;
}

/**
 * The known word a mistyped one most probably means: the closest within
 * maxTypoDistance(), then the one in the most packages, then the first in
 * order; none when nothing is close enough.
 */
export function closestWord(word: string, known: ReadonlyArray<{ word: string; packages: number }>): string | undefined {
  const limit = maxTypoDistance(word);
  let best: { word: string; packages: number; distance: number } | undefined;
  for (const candidate of known) {
    if (Math.abs(candidate.word.length - word.length) > limit) continue;
    const distance = editDistance(word, candidate.word);
    if (distance === 0 || distance > limit) continue;
    const better = !best || distance < best.distance || (distance === best.distance && (candidate.packages > best.packages || (candidate.packages === best.packages && candidate.word < best.word)));
    if (better) best = { ...candidate, distance };
  }
  return best?.word;
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
