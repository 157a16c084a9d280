/**
 * `index add pypi:NAME` and `index sync pypi:NAME`: the npm path's rules
 * (add.ts, sync.ts) over PyPI's simple API (PEP 691) and integrity API
 * (PEP 740), never running any of the package's code. Each file of a
 * version is downloaded, checked against the digest and size the index
 * states and, when PyPI serves an attestation, verified as `verify` does;
 * the publisher is taken from the attestation's signing certificate (never
 * from the provenance object's unsigned `publisher` field). The static MCS
 * metadata is the wheel's `<name>-<version>.dist-info/mcs.json` (read by
 * src/pypi/wheel.ts, the same `{ "drivers": [...] }` shape as npm's `mcs`),
 * and each version records its dependency lock (src/pypi/lock.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readEntry } from '../index/build.js';
import { McsError, isMcsError, wholeNumber } from '../errors.js';
import { declare } from '../manifest/declarations.js';
import { parsePackageName } from '../manifest/names.js';
import type { Declaration, DeclaredDriver, DistributionFile, IndexEntry, RepositoryPublisher, VersionRecord } from '../manifest/types.js';
import { PypiClient, type PypiFile, type PypiProject } from '../pypi/client.js';
import { isPureWheel, normalizeProjectName, normalizeVersion } from '../pypi/filenames.js';
import { isPrerelease as isPre, parseVersion, sortVersions } from '../pypi/pep440.js';
import { resolveLock, toDistributionFile, type LockSource } from '../pypi/lock.js';
import { readWheel, type CheckedWheel } from '../pypi/wheel.js';
import { comparePublisher, pep740Observed, type ObservedIdentity } from '../trust/identity.js';
import { provenanceEvidence, type AttestationEvidence, type DistributionTrust } from '../trust/pep740.js';
import type { CheckResult } from '../trust/result.js';
import { parsePypiRequest } from '../pypi/online.js';
import { NO_REGISTRY_KEYS, checkDist } from '../pypi/verify.js';
import type { CertificateFields } from '../trust/sigstore.js';
import { createTrustMaterial, resolveTrustedRoot } from '../trust/sigstore.js';
import { DEFAULT_MAX_VERSIONS, declaredDrivers, draftLabel, publisherOnFirstUse, writeDraft, type AddOptions, type AddResult } from './add.js';
import type { ChangeAuthor } from './edit.js';
import { declaredOrRefused, type FreshVersion, type FreshVersions } from './sync.js';

const isPrerelease = (version: string): boolean => isPre(parseVersion(version)!);

/** What the PyPI path of add and sync reads: the index (`pypi`), the trust root, the caps (npm's registry options are not used). */
export type PypiMaintainOptions = AddOptions;

/** One version, read and checked: its pin, the drivers it declares, the certificates of its verified attestations. */
interface CheckedVersion extends FreshVersion {
  wheel?: CheckedWheel;
}

/** The versions of a project `keep` accepts that have a file not yanked (PEP 592), newest first in PEP 440 order, at most `max`. */
function liveVersions(client: PypiClient, project: PypiProject, keep: (version: string) => boolean, max: number): string[] {
  wholeNumber(max, 'max-versions', 1, 10_000);
  // filesOf looks a version up in an index of the page built once, and each version is parsed once to sort: linear in the page's size
  const live = project.versions.filter((v) => normalizeVersion(v) !== null && keep(v) && client.filesOf(project, v).some((f) => f.yanked === undefined));
  return sortVersions(live, 'newest-first').slice(0, max);
}

/** Downloads, lock sources and the trust root of one add or sync run, each fetched once. */
class PypiSession {
  readonly client: PypiClient;
  private readonly projects = new Map<string, Promise<PypiProject>>();
  private readonly wheels = new Map<string, Promise<CheckedWheel>>();
  private root: Promise<DistributionTrust> | undefined;

  constructor(
    private readonly indexDir: string,
    private readonly options: PypiMaintainOptions,
  ) {
    this.client = new PypiClient(options.pypi ?? {});
  }

  project(name: string): Promise<PypiProject> {
    const key = normalizeProjectName(name);
    if (!this.projects.has(key)) this.projects.set(key, this.client.project(key));
    return this.projects.get(key)!;
  }

