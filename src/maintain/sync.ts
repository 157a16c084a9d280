/**
 * `index sync`: new registry versions of indexed npm packages, verified
 * against the pinned publisher before they are pinned. A version that drops
 * provenance the package had (E_PROVENANCE_DOWNGRADE) or was built by another
 * publisher (E_IDENTITY_CHANGED) is held as a finding, not added, until a
 * maintainer accepts it by name@version with a reason; accepting an identity
 * change moves the pin to the new publisher. A version that fails any other
 * check (signature, integrity, bundle), or whose tarball declares no valid
 * static MCS metadata, is refused outright. Each pinned version keeps the
 * drivers its own tarball declares.
 */
import { readEntry } from '../index/build.js';
import { listSources } from '../index/sources.js';
import { declare } from '../manifest/declarations.js';
import { isMcsError } from '../errors.js';
import { repositoryPublisher, type DeclaredDriver, type IndexEntry, type RepositoryPublisher, type VersionRecord } from '../manifest/types.js';
import { assertIndexEntry } from '../manifest/validate.js';
import { RegistryClient } from '../registry/client.js';
import { compareIdentity, type ObservedIdentity } from '../trust/identity.js';
import { hasProvenance, kindOf, newestVersions, pinOf, staticMetadata, trustOptions, type AddOptions } from './add.js';
import { assertEntriesExplained, recordChange, type ChangeAuthor } from './edit.js';
import type { LogRecord } from './log.js';

export type FindingCode = 'E_PROVENANCE_DOWNGRADE' | 'E_IDENTITY_CHANGED' | 'E_ADD_REFUSED';

export interface Finding {
  package: string;
  version: string;
  code: FindingCode;
  message: string;
  /** False for versions that failed verification itself: those cannot be accepted. */
  acceptable: boolean;
  accepted: boolean;
}

export interface SyncResult {
  added: Array<{ package: string; version: string; provenance: boolean }>;
  findings: Finding[];
  records: LogRecord[];
  /** --accept values that matched no acceptable finding (nothing was done for them). */
  unmatched: string[];
}

export interface SyncOptions extends Omit<AddOptions, 'confirm'> {
  /** name@version of held findings the maintainer accepts (with the author's reason). */
  accept?: string[];
  /** Report what would be added and held, and write nothing (no entry, no log record). */
  dryRun?: boolean;
}

/** Why a new version's signer is not the pinned publisher (issuer, repository, workflow, ref pattern, runner), or null. */
function identityChange(observed: ObservedIdentity, pinned: RepositoryPublisher): string | null {
  const mismatch = compareIdentity(observed, pinned);
  return mismatch ? `${mismatch.field} ${mismatch.found ?? 'unknown'}, not the pinned ${mismatch.expected}` : null;
}

/**
 * A new version of a package, verified and read, as sync judges it: the same
 * shape for every ecosystem (npm from the registry, PyPI from the simple and
 * integrity APIs), so the rules below are one piece of code.
 */
export interface FreshVersion {
  version: string;
  /** CODE: message of a failed check of its bytes or metadata: refused, and not acceptable. */
  refused?: string;
  /** Whether its provenance verified. */
  provenance: boolean;
  /** The publisher its verified provenance names (from the signing certificate). */
  observed?: ObservedIdentity;
  /** Why that publisher is not `pinned`, or null (the ecosystem's own comparison of the certificate). */
  differsFrom?: (pinned: RepositoryPublisher) => string | null;
  /** Its pin (absent when refused). */
  record?: VersionRecord;
  drivers?: DeclaredDriver[];
}

/** An ecosystem's way to find and check the versions of a package the entry does not pin yet. */
export type FreshVersions = (name: string, entry: IndexEntry) => Promise<FreshVersion[]>;

/**
 * Sync's rules for new versions: a refused version is a finding that cannot
 * be accepted; one without provenance where earlier versions had it is held
 * (E_PROVENANCE_DOWNGRADE); one built by another publisher, or the first
 * with provenance, is held (E_IDENTITY_CHANGED) until accepted, and
 * accepting a new issuer, repository or workflow moves the pin (a one-off
 * ref or runner is accepted for that version only). Returns what to pin.
 */
