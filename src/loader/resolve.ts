/**
 * Which driver to load for a query: by exact package name, or by capability
 * (with an adapter and a target model when given). Candidates come from the
 * index; each version is judged by the trust policy's rules that need no
 * bytes (deny, label, yanked, contract, release age, provenance), best label
 * first, then the highest accepted version. The answer says why every other
 * candidate was turned down.
 */
import { McsError } from '../errors.js';
import type { McsIndex } from '../index/store.js';
import { compareVersions } from '../index/rows.js';
import { parsePackageName } from '../manifest/names.js';
import type { IndexEntry } from '../manifest/types.js';
import { LABEL_RANK } from '../index/rows.js';
import { evaluatePolicy, type ResolvedPolicy } from '../trust/policy.js';

export interface DriverQuery {
  /** An exact package name. */
  name?: string;
  capability?: string;
  adapter?: string;
  /** A model the driver must target ("*" drivers qualify). */
  llm?: string;
}

export interface ResolveOptions {
  policy: ResolvedPolicy;
  now: Date;
  /** The MCS contract version the host implements. */
  contractVersion?: string;
  /** Most candidate packages considered for a capability query. */
  maxCandidates?: number;
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
  /** When nothing on npm matched: matching packages of other ecosystems (ecosystem:name), which the loader cannot load. */
  elsewhere?: string[];
}

/** Reads a query string: a package name (it follows the MCS naming convention) or a capability word. */
export function toDriverQuery(query: string | DriverQuery): DriverQuery {
  if (typeof query !== 'string') return query;
  try {
    parsePackageName(query, 'npm');
    return { name: query };
  } catch {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(query)) {
      throw new McsError('E_USAGE', `${JSON.stringify(query)} is neither an MCS package name nor a capability`, { details: { query } });
    }
    return { capability: query };
  }
}

function candidates(index: McsIndex, query: DriverQuery, max: number): IndexEntry[] {
  if (query.name) {
    try {
      return [index.getPackage(`npm:${query.name}`).entry];
    } catch (error) {
      if (error instanceof McsError && error.code === 'E_NOT_FOUND') return [];
      throw error;
    }
  }
  if (!query.capability) throw new McsError('E_USAGE', 'a driver query needs a package name or a capability', { details: { query } });
  const filters = { capability: query.capability, ecosystem: 'npm' as const, ...(query.adapter ? { adapter: query.adapter } : {}), ...(query.llm ? { llm: query.llm } : {}) };
  return index.search('', filters, { limit: max }).results.map((hit) => index.getPackage(`npm:${hit.name}`).entry);
}

/** Resolves a query to one package version the policy accepts, or to none with the reasons. */
export function resolveDriver(index: McsIndex, query: string | DriverQuery, options: ResolveOptions): Resolution {
  const parsed = toDriverQuery(query);
  const rejected: Rejection[] = [];
  const accepted: Array<{ name: string; version: string; entry: IndexEntry }> = [];
  for (const entry of candidates(index, parsed, options.maxCandidates ?? 50)) {
    const versions = Object.keys(entry.versions).sort((a, b) => compareVersions(b, a));
    if (versions.length === 0) {
      rejected.push({ name: entry.name, code: 'E_POLICY_UNPINNED', reason: 'the index pins no version of it' });
      continue;
    }
    for (const version of versions) {
      const results = evaluatePolicy({
        name: entry.name,
        version,
        entry,
        ...(options.contractVersion ? { contractVersion: options.contractVersion } : {}),
        policy: options.policy,
        now: options.now,
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
  accepted.sort((a, b) => LABEL_RANK[a.entry.label.value] - LABEL_RANK[b.entry.label.value] || compareVersions(b.version, a.version) || (a.name < b.name ? -1 : 1));
  const chosen = accepted[0];
  const elsewhere = !chosen && rejected.length === 0 ? otherEcosystems(index, parsed) : [];
  return { query: parsed, ...(chosen ? { chosen } : {}), rejected, ...(elsewhere.length > 0 ? { elsewhere } : {}) };
}

/** Packages outside npm that the query would match: the index lists them, but the loader runs npm drivers only. */
function otherEcosystems(index: McsIndex, query: DriverQuery): string[] {
  if (query.name) return index.search(query.name, { ecosystem: 'pypi' }, { limit: 5 }).results.filter((hit) => hit.name === query.name).map((hit) => `pypi:${hit.name}`);
  if (!query.capability) return [];
  return index.search('', { capability: query.capability, ecosystem: 'pypi' }, { limit: 5 }).results.map((hit) => `pypi:${hit.name}`);
}
