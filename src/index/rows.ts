/**
 * Pure translation of a validated index entry into what the store keeps:
 * filter facets, full-text fields and a compact summary for result lines.
 */
import compareSemver from 'semver/functions/compare.js';
import validSemver from 'semver/functions/valid.js';
import { confusableSkeleton, parsePackageName } from '../manifest/names.js';
import { allDeclaredDrivers } from '../manifest/declarations.js';
import type { DeclaredDriver, IndexEntry, Label } from '../manifest/types.js';
import { indexText, vocabularyWords } from './analyze.js';
import type { FacetKind, PackageRow } from './db.js';

/** Verified and Reference rank above Community at equal relevance. */
export const LABEL_RANK: Readonly<Record<Label, number>> = { verified: 0, reference: 0, community: 1 };

export type ProvenanceSummary = 'all' | 'some' | 'none';

/** What a search result line shows, stored with the row so results never parse the full document. */
export interface PackageSummary {
  capabilities: string[];
  adapters: string[];
  llms: string[];
  permissions: string[];
  /** Pinned, non-yanked versions. */
  versions: number;
  /** How many of those versions have provenance. */
  provenance: ProvenanceSummary;
  tools: number;
  /** The reason of a quarantine, when the index holds the package. */
  quarantine?: string;
}

/** Orders versions: semver where both parse, else numeric by dotted segment (PEP 440 releases such as 0.1). */
export function compareVersions(a: string, b: string): number {
  if (validSemver(a) && validSemver(b)) return compareSemver(a, b);
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (x === y) continue;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The highest version that is not yanked, or null when none is pinned. */
export function latestVersion(entry: IndexEntry): string | null {
  let best: string | null = null;
  for (const [version, record] of Object.entries(entry.versions)) {
    if (record.yanked) continue;
    if (best === null || compareVersions(version, best) > 0) best = version;
  }
  return best;
}

/**
 * The declaration that describes the package in search: the newest version's
 * that is not yanked and has one; else the newest declared version's; else
 * the one read from source for no known release; else none.
 */
export function currentDeclaration(entry: Pick<IndexEntry, 'declarations' | 'versions'>): DeclaredDriver[] {
  let live: { version: string; drivers: DeclaredDriver[] } | undefined;
  let any: typeof live;
  for (const declaration of entry.declarations ?? []) {
    for (const version of declaration.versions ?? []) {
      if (!any || compareVersions(version, any.version) > 0) any = { version, drivers: declaration.drivers };
      if (!entry.versions[version]?.yanked && (!live || compareVersions(version, live.version) > 0)) live = { version, drivers: declaration.drivers };
    }
  }
  return (live ?? any)?.drivers ?? entry.declarations?.find((d) => !d.versions)?.drivers ?? [];
}

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

export function summarize(entry: IndexEntry): PackageSummary {
  const parsed = parsePackageName(entry.name, entry.ecosystem);
  const drivers = currentDeclaration(entry);
  const bindings = drivers.flatMap((d) => d.meta.bindings);
  const capabilities = unique([...(parsed.capability ? [parsed.capability] : []), ...bindings.map((b) => b.capability)]);
  const adapters = unique([...(parsed.source ? [parsed.source] : []), ...bindings.map((b) => b.adapter)]);
  const llms = unique([...drivers.flatMap((d) => d.meta.target_llms ?? []), ...(entry.compatibility?.llms ?? [])]);
  const live = Object.values(entry.versions).filter((v) => !v.yanked);
  const withProvenance = live.filter((v) => v.provenance).length;
  return {
    capabilities,
    adapters,
    llms,
    permissions: entry.security?.permissions ?? [],
    versions: live.length,
    provenance: live.length > 0 && withProvenance === live.length ? 'all' : withProvenance > 0 ? 'some' : 'none',
    tools: drivers.reduce((n, d) => n + (d.tools?.length ?? 0), 0),
    ...(entry.quarantine ? { quarantine: entry.quarantine.reason } : {}),
  };
}

/** Builds the stored row of a validated entry read from `source` (a path relative to the index folder). */
export function toPackageRow(entry: IndexEntry, source: string): PackageRow {
  const summary = summarize(entry);
  const drivers = currentDeclaration(entry);
  const facets: Array<[FacetKind, string]> = [
    ...summary.capabilities.map((v): [FacetKind, string] => ['capability', v]),
    ...summary.adapters.map((v): [FacetKind, string] => ['adapter', v]),
    ...summary.llms.map((v): [FacetKind, string] => ['llm', v]),
    ...summary.permissions.map((v): [FacetKind, string] => ['permission', v]),
  ];
  const tools = drivers.flatMap((d) => d.tools ?? []);
  const fts = {
    name: indexText(entry.name),
    description: indexText([entry.description, ...(entry.keywords ?? []), ...drivers.map((d) => d.meta.name)].join(' ')),
    capabilities: indexText(unique([...summary.capabilities, ...drivers.flatMap((d) => d.meta.capabilities)]).join(' ')),
    adapters: indexText(summary.adapters.filter((a) => a !== '*').join(' ')),
    tools: indexText(tools.map((t) => [t.name, t.title ?? '', t.description ?? ''].join(' ')).join(' ')),
    // permissions say what a package may touch, not what it is for: filesystem:read is not split into "file"
    security: [...summary.permissions, ...(entry.security?.notes ?? []).map((n) => n.text)].join(' '),
    parameters: indexText(tools.flatMap((t) => (t.parameters ?? []).flatMap((p) => [p.name, p.description])).join(' ')),
  };
  const words = new Set<string>();
  for (const text of Object.values(fts)) vocabularyWords(text, words);
  const toolNames = indexText(tools.map((t) => t.name).join(' '));
  return {
    name: entry.name,
    ecosystem: entry.ecosystem,
    class: entry.class,
    description: entry.description,
    label: entry.label.value,
    labelRank: LABEL_RANK[entry.label.value],
    latest: latestVersion(entry),
    skeleton: confusableSkeleton(entry.name),
    source,
    summary: JSON.stringify(summary),
    doc: JSON.stringify(entry),
    // every id any version declares stays this package's: another package declaring one is a conflict
    driverIds: unique(allDeclaredDrivers(entry).map((d) => d.meta.id)),
    facets,
    fts,
    head: { name: fts.name, capabilities: fts.capabilities, tools: toolNames },
    words: [...words],
  };
}