export function judgeFresh(name: string, entry: IndexEntry, fresh: FreshVersion[], accept: ReadonlySet<string>, result: SyncResult): { pins: Record<string, VersionRecord>; declared: Map<string, DeclaredDriver[]>; publisher?: RepositoryPublisher } {
  const hadProvenance = Object.values(entry.versions).some((r) => r.provenance);
  const pins: Record<string, VersionRecord> = {};
  const declared = new Map<string, DeclaredDriver[]>();
  let publisher: RepositoryPublisher | undefined;
  for (const candidate of fresh) {
    const { version, observed } = candidate;
    const finding = (code: FindingCode, message: string, acceptable: boolean) => {
      const accepted = acceptable && accept.has(`${name}@${version}`);
      result.findings.push({ package: name, version, code, message, acceptable, accepted });
      return accepted;
    };
    if (candidate.refused !== undefined || !candidate.record) {
      finding('E_ADD_REFUSED', candidate.refused ?? 'not verified', false);
      continue;
    }
    const pinned = publisher ?? repositoryPublisher(entry.trust?.publisher);
    const change = observed && pinned ? (candidate.differsFrom ?? ((p: RepositoryPublisher) => identityChange(observed, p)))(pinned) : null;
    if (!candidate.provenance) {
      if (hadProvenance && !finding('E_PROVENANCE_DOWNGRADE', `${name}@${version} was published without provenance, which earlier versions had`, true)) continue;
    } else if (observed && pinned && change) {
      const message = `${name}@${version} was built by ${observed.repository ?? '?'} ${observed.workflow ?? '?'} at ${observed.ref ?? '?'} (${change})`;
      if (!finding('E_IDENTITY_CHANGED', message, true)) continue;
      // accepting a new repository or workflow moves the pin; a one-off ref or runner is accepted for this version only
      if (observed.issuer && observed.repository && observed.workflow && (observed.repository !== pinned.repository || observed.workflow !== pinned.workflow || observed.issuer !== pinned.issuer)) {
        publisher = { ...pinned, issuer: observed.issuer, repository: observed.repository, workflow: observed.workflow };
      }
    } else if (observed && !pinned) {
      // the first release with provenance: its publisher becomes the pin only when a maintainer says so
      const message = `${name}@${version} is the first release with provenance, built by ${observed.repository ?? '?'} ${observed.workflow ?? '?'}; accepting it pins that publisher`;
      if (!finding('E_IDENTITY_CHANGED', message, true)) continue;
      if (observed.issuer && observed.repository && observed.workflow) publisher = { ...kindOf(observed), issuer: observed.issuer, repository: observed.repository, workflow: observed.workflow };
    }
    pins[version] = candidate.record;
    declared.set(version, candidate.drivers ?? []);
    result.added.push({ package: name, version, provenance: candidate.record.provenance });
  }
  return { pins, declared, ...(publisher ? { publisher } : {}) };
}

/** The npm registry's new versions of an entry, verified as verify does, with the drivers each tarball declares. */
function npmFreshVersions(options: SyncOptions, indexDir: string): FreshVersions {
  const client = new RegistryClient(options.registry ?? {});
  return async (name, entry) => {
    const packument = await client.packument(name);
    const versions = newestVersions(packument, (v) => !Object.hasOwn(entry.versions, v), options.maxVersions);
    if (versions.length === 0) return [];
    const { verifyFromRegistry } = await import('../verify.js');
    const tarballs = new Map<string, Buffer>();
    const verdicts = await verifyFromRegistry(versions.map((v) => `${name}@${v}`), { ...trustOptions(options), index: { indexDir }, tarballs });
    return verdicts.map((verdict, i): FreshVersion => {
      const version = versions[i]!;
      if ('error' in verdict) return { version, provenance: false, refused: `${verdict.error.code}: ${verdict.error.message}` };
      // policy rules (an unpinned version is exactly what sync is about) and the publisher (its identity, or provenance missing where one is pinned) are sync's findings; the checks of the bytes refuse
      const failures = verdict.results.filter((r) => r.status === 'fail' && r.check !== 'policy' && r.check !== 'identity' && r.code !== 'E_PROVENANCE_MISSING');
      if (failures.length > 0) return { version, provenance: false, refused: failures.map((r) => `${r.code}: ${r.message}`).join('; ') };
      const refusedMetadata = declaredOrRefused(entry, version, () => staticMetadata(tarballs.get(`${name}@${version}`)!, `${name}@${version}`).drivers);
      if ('refused' in refusedMetadata) return { version, provenance: false, refused: refusedMetadata.refused };
      const observed = verdict.results.find((r) => r.check === 'identity')?.evidence.observed as ObservedIdentity | undefined;
      return { version, provenance: hasProvenance(verdict), ...(observed ? { observed } : {}), record: pinOf(verdict, tarballs.get(`${name}@${version}`)!, packument), drivers: refusedMetadata.drivers };
    });
  };
}

