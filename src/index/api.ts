/** One-shot forms of the index API: open, do one thing, close. */
import type { SearchFilters, SearchOptions, SearchResult } from './search.js';
import { openIndex, type OpenIndexOptions, type PackageInfo } from './store.js';
import type { ValidationReport } from './build.js';
import type { Ecosystem } from '../manifest/types.js';

/** One-shot search: opens the index (building it if needed), searches, closes. */
export async function search(query: string, filters: SearchFilters = {}, options: SearchOptions & OpenIndexOptions = {}): Promise<SearchResult> {
  const index = await openIndex(options);
  try {
    return index.search(query, filters, options);
  } finally {
    index.close();
  }
}

/** One-shot lookup of a package by `name` or `<ecosystem>:name`. */
export async function getPackage(spec: string, options: { ecosystem?: Ecosystem } & OpenIndexOptions = {}): Promise<PackageInfo> {
  const index = await openIndex(options);
  try {
    return index.getPackage(spec, options);
  } finally {
    index.close();
  }
}

/** Checks every file of an index folder (default: the embedded one) without writing anything. */
export async function validateIndex(indexDir?: string): Promise<ValidationReport> {
  const { embeddedIndexDir } = await import('../config.js');
  const { validateIndexDir } = await import('./build.js');
  return validateIndexDir(indexDir ?? embeddedIndexDir());
}
