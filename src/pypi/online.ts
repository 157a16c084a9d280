/**
 * `verify pypi:NAME[@VERSION]`: a PyPI version as the index serves it now,
 * against mcs-pkg's index. The version is the one asked for, else the newest
 * the index pins, else the newest on the PyPI index (said which). Every file
 * the index pins must be on PyPI (E_DIST_MISSING), every file PyPI has for
 * the version must be pinned (E_DIST_UNPINNED), each is downloaded up to its
 * pinned size and checked against its pinned sha256, and where provenance is
 * expected or served its PEP 740 attestations are verified against the
 * pinned publisher, by the same checkDist the offline --dist form uses. A
 * version the index does not pin is reported as unpinned: its files are
 * checked against the digests PyPI states only, which is a failure unless the
 * caller accepts that (digestOnly).
 */
import { McsError, exitCodeFor, isMcsError, wholeNumber } from '../errors.js';
import { DEFAULT_CONCURRENCY, inPool } from '../verify.js';
import { openIndex, type OpenIndexOptions } from '../index/store.js';
import type { IndexEntry } from '../manifest/types.js';
import { provenanceEvidence, type AttestationEvidence, type DistributionTrust } from '../trust/pep740.js';
import { fail, pass, skip, type CheckResult } from '../trust/result.js';
import { createTrustMaterial, prepareTufCache, resolveTrustedRoot, tufDefaults, type TufOptions } from '../trust/sigstore.js';
import { PypiClient, byVersion, type PypiClientOptions, type PypiFile, type PypiProject } from './client.js';
import { normalizeVersion, parseDistFilename } from './filenames.js';
import { compareVersions } from './pep440.js';
import { NO_REGISTRY_KEYS, checkDist, pinnedFile, publisherFromFlags, pypiEntry, versionRecord, type DistVerdict, type PypiIdentityFlags } from './verify.js';

export interface VerifyPypiOptions extends PypiIdentityFlags {
  /** Index URL, timeouts, retries (default: pip's configuration). */
  pypi?: PypiClientOptions;
  /** A pinned trusted_root.json, or SHIPPED_ROOTS; default through TUF, asked only when an attestation needs it. */
  trustedRoot?: string;
  tuf?: Partial<TufOptions>;
  index?: OpenIndexOptions;
  /** Accept a version the index does not pin, its files checked against the digests PyPI states only. */
  digestOnly?: boolean;
  /** Versions fetched and verified at once. Default DEFAULT_CONCURRENCY. */
  concurrency?: number;
}

export type PypiVersionStatus = 'verified' | 'pinned-by-digest' | 'unpinned' | 'not-checked' | 'failed';

export interface PypiFileError {
  filename: string;
  error: McsError;
}

export interface PypiVersionVerdict {
  requested: string;
  package: string;
  version: string;
  /** Why this version: asked for, the newest the index pins, or the newest on the PyPI index. */
  versionSource: 'requested' | 'newest pinned' | 'newest on the index';
  /** The newest version on the PyPI index, when it is not the one verified. */
  newestOnIndex?: string;
  indexUrl: string;
  indexSource: string;
  /** Whether mcs-pkg's index pins the version. */
  pinned: boolean;
  status: PypiVersionStatus;
  /** Checks of the version as a whole: files missing or unpinned, the version unpinned. */
  results: CheckResult[];
  files: Array<DistVerdict | PypiFileError>;
}

/** Splits pypi:NAME[@VERSION]. */
export function parsePypiRequest(spec: string): { name: string; version?: string } {
  const rest = spec.startsWith('pypi:') ? spec.slice(5) : spec;
  const at = rest.lastIndexOf('@');
  const name = at > 0 ? rest.slice(0, at) : rest;
  const version = at > 0 ? rest.slice(at + 1) : undefined;
  if (name === '' || version === '') throw new McsError('E_USAGE', `expected pypi:NAME or pypi:NAME@VERSION, got ${JSON.stringify(spec)}`, { details: { spec } });
  return { name, ...(version !== undefined ? { version } : {}) };
}