/** The drivers a version declares (read from its own verified package; nothing is run), checked against the index schema; or why they are refused. */
export function declaredOrRefused(entry: IndexEntry, version: string, read: () => DeclaredDriver[]): { drivers: DeclaredDriver[] } | { refused: string } {
  try {
    const drivers = read();
    assertIndexEntry({ ...entry, declarations: declare(entry.declarations, version, drivers) }, `${entry.name}@${version} (the drivers it declares)`);
    return { drivers };
  } catch (error) {
    if (!isMcsError(error)) throw error;
    return { refused: `${error.code}: ${error.message}` };
  }
}

/** A sync target: pypi:NAME is a PyPI entry, npm:NAME or a bare NAME an npm one. */
function targetOf(spec: string): { ecosystem: 'npm' | 'pypi'; name: string } {
  const match = /^(npm|pypi):(.+)$/.exec(spec);
  return match ? { ecosystem: match[1] as 'npm' | 'pypi', name: match[2]! } : { ecosystem: 'npm', name: spec };
}

/** Syncs the named packages (pypi:NAME for PyPI; default: every npm entry), one logged change per package (none with dryRun). */
export async function syncIndex(indexDir: string, names: string[], author: ChangeAuthor, options: SyncOptions = {}): Promise<SyncResult> {
  const accept = new Set(options.accept ?? []);
  const targets = names.length > 0 ? names.map(targetOf) : listSources(indexDir).sources.filter((s) => s.path.startsWith('npm/')).map((s) => ({ ecosystem: 'npm' as const, name: s.path.slice(4, -5) }));
  const result: SyncResult = { added: [], findings: [], records: [], unmatched: [] };
  // an entry the log does not explain (never logged, or edited by hand) is refused before anything is fetched, not reported as up to date
  assertEntriesExplained(indexDir, targets.map((t) => readEntry(indexDir, `${t.ecosystem}/${t.name}.json`)));
  const sources: Record<'npm' | 'pypi', () => Promise<FreshVersions>> = {
    npm: async () => npmFreshVersions(options, indexDir),
    pypi: async () => (await import('./pypi.js')).pypiFreshVersions(options, indexDir),
  };
  const fetchers = new Map<string, FreshVersions>();
  for (const { ecosystem, name } of targets) {
    const entry = readEntry(indexDir, `${ecosystem}/${name}.json`);
    if (!fetchers.has(ecosystem)) fetchers.set(ecosystem, await sources[ecosystem]());
    const fresh = await fetchers.get(ecosystem)!(name, entry);
    if (fresh.length === 0) continue;
    const { pins, declared, publisher } = judgeFresh(name, entry, fresh, accept, result);
    if (Object.keys(pins).length === 0 || options.dryRun) continue;
    const accepted = result.findings.filter((f) => f.package === name && f.accepted).map((f) => `accepted ${f.code} for ${f.version}`);
    const why = accepted.length > 0 ? `${author.why} (${accepted.join('; ')})` : author.why;
    result.records.push(
      ...recordChange(indexDir, `${ecosystem}:${name}`, { ...author, why }, (draft: IndexEntry) => {
        Object.assign(draft.versions, pins);
        for (const [version, drivers] of declared) draft.declarations = declare(draft.declarations, version, drivers);
        if (publisher) draft.trust = { ...draft.trust, publisher };
        return draft;
      }),
    );
  }
  result.unmatched = [...accept].filter((spec) => !result.findings.some((f) => f.accepted && `${f.package}@${f.version}` === spec));
  return result;
}
