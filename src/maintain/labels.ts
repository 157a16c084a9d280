/**
 * The label rules an entry can be judged by alone, with no network: one
 * function for `index label` (before it asks the registry) and for
 * `index validate` (which re-checks every label, whatever the log says).
 */
import type { IndexEntry, Label } from '../manifest/types.js';

export interface LabelShortfall {
  /** The version that falls short, or * for the package. */
  version: string;
  codes: string[];
}

/**
 * What an entry lacks for a label (default: the one it carries). Verified
 * (DESIGN: "trust pins the publisher identity, and every non-yanked version
 * has provenance that verifies against that identity") needs a pinned
 * publisher, a live version and provenance recorded on every live version
 * (PyPI: every live file); whether that
 * provenance verifies now is index label's registry check. Reference and
 * Community have no rule an entry alone can break.
 */
export function labelShortfalls(entry: IndexEntry, value: Label = entry.label.value): LabelShortfall[] {
  if (value !== 'verified') return [];
  const live = Object.entries(entry.versions).filter(([, record]) => !record.yanked);
  const shortfalls: LabelShortfall[] = [];
  if (!entry.trust?.publisher) shortfalls.push({ version: '*', codes: ['no pinned publisher identity (trust.publisher)'] });
  if (live.length === 0) shortfalls.push({ version: '*', codes: ['no pinned version'] });
  for (const [version, record] of live) if (!record.provenance || record.files?.some((file) => file.provenance === false)) shortfalls.push({ version, codes: ['published without provenance'] });
  return shortfalls;
}

/** The shortfalls as one line: "no pinned publisher identity (trust.publisher); 1.2.0 (published without provenance)". */
export function describeShortfalls(shortfalls: LabelShortfall[]): string {
  return shortfalls.map((s) => (s.version === '*' ? s.codes.join(', ') : `${s.version} (${s.codes.join(', ')})`)).join('; ');
}