/** The version to verify and why: asked for, else the newest pinned (not yanked), else the newest on the PyPI index. */
function chooseVersion(client: PypiClient, project: PypiProject, entry: IndexEntry | undefined, requested: string | undefined): { version: string; source: PypiVersionVerdict['versionSource'] } {
  if (requested !== undefined) {
    // PEP 440 equality: 1.0 and 1.0.0 are one version
    const found = project.versions.find((v) => compareVersions(v, requested) === 0);
    const pinned = versionRecord(entry, requested) ? requested : undefined;
    if (found ?? pinned) return { version: found ?? pinned!, source: 'requested' };
    throw new McsError('E_VERSION_NOT_FOUND', `${project.name}: no version ${requested} on ${client.index.indexUrl} (it has ${project.versions.slice(-10).join(', ') || 'none'})`, { details: { name: project.name, version: requested } });
  }
  const pinned = Object.entries(entry?.versions ?? {}).filter(([, record]) => record.files?.length && !record.yanked).map(([v]) => v).sort(byVersion);
  if (pinned.length) return { version: pinned.at(-1)!, source: 'newest pinned' };
  const newest = client.newest(project);
  if (newest === undefined) throw new McsError('E_VERSION_NOT_FOUND', `${project.name}: ${client.index.indexUrl} lists no installable version`, { details: { name: project.name } });
  return { version: newest, source: 'newest on the index' };
}

/** The version's status: any failure fails it; a file that could not be checked leaves it not checked; then unpinned; then verified only if every file verified. */
function statusOf(results: CheckResult[], files: PypiVersionVerdict['files'], pinned: boolean): PypiVersionStatus {
  const fileFailed = files.some((f) => ('error' in f ? exitCodeFor(f.error) === 1 : f.status === 'failed'));
  if (fileFailed || results.some((r) => r.status === 'fail' && r.code !== 'E_POLICY_UNPINNED')) return 'failed';
  if (files.some((f) => 'error' in f)) return 'not-checked';
  if (!pinned) return 'unpinned';
  return files.length > 0 && files.every((f) => !('error' in f) && f.status === 'verified') ? 'verified' : 'pinned-by-digest';
}

/**
 * Verifies PyPI versions as the index serves them now. A request that cannot
 * be checked at all (no such project, the index unreachable) is an error row.
 */
export async function verifyFromPypi(specs: string[], options: VerifyPypiOptions = {}): Promise<Array<PypiVersionVerdict | { requested: string; error: McsError }>> {
  const concurrency = wholeNumber(options.concurrency ?? DEFAULT_CONCURRENCY, 'concurrency', 1, 64);
  const client = new PypiClient(options.pypi ?? {});
  const flagged = publisherFromFlags(options);
  const tuf = tufDefaults(options.tuf);
  let trustOnce: Promise<DistributionTrust> | undefined;
  const trust = (): Promise<DistributionTrust> =>
    (trustOnce ??= resolveTrustedRoot(options.trustedRoot, tuf).then((root) => ({ trustMaterial: createTrustMaterial(root.json), roots: { trustedRoot: root.source, registryKeys: NO_REGISTRY_KEYS } })));
  // what needs no network is checked before any fetch: a pinned root is read, the TUF cache folder made
  if (options.trustedRoot) await trust();
  else prepareTufCache(tuf);
  const noRoot: DistributionTrust = { roots: { trustedRoot: 'not needed (no attestations to verify)', registryKeys: NO_REGISTRY_KEYS } };

  const verifyOne = async (requested: string): Promise<PypiVersionVerdict | { requested: string; error: McsError }> => {
    try {
      const { name, version: asked } = parsePypiRequest(requested);
      const entry = pypiEntry(index, name);
      const project = await client.project(name);
      const { version, source } = chooseVersion(client, project, entry, asked);
      const record = versionRecord(entry, version);
      const served = client.filesOf(project, version);
      const results: CheckResult[] = [];
      const canonical = (filename: string) => parseDistFilename(filename).canonical;
      // filesOf keeps only files whose names parse; pinned names were checked by index validate, and one that does not parse is simply missing
      const servedNames = new Set(served.map((f) => canonical(f.filename)));
      for (const pin of record?.files ?? []) {
        if (!servedNames.has(safe(() => canonical(pin.filename)) ?? pin.filename)) {
          results.push(fail('integrity', 'E_DIST_MISSING', `${pin.filename}: the index pins this file of ${name} ${version}, but ${client.index.indexUrl} does not serve it`, { filename: pin.filename }));
        }
      }
      const toCheck: PypiFile[] = [];
      for (const file of served) {
        if (record && !pinnedFile(record, file.filename)) {
          results.push(fail('integrity', 'E_DIST_UNPINNED', `${file.filename}: ${client.index.indexUrl} serves this file of ${name} ${version}, but the index does not pin it (pinned: ${(record.files ?? []).map((f) => f.filename).join(', ') || 'none'}); it was not downloaded`, { filename: file.filename, sha256: file.sha256 }));
        } else toCheck.push(file);
      }
      if (!record) {
        const how = `checked against the digests ${client.index.indexUrl} states only`;
        results.push(
          options.digestOnly
            ? skip('integrity', `${name} ${version}: not pinned by the index (not verified); its files were ${how}, as --digest-only asks`)
            : fail('integrity', 'E_POLICY_UNPINNED', `${name} ${version}: not pinned by the index, so not verified; its files were ${how}. Verify a pinned version${entry ? ` (${Object.keys(entry.versions).join(', ') || 'none pinned'})` : ''}, or give --digest-only to accept PyPI's digests`),
        );
      } else if (served.length === 0 && results.length === 0) {
        results.push(fail('integrity', 'E_DIST_MISSING', `${name} ${version}: ${client.index.indexUrl} serves no file of this pinned version`));
      } else if (results.length === 0) {
        results.push(pass('integrity', `${name} ${version}: the files on the index are the ${record.files?.length ?? 0} the index pins`));
      }
      const files = await Promise.all(toCheck.map((file) => checkServedFile(client, { name, version, file, entry, flagged, trust, noRoot })));
      const newest = client.newest(project);
      return {
        requested,
        package: project.name,
        version,
        versionSource: source,
        ...(newest && newest !== version ? { newestOnIndex: newest } : {}),
        indexUrl: client.index.indexUrl,
        indexSource: client.index.source,
        pinned: record !== undefined,
        status: statusOf(results, files, record !== undefined),
        results,
        files,
      };
    } catch (error) {
      if (!isMcsError(error) || error.code === 'E_INTERNAL') throw error;
      return { requested, error };
    }
  };
  const out: Array<PypiVersionVerdict | { requested: string; error: McsError }> = new Array(specs.length);
  const index = await openIndex(options.index ?? {});
  try {
    await inPool(specs.length, concurrency, async (i) => {
      out[i] = await verifyOne(specs[i]!);
    });
  } finally {
    index.close();
  }
  return out;
}

