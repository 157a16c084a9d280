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

export interface ValidateOptions {
  /** The index root the audit log's signatures are checked against (default: root.json in the index folder). */
  root?: string;
  /** A snapshot folder the index was published into: the log must extend the one its snapshot.json signs (records dropped since are caught). */
  published?: string;
}

/** Checks every file of an index folder (default: the embedded one) without writing anything. */
export async function validateIndex(indexDir?: string, options: ValidateOptions = {}): Promise<ValidationReport> {
  const { embeddedIndexDir } = await import('../config.js');
  const { validateIndexDir } = await import('./build.js');
  const { publishedLog } = await import('../snapshot/publish.js');
  const published = options.published === undefined ? undefined : publishedLog(options.published);
  return validateIndexDir(indexDir ?? embeddedIndexDir(), { ...(options.root ? { root: options.root } : {}), ...(published ? { published } : {}) });
}
