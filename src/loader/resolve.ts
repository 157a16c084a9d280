/**
 * Which driver to load for a query: by exact package name (optionally with a
 * version or semver range, and an ecosystem: `pypi:NAME`, `NAME@1.2.0`,
 * `npm:NAME@^1`), or by capability (with an adapter and a target model when
 * given). Candidates come from the
 * index; each version is judged by the trust policy's rules that need no
 * bytes (deny, label, yanked, contract, release age, provenance), best label
 * first, then the highest accepted version. The answer says why every other
 * candidate was turned down.
 */
import satisfies from 'semver/functions/satisfies.js';
import validRange from 'semver/ranges/valid.js';
import { McsError } from '../errors.js';
import { parseLookup, type McsIndex } from '../index/store.js';
import { compareVersions } from '../index/rows.js';
import { parsePackageName } from '../manifest/names.js';
import type { Ecosystem, IndexEntry, TrustPolicy } from '../manifest/types.js';
import { LABEL_RANK } from '../index/rows.js';
import { evaluatePolicy, resolvePolicy } from '../trust/policy.js';
import { assertIndexFresh } from '../snapshot/installed.js';

export interface DriverQuery {
  /** An exact package name. */
  name?: string;
  /** With a name: the version to load, exact or a semver range (default: the highest the policy accepts). */
  version?: string;
  /** Where the package lives (default npm, the ecosystem the loader runs). */
  ecosystem?: Ecosystem;
  capability?: string;
  adapter?: string;
  /** A model the driver must target ("*" drivers qualify). */
  llm?: string;
}

export interface ResolveOptions {
  /** What to accept; fields left out take DEFAULT_POLICY's values (a ResolvedPolicy is one too). */
  policy?: TrustPolicy;
  /** The time the rules judge at (release age, expiry). Default: now. */
  now?: Date;
  /** The MCS contract version the host implements. */
  contractVersion?: string;
  /** Most candidate packages considered for a capability query. */
  maxCandidates?: number;
  /** Resolve even in an installed index whose snapshot has expired (default false: E_INDEX_EXPIRED; run `mcs-pkg update` instead). */
  allowExpiredIndex?: boolean;
}

export interface Rejection {
  name: string;
  version?: string;
  code: string;
  reason: string;
}

export interface Resolution {
  query: DriverQuery;
  chosen?: { name: string; version: string; entry: IndexEntry };
  /** Every candidate version that was turned down, with the rule's reason. */
  rejected: Rejection[];
}

/** A version as a query may name it: a semver range (an exact version is one), or an exact version of another scheme (PEP 440). */
function assertVersionSpec(version: string, query: unknown): void {
  if (version.trim() === '' || version.length > 256 || (validRange(version) === null && !/^[0-9A-Za-z][0-9A-Za-z.+!_-]{0,63}$/.test(version))) {
    throw new McsError('E_USAGE', `${JSON.stringify(version.slice(0, 100))} is neither a version nor a semver range (in the query ${JSON.stringify(query)})`, { details: { query, version } });
  }
}

/**
 * Reads a query string: `[npm:|pypi:]NAME[@VERSION]`, where NAME follows the
 * MCS naming convention and VERSION is exact or a semver range, or
 * `[npm:|pypi:]CAPABILITY`.
 */
export function toDriverQuery(query: string | DriverQuery): DriverQuery {
  if (typeof query !== 'string') {
    if (query.version !== undefined) {
      if (!query.name) throw new McsError('E_USAGE', 'a driver query with a version needs a package name', { details: { query } });
      assertVersionSpec(query.version, query);
    }
    return query;
  }
  const prefixed = /^(npm|pypi):(.*)$/i.exec(query);
  const ecosystem = prefixed ? (prefixed[1]!.toLowerCase() as Ecosystem) : undefined;
  const rest = prefixed ? prefixed[2]! : query;
  const at = rest.lastIndexOf('@');
  const version = at > 0 ? rest.slice(at + 1) : undefined;
  const word = at > 0 ? rest.slice(0, at) : rest;
  const scope = ecosystem ? { ecosystem } : {};
  let name: string | undefined;
  let notAName: unknown;
  try {
    name = parseLookup(word, ecosystem ?? 'npm').name;
    parsePackageName(name, ecosystem ?? 'npm');
  } catch (error) {
    name = undefined;
    notAName = error;
  }
  if (name !== undefined) {
    if (version !== undefined) assertVersionSpec(version, query);
    return { name, ...(version !== undefined ? { version } : {}), ...scope };
  }
  if (version !== undefined) {
    throw new McsError('E_USAGE', `${JSON.stringify(query)}: a version goes with a package name (NAME@VERSION), and ${JSON.stringify(word)} is not one: ${(notAName as Error).message}`, { cause: notAName, details: { query } });
  }
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(word)) {
    throw new McsError('E_USAGE', `${JSON.stringify(query)} is neither an MCS package name (optionally npm:NAME, pypi:NAME, NAME@VERSION) nor a capability`, { details: { query } });
  }
  return { capability: word, ...scope };
}