  /** A wheel read (and checked against RECORD) from bytes downloaded against its stated digest. */
  wheel(file: PypiFile, bytes?: Buffer): Promise<CheckedWheel> {
    if (!this.wheels.has(file.url)) {
      this.wheels.set(file.url, (async () => readWheel(bytes ?? (await this.client.download(file, { sha256: file.sha256, ...(file.size ? { size: file.size } : {}) })), file.filename))());
    }
    return this.wheels.get(file.url)!;
  }

  /** The trust material for a file's attestations, resolved (pinned file or TUF) only once one is served. */
  async trust(needed: boolean): Promise<DistributionTrust> {
    if (!needed) return { roots: { trustedRoot: 'not needed (no attestations to verify)', registryKeys: NO_REGISTRY_KEYS } };
    this.root ??= resolveTrustedRoot(this.options.trustedRoot, this.options.tuf).then((root) => ({ trustMaterial: createTrustMaterial(root.json), roots: { trustedRoot: root.source, registryKeys: NO_REGISTRY_KEYS } }));
    return this.root;
  }

  /** What the lock resolver reads: PyPI's files, a wheel's Requires-Dist, the index's own entries. */
  lockSource(): LockSource {
    return {
      files: async (name) => (await this.project(name)).files,
      requirements: async (name, version, file) => {
        const wheel = await this.wheel(file as PypiFile);
        if (normalizeProjectName(wheel.metadata.name) !== name || (normalizeVersion(wheel.metadata.version) ?? wheel.metadata.version) !== version) {
          throw new McsError('E_DIST_NAME', `${file.filename}: its METADATA names ${wheel.metadata.name} ${wheel.metadata.version}, not ${name} ${version}`, { details: { filename: file.filename } });
        }
        return wheel.metadata.requiresDist;
      },
      indexed: (name) => {
        const rel = `pypi/${name}.json`;
        return existsSync(join(this.indexDir, rel)) ? readEntry(this.indexDir, rel) : undefined;
      },
    };
  }

