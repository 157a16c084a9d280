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
export { loadDriver } from './loader/load.js';
export type { LoadOptions, LoadedDriver, LoadReceipt, LoadEvent, LoadPhase } from './loader/load.js';
export { resolveDriver } from './loader/resolve.js';
export type { DriverQuery, Resolution, Rejection } from './loader/resolve.js';
export { verifyTarball, verifyFromRegistry, verifyInstalled, verifyArtifactFiles } from './verify.js';
export type { TarballVerdict, RegistryVerdict, InstalledReport, VerifyTarballOptions, VerifyRegistryOptions, VerifyArtifactOptions } from './verify.js';
export type { Verdict, VerdictStatus } from './trust/verifier.js';
export type { CheckResult, CheckName, CheckStatus } from './trust/result.js';
export { assertMcsDriver, CAPABILITY_METHODS } from './contract/index.js';
export type { MCSDriver, MCSToolDriver, DriverResponse } from './contract/index.js';
