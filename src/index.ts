/** The public API of mcs-pkg. */
export { McsError, isMcsError, exitCodeFor } from './errors.js';
export type { McsErrorCode, JsonErrorCode, ManifestErrorCode, IndexErrorCode, UsageErrorCode } from './errors.js';
export { openIndex, buildIndex, McsIndex, parseLookup } from './index/store.js';
export type { OpenIndexOptions, IndexStatus, PackageInfo, StoreAction } from './index/store.js';
export type { SearchFilters, SearchOptions, SearchResult, SearchHit, MatchKind } from './index/search.js';
export type { PackageSummary, ProvenanceSummary } from './index/rows.js';
export type { BuildProgress, ValidationReport, ValidationProblem } from './index/build.js';
export { parsePackageName, PACKAGE_CLASSES } from './manifest/names.js';
export type { ParsedName } from './manifest/names.js';
export { assertIndexEntry, assertTrustPolicy } from './manifest/validate.js';
export type * from './manifest/types.js';

import type { SearchFilters, SearchOptions, SearchResult } from './index/search.js';
import { openIndex, type OpenIndexOptions, type PackageInfo } from './index/store.js';
import type { ValidationReport } from './index/build.js';
import type { Ecosystem } from './manifest/types.js';

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
  const { embeddedIndexDir } = await import('./config.js');
  const { validateIndexDir } = await import('./index/build.js');
  return validateIndexDir(indexDir ?? embeddedIndexDir());
}