  /**
   * Checks one version: every live file downloaded against the stated digest
   * and size and its attestation verified (no publisher expected here: the
   * caller compares the certificate with the pin); every pure-Python wheel
   * read whole with readWheel, and the static MCS metadata and requirements
   * taken from the first; its lock resolved.
   * Failures of the bytes, the metadata or the lock refuse the version.
   */
  async checkVersion(name: string, version: string, entry: IndexEntry | undefined): Promise<CheckedVersion> {
    const spec = `${name}@${version}`;
    const project = await this.project(name);
    const files = this.client.filesOf(project, version).filter((f) => f.yanked === undefined);
    const pinned: DistributionFile[] = [];
    const certificates: CertificateFields[] = [];
    let wheelBytes: { file: PypiFile; bytes: Buffer } | undefined;
    const refusals: string[] = [];
    for (const file of files) {
      let bytes: Buffer;
      try {
        bytes = await this.client.download(file, { sha256: file.sha256, ...(file.size ? { size: file.size } : {}) });
      } catch (error) {
        if (!isMcsError(error)) throw error;
        refusals.push(`${error.code}: ${error.message}`);
        continue;
      }
      const served = await this.client.provenance(name, version, file);
      const read = served === null ? [] : provenanceEvidence(served, this.client.provenanceUrlOf(name, version, file));
      const attestations: AttestationEvidence[] = Array.isArray(read) ? read : [];
      // bytes already match the digest PyPI states (download checked it); no pin or publisher is expected yet: the certificate is compared with the pin by sync's rules
      const verdict = checkDist({ name, version, filename: file.filename, bytes, attestations, ...(Array.isArray(read) ? {} : { unreadable: read }), trust: await this.trust(attestations.length > 0), versionUnpinnedReported: true });
      const failures = verdict.results.filter((r) => r.status === 'fail' && r.check !== 'identity' && r.code !== 'E_PROVENANCE_MISSING');
      refusals.push(...failures.map((r) => `${r.code}: ${r.message}`));
      const attested = verdict.results.filter((r) => r.check === 'identity' && r.evidence.certificate).map((r) => r.evidence.certificate as CertificateFields);
      certificates.push(...attested);
      pinned.push({ ...toDistributionFile(file), ...(attested.length > 0 ? { provenance: true } : {}) });
      if (!isPureWheel(file.filename)) continue;
      // every pure wheel is read whole and checked (RECORD, paths, METADATA): any of them may be the one pip or the loader installs
      try {
        await this.wheel(file, bytes);
      } catch (error) {
        if (!isMcsError(error)) throw error;
        refusals.push(`${error.code}: ${error.message}`);
        continue;
      }
      wheelBytes ??= { file, bytes };
    }
    if (files.length === 0) refusals.push(`E_VERSION_NOT_FOUND: ${spec}: PyPI lists no live file of it`);
    if (refusals.length > 0) return { version, provenance: false, refused: refusals.join('; ') };
    if (!wheelBytes) {
      return { version, provenance: false, refused: `E_LOCK_NO_WHEEL: ${spec} has no pure-Python wheel (${files.map((f) => f.filename).join(', ')}): its metadata is read from one, and sdists are never built` };
    }

    let wheel: CheckedWheel;
    let lock: VersionRecord['lock'];
    try {
      wheel = await this.wheel(wheelBytes.file, wheelBytes.bytes);
      lock = await resolveLock(
        { name, version, ...(wheel.metadata.requiresPython ? { requiresPython: wheel.metadata.requiresPython } : {}), requirements: wheel.metadata.requiresDist },
        this.lockSource(),
        this.options.maxDependencies !== undefined ? { maxDependencies: this.options.maxDependencies } : {},
      );
    } catch (error) {
      if (!isMcsError(error)) throw error;
      return { version, provenance: false, refused: `${error.code}: ${error.message}` };
    }
    const drivers = declaredOrRefused(entry ?? draftFor(name), version, () => declaredDrivers(wheel.mcs, spec, 'a .dist-info/mcs.json file in the wheel declaring drivers'));
    if ('refused' in drivers) return { version, provenance: false, refused: drivers.refused };

    // the publisher is the signing certificate's: every attested file of one version must name the same one
    const observed = certificates.map(pep740Observed);
    const key = (o: ObservedIdentity) => `${o.issuer} ${o.repository} ${o.workflow}`;
    if (new Set(observed.map(key)).size > 1) {
      return { version, provenance: false, refused: `E_IDENTITY_MISMATCH: ${spec}: its files were signed by different publishers (${[...new Set(observed.map(key))].join('; ')})` };
    }
    const provenance = pinned.every((f) => f.provenance === true);
    const record: VersionRecord = {
      files: provenance ? pinned.map(({ provenance: _, ...f }) => f) : pinned,
      provenance,
      ...(pinned.some((f) => f.uploaded) ? { published: pinned.flatMap((f) => (f.uploaded ? [f.uploaded] : [])).sort()[0]! } : {}),
      ...(lock ? { lock } : {}),
    };
    return {
      version,
      provenance,
      ...(observed[0] ? { observed: observed[0] } : {}),
      differsFrom: (pin: RepositoryPublisher) => {
        for (const certificate of certificates) {
          const mismatch = comparePublisher(certificate, pin);
          if (mismatch) return `${mismatch.field} ${mismatch.found ?? 'unknown'}, not the pinned ${mismatch.expected}`;
        }
        return null;
      },
      record,
      drivers: drivers.drivers,
      wheel,
    };
  }
}

/** The minimal entry a first version's drivers are checked against (the PyPI schema rules: an entry point per driver). */
function draftFor(name: string): IndexEntry {
  return { name, ecosystem: 'pypi', class: parsePackageName(name, 'pypi').class, description: name, label: { value: 'community', by: 'draft', at: new Date(0).toISOString(), reason: 'draft' }, versions: {} };
}