function safe<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** One served file: its bytes within the pin (a pin the index page contradicts is not downloaded), its provenance when expected or announced, then checkDist. */
async function checkServedFile(
  client: PypiClient,
  input: { name: string; version: string; file: PypiFile; entry: IndexEntry | undefined; flagged: ReturnType<typeof publisherFromFlags>; trust: () => Promise<DistributionTrust>; noRoot: DistributionTrust },
): Promise<DistVerdict | PypiFileError> {
  const { name, version, file, entry } = input;
  try {
    const record = versionRecord(entry, version);
    const pin = pinnedFile(record, file.filename);
    const pinnedHex = pin ? Buffer.from(pin.integrity.replace(/^sha256-/, ''), 'base64').toString('hex') : undefined;
    if (pin && !pin.integrity.startsWith('sha256-')) throw new McsError('E_INTEGRITY_MISMATCH', `${file.filename}: the index pins ${pin.integrity}, not a sha256, which PyPI files are pinned by`, { details: { filename: file.filename } });
    if (pinnedHex && pinnedHex !== file.sha256) {
      throw new McsError('E_INTEGRITY_MISMATCH', `${file.filename}: ${client.index.indexUrl} states sha256 ${file.sha256}, the index pins ${pinnedHex}; not downloaded`, { details: { filename: file.filename, expected: pinnedHex, found: file.sha256 } });
    }
    const expectsProvenance = Boolean(input.flagged ?? entry?.trust?.publisher ?? pin?.provenance ?? record?.provenance);
    const [bytes, provenance] = await Promise.all([
      client.download(file, pinnedHex ? { sha256: pinnedHex, ...(pin?.size !== undefined ? { size: pin.size } : {}) } : undefined),
      file.provenanceUrl || expectsProvenance ? client.provenance(name, version, file) : Promise.resolve(null),
    ]);
    let attestations: AttestationEvidence[] = [];
    let unreadable: CheckResult | undefined;
    if (provenance !== null) {
      const read = provenanceEvidence(provenance, client.provenanceUrlOf(name, version, file));
      if (Array.isArray(read)) attestations = read;
      else unreadable = read;
    }
    return checkDist({
      name,
      version,
      filename: file.filename,
      bytes,
      attestations,
      ...(unreadable ? { unreadable } : {}),
      ...(entry ? { entry } : {}),
      ...(input.flagged ? { flagged: input.flagged } : {}),
      ...(record ? {} : { versionUnpinnedReported: true }),
      trust: attestations.length ? await input.trust() : input.noRoot,
    });
  } catch (error) {
    if (!isMcsError(error) || error.code === 'E_INTERNAL') throw error;
    return { filename: file.filename, error };
  }
}
