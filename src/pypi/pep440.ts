/**
 * PEP 440 versions compared and specifiers matched, as the version
 * specification ("Version scheme", "Version specifiers") defines them: enough
 * for requirement markers (PEP 508 compares `python_version` this way) and
 * for resolving a Requires-Dist against the versions an index lists.
 */
import { normalizeVersion } from './filenames.js';

export interface ParsedVersion {
  epoch: number;
  release: number[];
  /** Pre-release: label a/b/rc and number. */
  pre?: [string, number];
  post?: number;
  dev?: number;
  /** Local label segments (numbers compare as numbers, above letters). */
  local: Array<number | string>;
}

/** The parts of a version in normal form (normalizeVersion's output), or null when it is not PEP 440. */
export function parseVersion(text: string): ParsedVersion | null {
  const normal = normalizeVersion(text);
  if (normal === null) return null;
  const m = /^(?:(\d+)!)?(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?(?:\.post(\d+))?(?:\.dev(\d+))?(?:\+(.+))?$/.exec(normal);
  if (!m) return null;
  return {
    epoch: Number(m[1] ?? 0),
    release: m[2]!.split('.').map(Number),
    ...(m[3] !== undefined ? { pre: [m[3], Number(m[4])] as [string, number] } : {}),
    ...(m[5] !== undefined ? { post: Number(m[5]) } : {}),
    ...(m[6] !== undefined ? { dev: Number(m[6]) } : {}),
    local: m[7] === undefined ? [] : m[7].split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part)),
  };
}

const PRE_ORDER: Record<string, number> = { a: 0, b: 1, rc: 2 };

