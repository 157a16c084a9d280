/**
 * The public API of mcs-pkg: everything the CLI does, reachable from here
 * (the CLI imports the same functions from their modules, lazily, to start
 * fast). The declarations are self-contained: they need only the runtime
 * dependencies and @types/node.
 */
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
export { defaultCacheDir, defaultDriverCacheDir, defaultIndexDir, defaultIndexStateDir, embeddedIndexDir } from './config.js';

export { loadDriver } from './loader/load.js';
export type { LoadOptions, LoadedDriver, LoadReceipt, LoadEvent, LoadPhase } from './loader/load.js';
export type { HostGrants, ConfinementLayer, AppliedGrants } from './host/confine.js';
export type { HostOptions, HostReceipt, HostEvent, HostedProxy, ToolCallRequest } from './host/proxy.js';
export type { RestartPolicy } from './host/supervisor.js';
export { resolveDriver, toDriverQuery } from './loader/resolve.js';
export type { DriverQuery, Resolution, Rejection, ResolveOptions } from './loader/resolve.js';
export { DEFAULT_POLICY, resolvePolicy } from './trust/policy.js';
export type { ResolvedPolicy } from './trust/policy.js';
export { listCache, cleanCache, verifyCacheEntry } from './loader/cache.js';
export { verifyCache } from './loader/cache-verify.js';
export type { CacheListing, CacheCheck, CachedPackage, CacheEntry, CachedFile, CleanCacheOptions, CleanCacheResult, VerifyCacheOptions } from './loader/cache.js';

export { updateIndex, publishSnapshot } from './snapshot/publish.js';
export type { UpdateOptions, UpdateResult, PublishOptions as PublishSnapshotOptions, PublishResult as PublishSnapshotResult, SigstoreTrustOptions } from './snapshot/publish.js';
export { makeRoot, rotateRoot, trustInitialRoot, signMetadata, publicKeyRecord, keyIdOf } from './snapshot/metadata.js';
export type { RootPlan, RootSigned, SnapshotSigned, Signed, Signature, KeyRecord, PublicKeyRecord, KeylessIdentity, KeyType } from './snapshot/metadata.js';
export { generateMaintainerKey, writeIndexRoot, DEFAULT_ROOT_EXPIRES_DAYS } from './snapshot/maintainer.js';
export type { MaintainerKeyOptions, MaintainerKey, IndexRootOptions } from './snapshot/maintainer.js';
export type { TufOptions } from './trust/sigstore.js';
export type { RegistryClientOptions } from './registry/client.js';

export { addFromRegistry, registryCheck } from './maintain/add.js';
export type { AddOptions, AddResult } from './maintain/add.js';
export { syncIndex } from './maintain/sync.js';
export type { SyncOptions, SyncResult, Finding, FindingCode } from './maintain/sync.js';
export { requirementsFile } from './pypi/requirements.js';
export { resolveLock } from './pypi/lock.js';
export type { LockSource, LockRoot, LockOptions } from './pypi/lock.js';
export { discover } from './maintain/discover.js';
export type { Candidate } from './maintain/discover.js';
export { setLabel, yankVersion, deprecateVersion, setQuarantine, setPermissions, initLog, upgradeLog, packageLog } from './maintain/edit.js';
export type { ChangeAuthor, LabelCheck } from './maintain/edit.js';
export { LOG_FILE } from './maintain/log.js';
export type { LogRecord } from './maintain/log.js';
export { verifyTarball, verifyFromRegistry, verifyInstalled, verifyArtifactFiles } from './verify.js';
export type { TarballVerdict, RegistryVerdict, InstalledReport, VerifyTarballOptions, VerifyRegistryOptions, VerifyArtifactOptions } from './verify.js';
export type { Verdict, VerdictStatus } from './trust/verifier.js';
export { verifyDistFile } from './pypi/verify.js';
export type { VerifyDistOptions, DistVerdict } from './pypi/verify.js';
export { verifyFromPypi } from './pypi/online.js';
export type { VerifyPypiOptions, PypiVersionVerdict, PypiVersionStatus } from './pypi/online.js';
export { PypiClient } from './pypi/client.js';
export type { PypiClientOptions, PypiFile, PypiProject } from './pypi/client.js';
export { resolvePipIndex } from './pypi/config.js';
export { verifyDistribution } from './trust/pep740.js';
export type { DistributionInput, DistributionTrust, DistributionVerdict, AttestationEvidence } from './trust/pep740.js';
export type { ExpectedPublisher, CertificateSigner } from './trust/identity.js';
export { parseDistFilename, normalizeProjectName, normalizeVersion } from './pypi/filenames.js';
export { readWheel, unpackWheel, verifyWheelEntry, parseRequirement, evaluateMarker } from './pypi/wheel.js';
export type { CheckedWheel, WheelFile, WheelMetadata, WheelLimits, UnpackedWheel, Requirement, MarkerEnvironment } from './pypi/wheel.js';
export { verifyInstalledPython } from './pypi/installed.js';
export type { InstalledPythonReport, InstalledPythonVerdict, InstalledPythonOptions } from './pypi/installed.js';
export type { DistFilename, DistKind } from './pypi/filenames.js';
export type { CheckResult, CheckName, CheckStatus } from './trust/result.js';
export { startServer } from './serve/server.js';
export type { ServeOptions, RunningServer } from './serve/server.js';
export { writeSite } from './serve/site.js';
export type { SiteResult } from './serve/site.js';
export { assertMcsDriver, CAPABILITY_METHODS } from './contract/index.js';
export type { MCSDriver, MCSToolDriver, DriverResponse } from './contract/index.js';