/** Whether a pinned version is the one a query asks for: the same string, or a semver version in the range. */
function versionMatches(pinned: string, wanted: string): boolean {
  if (pinned === wanted) return true;
  try {
    return validRange(wanted) !== null && satisfies(pinned, wanted);
  } catch {
    return false;
  }
}

/** The loader's ecosystems, in the order a query that names none prefers them at equal label. */
const LOADABLE: readonly Ecosystem[] = ['npm', 'pypi'];

function candidates(index: McsIndex, query: DriverQuery, max: number): IndexEntry[] {
  const ecosystems = query.ecosystem ? [query.ecosystem] : LOADABLE;
  if (query.name) {
    return ecosystems.flatMap((ecosystem) => {
      try {
        return [index.getPackage(`${ecosystem}:${query.name}`).entry];
      } catch (error) {
        if (error instanceof McsError && error.code === 'E_NOT_FOUND') return [];
        throw error;
      }
    });
  }
  if (!query.capability) throw new McsError('E_USAGE', 'a driver query needs a package name or a capability', { details: { query } });
  const filters = { capability: query.capability, ...(query.ecosystem ? { ecosystem: query.ecosystem } : {}), ...(query.adapter ? { adapter: query.adapter } : {}), ...(query.llm ? { llm: query.llm } : {}) };
  return index.search('', filters, { limit: max }).results
    .filter((hit) => LOADABLE.includes(hit.ecosystem))
    .map((hit) => index.getPackage(`${hit.ecosystem}:${hit.name}`).entry);
}

/** Resolves a query to one package version the policy accepts, or to none with the reasons. */
export function resolveDriver(index: McsIndex, query: string | DriverQuery, options: ResolveOptions = {}): Resolution {
  const parsed = toDriverQuery(query);
  const policy = resolvePolicy(options.policy);
  const now = options.now ?? new Date();
  // an expired snapshot may be a frozen one: nothing is resolved from it unless the caller accepts that
  assertIndexFresh(index.freshness(now), options.allowExpiredIndex ?? false);
  const rejected: Rejection[] = [];
  const accepted: Array<{ name: string; version: string; entry: IndexEntry }> = [];
  for (const entry of candidates(index, parsed, options.maxCandidates ?? 50)) {
    const pinned = Object.keys(entry.versions).sort((a, b) => compareVersions(b, a));
    const wanted = parsed.version;
    const versions = wanted === undefined ? pinned : pinned.filter((version) => versionMatches(version, wanted));
    if (versions.length === 0) {
      const reason = wanted === undefined ? 'the index pins no version of it' : `the index pins no version that matches ${wanted} (pinned: ${pinned.join(', ') || 'none'})`;
      rejected.push({ name: entry.name, ...(wanted !== undefined ? { version: wanted } : {}), code: 'E_POLICY_UNPINNED', reason });
      continue;
    }
    for (const version of versions) {
      const results = evaluatePolicy({
        name: entry.name,
        version,
        entry,
        ...(options.contractVersion ? { contractVersion: options.contractVersion } : {}),
        policy,
        now,
      });
      const refusal = results.find((r) => r.status === 'fail');
      if (refusal) {
        rejected.push({ name: entry.name, version, code: refusal.code ?? 'E_POLICY_LABEL', reason: refusal.message });
        continue;
      }
      accepted.push({ name: entry.name, version, entry });
      break; // versions are highest first: the first accepted one is this package's candidate
    }
  }
  accepted.sort((a, b) => LABEL_RANK[a.entry.label.value] - LABEL_RANK[b.entry.label.value] || LOADABLE.indexOf(a.entry.ecosystem) - LOADABLE.indexOf(b.entry.ecosystem) || compareVersions(b.version, a.version) || (a.name < b.name ? -1 : 1));
  const chosen = accepted[0];
  return { query: parsed, ...(chosen ? { chosen } : {}), rejected };
}