function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRelease(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = compareNumbers(a[i] ?? 0, b[i] ?? 0);
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * The sort key of the pre/post/dev part ("Summary of permitted suffixes and
 * relative ordering"): X.devN < XaN < XbN < XrcN < X < X.postN; a dev release
 * of a pre or post release sorts before it.
 */
function suffixKey(v: ParsedVersion): number[] {
  const pre = v.pre ? [PRE_ORDER[v.pre[0]]!, v.pre[1]] : v.dev !== undefined && v.post === undefined ? [-1, 0] : [3, 0];
  const post = v.post === undefined ? [-1] : [v.post];
  const dev = v.dev === undefined ? [Infinity] : [v.dev];
  return [...pre, ...post, ...dev];
}

function compareLocal(a: Array<number | string>, b: Array<number | string>): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (typeof x === 'number' && typeof y === 'number') {
      const c = compareNumbers(x, y);
      if (c !== 0) return c;
    } else if (typeof x === 'number') return 1;
    else if (typeof y === 'number') return -1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** PEP 440 ordering of two parsed versions: negative, zero or positive. */
export function compareParsed(a: ParsedVersion, b: ParsedVersion, withLocal = true): number {
  let c = compareNumbers(a.epoch, b.epoch) || compareRelease(a.release, b.release);
  if (c !== 0) return c;
  const ka = suffixKey(a);
  const kb = suffixKey(b);
  for (let i = 0; i < ka.length && c === 0; i++) c = compareNumbers(ka[i]!, kb[i]!);
  if (c !== 0 || !withLocal) return c;
  return compareLocal(a.local, b.local);
}

/** PEP 440 ordering of two version strings; null when either is not a version. */
export function compareVersions(a: string, b: string): number | null {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  return pa && pb ? compareParsed(pa, pb) : null;
}

/** Versions in PEP 440 order (oldest first, or newest first), each parsed once; strings that are not versions are left out. */
export function sortVersions(versions: readonly string[], order: 'oldest-first' | 'newest-first' = 'oldest-first'): string[] {
  const parsed = versions.flatMap((text) => {
    const version = parseVersion(text);
    return version ? [{ text, version }] : [];
  });
  const sign = order === 'oldest-first' ? 1 : -1;
  return parsed.sort((a, b) => sign * compareParsed(a.version, b.version)).map((v) => v.text);
}

export function isPrerelease(v: ParsedVersion): boolean {
  return v.pre !== undefined || v.dev !== undefined;
}

const CLAUSE = /^(~=|===|==|!=|<=|>=|<|>)\s*(\S+)$/;

/** The clauses of a specifier text ("", ">=1.0,<2", "(>=1.0)"), trimmed; null when a clause is malformed. */
export function specifierClauses(specifier: string): Array<{ op: string; version: string }> | null {
  let text = specifier.trim();
  if (text.startsWith('(') && text.endsWith(')')) text = text.slice(1, -1).trim();
  if (text === '') return [];
  const clauses: Array<{ op: string; version: string }> = [];
  for (const part of text.split(',')) {
    const m = CLAUSE.exec(part.trim());
    if (!m) return null;
    const [, op, version] = m as unknown as [string, string, string];
    if (op === '===') {
      clauses.push({ op, version });
      continue;
    }
    const wildcard = version.endsWith('.*');
    if (wildcard && op !== '==' && op !== '!=') return null;
    const base = wildcard ? version.slice(0, -2) : version;
    const parsed = parseVersion(base);
    if (!parsed) return null;
    if (wildcard && parsed.local.length > 0) return null;
    if (op === '~=' && parsed.release.length < 2) return null;
    clauses.push({ op, version });
  }
  return clauses;
}

/** Whether one version satisfies one clause ("Version specifiers": each operator's rule). */
function satisfiesClause(v: ParsedVersion, raw: string, op: string, spec: string): boolean {
  if (op === '===') return raw.trim().toLowerCase() === spec.toLowerCase();
  const wildcard = spec.endsWith('.*');
  const s = parseVersion(wildcard ? spec.slice(0, -2) : spec)!;
  if (wildcard) {
    // prefix match on the release segment, with the epoch and any pre/post/dev of the spec
    const padded = [...v.release, ...new Array(Math.max(0, s.release.length - v.release.length)).fill(0)];
    const sameEpoch = v.epoch === s.epoch;
    const prefix = sameEpoch && s.release.every((n, i) => padded[i] === n);
    const suffix = s.pre === undefined && s.post === undefined && s.dev === undefined;
    const match = prefix && (suffix || compareParsed({ ...v, release: padded.slice(0, s.release.length), local: [] }, s, false) === 0);
    return op === '==' ? match : !match;
  }
  const c = compareParsed(v, s, s.local.length > 0);
  switch (op) {
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<=':
      return c <= 0;
    case '>=':
      return c >= 0;
    case '<':
      // "<V" excludes pre-releases of V unless V is one
      return c < 0 && !(isPrerelease(v) && !isPrerelease(s) && compareRelease(v.release, s.release) === 0 && v.epoch === s.epoch);
    case '>':
      // ">V" excludes post-releases of V unless V is one, and local versions of V
      if (c <= 0) return false;
      if (s.post === undefined && v.post !== undefined && v.epoch === s.epoch && compareRelease(v.release, s.release) === 0 && v.pre === undefined && s.pre === undefined) return false;
      return compareParsed(v, s, false) !== 0;
    case '~=': {
      // ~=X.Y.Z means >=X.Y.Z, ==X.Y.*
      const prefix = s.release.slice(0, -1);
      const padded = [...v.release, ...new Array(Math.max(0, prefix.length - v.release.length)).fill(0)];
      return c >= 0 && v.epoch === s.epoch && prefix.every((n, i) => padded[i] === n);
    }
    default:
      return false;
  }
}

export interface MatchOptions {
  /** Accept pre-releases (default: only when a clause names one, as the specification says). */
  prereleases?: boolean;
}

/**
 * Whether a version satisfies a specifier text (every clause); false for a
 * version or specifier that is not PEP 440. Pre-releases are excluded unless
 * asked for or the specifier itself names one.
 */
export function versionSatisfies(version: string, specifier: string, options: MatchOptions = {}): boolean {
  const clauses = specifierClauses(specifier);
  const v = parseVersion(version);
  if (!clauses || !v) return false;
  const allowPre = options.prereleases ?? clauses.some((c) => c.op !== '===' && c.op !== '!=' && isPrerelease(parseVersion(c.version.replace(/\.\*$/, ''))!));
  if (isPrerelease(v) && !allowPre) return false;
  return clauses.every((c) => satisfiesClause(v, version, c.op, c.version));
}
