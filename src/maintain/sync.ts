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
import { hasProvenance, newestVersions, pinOf, staticMetadata, trustOptions, type AddOptions } from './add.js';
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

/** Syncs the named npm packages (default: every npm entry), one logged change per package (none with dryRun). */
export async function syncIndex(indexDir: string, names: string[], author: ChangeAuthor, options: SyncOptions = {}): Promise<SyncResult> {
  const accept = new Set(options.accept ?? []);
  const targets = names.length > 0 ? names : listSources(indexDir).sources.filter((s) => s.path.startsWith('npm/')).map((s) => s.path.slice(4, -5));
  const client = new RegistryClient(options.registry ?? {});
  const { verifyFromRegistry } = await import('../verify.js');
  const result: SyncResult = { added: [], findings: [], records: [], unmatched: [] };
  // an entry the log does not explain (never logged, or edited by hand) is refused before anything is fetched, not reported as up to date
  assertEntriesExplained(indexDir, targets.map((name) => readEntry(indexDir, `npm/${name}.json`)));
  for (const name of targets) {
    const entry = readEntry(indexDir, `npm/${name}.json`);
    const packument = await client.packument(name);
    const fresh = newestVersions(packument, (v) => !Object.hasOwn(entry.versions, v), options.maxVersions);
    if (fresh.length === 0) continue;
    const tarballs = new Map<string, Buffer>();
    const verdicts = await verifyFromRegistry(fresh.map((v) => `${name}@${v}`), { ...trustOptions(options), index: { indexDir }, tarballs });
    const hadProvenance = Object.values(entry.versions).some((r) => r.provenance);
    const pins: Record<string, VersionRecord> = {};
    const declared = new Map<string, DeclaredDriver[]>();
    let publisher: RepositoryPublisher | undefined;
    verdicts.forEach((verdict, i) => {
      const version = fresh[i]!;
      const finding = (code: FindingCode, message: string, acceptable: boolean) => {
        const accepted = acceptable && accept.has(`${name}@${version}`);
        result.findings.push({ package: name, version, code, message, acceptable, accepted });
        return accepted;
      };
      if ('error' in verdict) return void finding('E_ADD_REFUSED', `${verdict.error.code}: ${verdict.error.message}`, false);
      // policy rules (an unpinned version is exactly what sync is about) and the publisher (its identity, or provenance missing where one is pinned) are sync's findings below; the checks of the bytes refuse
      const failures = verdict.results.filter((r) => r.status === 'fail' && r.check !== 'policy' && r.check !== 'identity' && r.code !== 'E_PROVENANCE_MISSING');
      if (failures.length > 0) return void finding('E_ADD_REFUSED', failures.map((r) => `${r.code}: ${r.message}`).join('; '), false);
      // the drivers this version declares, read from its own verified tarball (nothing is run)
      let drivers: DeclaredDriver[];
      try {
        drivers = staticMetadata(tarballs.get(`${name}@${version}`)!, `${name}@${version}`).drivers;
        assertIndexEntry({ ...entry, declarations: declare(entry.declarations, version, drivers) }, `${name}@${version} (the drivers it declares)`);
      } catch (error) {
        if (!isMcsError(error)) throw error;
        return void finding('E_ADD_REFUSED', `${error.code}: ${error.message}`, false);
      }
      const observed = verdict.results.find((r) => r.check === 'identity')?.evidence.observed as ObservedIdentity | undefined;
      const pinned = publisher ?? repositoryPublisher(entry.trust?.publisher);
      if (!hasProvenance(verdict)) {
        if (hadProvenance && !finding('E_PROVENANCE_DOWNGRADE', `${name}@${version} was published without provenance, which earlier versions had`, true)) return undefined;
      } else if (observed && pinned && identityChange(observed, pinned)) {
        const message = `${name}@${version} was built by ${observed.repository ?? '?'} ${observed.workflow ?? '?'} at ${observed.ref ?? '?'} (${identityChange(observed, pinned)})`;
        if (!finding('E_IDENTITY_CHANGED', message, true)) return undefined;
        // accepting a new repository or workflow moves the pin; a one-off ref or runner is accepted for this version only
        if (observed.issuer && observed.repository && observed.workflow && (observed.repository !== pinned.repository || observed.workflow !== pinned.workflow || observed.issuer !== pinned.issuer)) {
          publisher = { ...pinned, issuer: observed.issuer, repository: observed.repository, workflow: observed.workflow };
        }
      } else if (observed && !pinned) {
        // the first release with provenance: its publisher becomes the pin only when a maintainer says so
        const message = `${name}@${version} is the first release with provenance, built by ${observed.repository ?? '?'} ${observed.workflow ?? '?'}; accepting it pins that publisher`;
        if (!finding('E_IDENTITY_CHANGED', message, true)) return undefined;
        if (observed.issuer && observed.repository && observed.workflow) publisher = { issuer: observed.issuer, repository: observed.repository, workflow: observed.workflow };
      }
      pins[version] = pinOf(verdict, tarballs.get(`${name}@${version}`)!, packument);
      declared.set(version, drivers);
      result.added.push({ package: name, version, provenance: pins[version]!.provenance });
      return undefined;
    });
    if (Object.keys(pins).length === 0 || options.dryRun) continue;
    const accepted = result.findings.filter((f) => f.package === name && f.accepted).map((f) => `accepted ${f.code} for ${f.version}`);
    const why = accepted.length > 0 ? `${author.why} (${accepted.join('; ')})` : author.why;
    result.records.push(
      ...recordChange(indexDir, `npm:${name}`, { ...author, why }, (draft: IndexEntry) => {
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