/** Reads, verifies, locks and pins a project from PyPI, then (after `confirm`) writes its entry and logs it. */
export async function addFromPypi(indexDir: string, request: string, author: ChangeAuthor, options: PypiMaintainOptions = {}): Promise<AddResult> {
  const asked = parsePypiRequest(request);
  const name = normalizeProjectName(asked.name);
  const wanted = asked.version;
  const parsed = parsePackageName(name, 'pypi');
  const session = new PypiSession(indexDir, options);
  const project = await session.project(name);
  const normalizedWanted = wanted === undefined ? undefined : normalizeVersion(wanted) ?? wanted;
  const versions = liveVersions(session.client, project, (v) => (normalizedWanted === undefined ? !isPrerelease(v) : normalizeVersion(v) === normalizedWanted), options.maxVersions ?? DEFAULT_MAX_VERSIONS);
  if (versions.length === 0) throw new McsError('E_VERSION_NOT_FOUND', `${request}: PyPI has no ${wanted ? 'such live' : 'live final'} version to add (versions: ${project.versions.join(', ') || 'none'})`, { details: { request } });

  const checked: CheckedVersion[] = [];
  for (const version of versions) checked.push(await session.checkVersion(name, version, undefined));
  const refused = checked.filter((c) => c.refused !== undefined);
  if (refused.length > 0) {
    const failures = refused.map((c) => ({ version: c.version, codes: [...new Set([...c.refused!.matchAll(/\bE_[A-Z_]+(?=:)/g)].map((m) => m[0]))], message: c.refused }));
    throw new McsError('E_ADD_REFUSED', `pypi:${name}: ${refused.map((c) => `${c.version} (${c.refused})`).join('; ')}; nothing was written`, { details: { failures } });
  }
  const observed = checked.flatMap((c) => (c.observed ? [{ version: c.version, identity: c.observed }] : []));
  const publisher = publisherOnFirstUse(observed, name);
  const newest = checked[0]!;
  const summary = newest.wheel?.metadata.summary?.trim();
  const requiresPython = newest.wheel?.metadata.requiresPython;
  const entry: IndexEntry = {
    name,
    ecosystem: 'pypi',
    class: parsed.class,
    description: summary ? summary.slice(0, 1000) : name,
    declarations: checked.reduce<Declaration[]>((all, c) => declare(all, c.version, c.drivers as DeclaredDriver[]), []),
    label: draftLabel(indexDir, author),
    ...(publisher ? { trust: { repository: publisher.repository, publisher } } : {}),
    versions: Object.fromEntries(checked.map((c) => [c.version, c.record!])),
    ...(requiresPython ? { compatibility: { runtime: `python ${requiresPython}`.slice(0, 100) } } : {}),
  };
  return writeDraft(indexDir, entry, `pypi:${name}@${newest.version}`, author, options);
}

/** PyPI's new versions of an entry (those it does not pin, by PEP 440 normal form), each checked as add checks it. */
export function pypiFreshVersions(options: PypiMaintainOptions, indexDir: string): FreshVersions {
  const session = new PypiSession(indexDir, options);
  return async (name, entry) => {
    const project = await session.project(name);
    const known = new Set(Object.keys(entry.versions).map((v) => normalizeVersion(v) ?? v));
    const versions = liveVersions(session.client, project, (v) => !known.has(normalizeVersion(v)!) && !isPrerelease(v), options.maxVersions ?? DEFAULT_MAX_VERSIONS);
    const fresh: FreshVersion[] = [];
    for (const version of versions) {
      const { wheel: _, ...checked } = await session.checkVersion(name, version, entry);
      fresh.push(checked);
    }
    return fresh;
  };
}

/**
 * The check `index label` runs on a PyPI entry's versions: each verified
 * online as `verify pypi:NAME@VERSION` does (every pinned file still served,
 * downloaded against its pin, its attestation verified against the pinned
 * publisher where the index expects one). The failure codes per version ([]
 * = verified).
 */
export function pypiCheck(indexDir: string, options: PypiMaintainOptions = {}): (name: string, versions: string[]) => Promise<Map<string, string[]>> {
  return async (name, versions) => {
    const { verifyFromPypi } = await import('../pypi/online.js');
    const results = await verifyFromPypi(
      versions.map((v) => `pypi:${name}@${v}`),
      { ...(options.pypi ? { pypi: options.pypi } : {}), ...(options.trustedRoot ? { trustedRoot: options.trustedRoot } : {}), ...(options.tuf ? { tuf: options.tuf } : {}), index: { indexDir } },
    );
    return new Map(
      results.map((r, i): [string, string[]] => {
        if ('error' in r) return [versions[i]!, [r.error.code]];
        if (r.status === 'verified') return [versions[i]!, []];
        const failed = (results: CheckResult[]) => results.filter((x) => x.status === 'fail').map((x) => String(x.code ?? 'failed'));
        const codes = [...failed(r.results), ...r.files.flatMap((f): string[] => ('error' in f ? [f.error.code] : failed(f.results)))];
        return [versions[i]!, codes.length > 0 ? [...new Set(codes)] : [r.status]];
      }),
    );
  };
}
