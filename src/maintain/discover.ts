/**
 * `index discover`: candidates found through the registry's search by the MCS
 * naming convention, with whether the index already has them. Reads only.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parsePackageName } from '../manifest/names.js';
import { RegistryClient, type RegistryClientOptions } from '../registry/client.js';

export const PREFIXES = ['mcs-driver-', 'mcs-orchestrator-', 'mcs-adapter-', 'mcs-bundle-'] as const;
const PAGE = 250;
/** Results read per prefix at most, whatever the registry claims its total is. */
export const DEFAULT_MAX_RESULTS = 2000;

export interface Candidate {
  name: string;
  version: string;
  description?: string;
  /** True when index-data has no npm entry for it. */
  new: boolean;
}

/** Every package the search returns that follows the naming convention, sorted by name; `new` says which the index lacks. */
export async function discover(indexDir: string, options: { registry?: RegistryClientOptions; maxResults?: number; onPage?: (prefix: string, read: number, total: number) => void } = {}): Promise<Candidate[]> {
  const client = new RegistryClient(options.registry ?? {});
  const found = new Map<string, Candidate>();
  const cap = options.maxResults ?? DEFAULT_MAX_RESULTS;
  for (const prefix of PREFIXES) {
    for (let from = 0; from < cap; ) {
      const page = await client.search(prefix, from, Math.min(PAGE, cap - from));
      for (const result of page.results) {
        const bare = result.name.replace(/^@[^/]+\//, '');
        if (!PREFIXES.some((p) => bare.startsWith(p)) || found.has(result.name)) continue;
        try {
          parsePackageName(result.name, 'npm');
        } catch {
          continue;
        }
        found.set(result.name, { ...result, new: !existsSync(join(indexDir, 'npm', `${result.name}.json`)) });
      }
      from += page.results.length;
      options.onPage?.(prefix, from, page.total);
      if (page.results.length === 0 || from >= page.total) break;
    }
  }
  return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
