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

export { search, getPackage, validateIndex } from './index/api.js';
