/**
 * Trust policy (DESIGN.md §4 check 6): whether a client accepts a package
 * version that may well be genuine. Each rule is a named, explainable result
 * over data gathered before (index entry, packument time, verdict); nothing
 * here fetches, reads the clock or throws for a refusal.
 */
import { repositoryPublisher, type Ecosystem, type IndexEntry, type Label, type TrustPolicy, type VersionRecord } from '../manifest/types.js';
import { compareVersions } from '../index/rows.js';
import satisfies from 'semver/functions/satisfies.js';
import { fail, pass, skip, type CheckResult } from './result.js';
import type { Verdict } from './verifier.js';

/** A trust policy with every default filled in (defaults from schemas/trust-policy.v1.schema.json). */
export interface ResolvedPolicy {
  labels: Label[];
  requireProvenance: { npm: boolean; pypi: boolean };
  minReleaseAgeDays: number;
  allowYanked: boolean;
  allow: string[];
  deny: string[];
}

export const DEFAULT_POLICY: ResolvedPolicy = {
  labels: ['verified', 'reference'],
  requireProvenance: { npm: true, pypi: false },
  minReleaseAgeDays: 0,
  allowYanked: false,
  allow: [],
  deny: [],
};

/** Fills every field the policy leaves out from DEFAULT_POLICY, copying lists so the result can be changed freely. */
export function resolvePolicy(policy: TrustPolicy = {}): ResolvedPolicy {
  return {
    labels: [...(policy.labels ?? DEFAULT_POLICY.labels)],
    requireProvenance: {
      npm: policy.requireProvenance?.npm ?? DEFAULT_POLICY.requireProvenance.npm,
      pypi: policy.requireProvenance?.pypi ?? DEFAULT_POLICY.requireProvenance.pypi,
    },
    minReleaseAgeDays: policy.minReleaseAgeDays ?? DEFAULT_POLICY.minReleaseAgeDays,
    allowYanked: policy.allowYanked ?? DEFAULT_POLICY.allowYanked,
    allow: [...(policy.allow ?? DEFAULT_POLICY.allow)],
    deny: [...(policy.deny ?? DEFAULT_POLICY.deny)],
  };
}

export interface PolicyInput {
  name: string;
  version: string;
  /** The index entry, when the index lists the package. */
  entry?: IndexEntry;
  /** The registry the package comes from when known without the index (a verified npm tarball is npm's); the entry's wins. */
  ecosystem?: Ecosystem;
  /** When the registry says the version was published (packument time), if known. */
  publishedAt?: Date;
  /** The MCS driver contract version the client implements (semver), if it cares. */
  contractVersion?: string;
  /** The verifier's verdict for this version, if verification ran. */
  verdict?: Verdict;
  policy: ResolvedPolicy;
  now: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** What every rule needs, worked out once. */
interface Facts {
  input: PolicyInput;
  spec: string;
  /** The index's record of this version; undefined when unlisted or unpinned. */
  record: VersionRecord | undefined;
}

// The escape hatch for a package known to be bad whatever the index says
// (a compromised maintainer, a malicious release under review): nothing else
// may override it, so it is its own rule and always reported.
function denyRule({ input, spec }: Facts): CheckResult {
  const evidence = { rule: 'deny', name: input.name };
  if (input.policy.deny.includes(input.name)) return fail('policy', 'E_POLICY_DENIED', `${spec}: the policy denies ${input.name}`, evidence);
  return pass('policy', `${spec}: not on the deny list`, evidence);
}

// Labels carry a human review and, for Verified, a pinned publisher; a client
// that accepts only reviewed labels is not exposed to whatever anyone lists
// (typosquats, unreviewed community drivers). An unlisted package has had no
// review at all, so only an explicit allow-list entry admits it.
function labelRule({ input, spec }: Facts): CheckResult {
  const label = input.entry?.label.value ?? null;
  const allowListed = input.policy.allow.includes(input.name);
  const evidence = { rule: 'label', label, accepted: input.policy.labels, allowListed };
  const found = label ?? 'unlisted (not in the index)';
  if (label !== null && input.policy.labels.includes(label)) return pass('policy', `${spec}: label ${label} is accepted`, evidence);
  if (allowListed) return pass('policy', `${spec}: label ${found} is not accepted, but ${input.name} is on the allow list`, evidence);
  return fail('policy', 'E_POLICY_LABEL', `${spec}: expected a label in [${input.policy.labels.join(', ')}], got ${found}`, evidence);
}

// A yanked version was withdrawn for a reason (a bug, a leaked secret, a
// malicious release). A version the index does not pin has no reviewed digest,
// which is exactly what an account takeover publishes.
function yankedRule({ input, spec, record }: Facts): CheckResult {
  const base = { rule: 'yanked', allowYanked: input.policy.allowYanked };
  if (!input.entry) return skip('policy', `${spec}: not in the index, so there is no pin or yank to check`, { ...base, pinned: false });
  if (!record) {
    return fail('policy', 'E_POLICY_UNPINNED', `${spec}: the index pins no digest for this version (pinned: ${Object.keys(input.entry.versions).join(', ') || 'none'})`, { ...base, pinned: false });
  }
  const evidence = { ...base, pinned: true, yanked: record.yanked ?? null, deprecated: record.deprecated ?? null };
  if (!record.yanked) return pass('policy', `${spec}: pinned by the index and not yanked`, evidence);
  if (input.policy.allowYanked) return pass('policy', `${spec}: yanked (${record.yanked.reason}), accepted because the policy allows yanked versions`, evidence);
  return fail('policy', 'E_POLICY_YANKED', `${spec}: yanked: ${record.yanked.reason}`, evidence);
}

// A driver built for another contract version can misread the calls it gets;
// refusing it up front beats a failure inside the driver at run time.
function contractRule({ input, spec, record }: Facts): CheckResult {
  const range = record?.contract ?? input.entry?.compatibility?.contract ?? null;
  const source = record?.contract !== undefined ? 'version' : range !== null ? 'compatibility' : null;
  const evidence = { rule: 'contract', contractVersion: input.contractVersion ?? null, range, source };
  if (input.contractVersion === undefined) return skip('policy', `${spec}: the client states no contract version to check`, evidence);
  if (range === null) return skip('policy', `${spec}: the index states no contract range for this version, so contract ${input.contractVersion} cannot be checked`, evidence);
  if (satisfies(input.contractVersion, range)) return pass('policy', `${spec}: contract ${input.contractVersion} satisfies ${range}`, evidence);
  return fail('policy', 'E_POLICY_CONTRACT', `${spec}: expected a driver for contract ${input.contractVersion}, got one for ${range}`, evidence);
}

// Freshly published malware is usually found and pulled within days; waiting
// lets the ecosystem's scanners and the index's reviewers see it first. An
// unknown age cannot show the wait has passed, so it is refused.
function releaseAgeRule({ input, spec, record }: Facts): CheckResult {
  const days = input.policy.minReleaseAgeDays;
  const published = input.publishedAt ?? (record?.published !== undefined ? new Date(record.published) : undefined);
  const knownPublished = published !== undefined && !Number.isNaN(published.getTime()) ? published : null;
  const evidence = {
    rule: 'min-release-age',
    minReleaseAgeDays: days,
    published: knownPublished?.toISOString() ?? null,
    publishedSource: knownPublished === null ? null : input.publishedAt !== undefined ? 'registry' : 'index',
    now: input.now.toISOString(),
  };
  if (days <= 0) return skip('policy', `${spec}: no minimum release age is required`, evidence);
  if (knownPublished === null) return fail('policy', 'E_POLICY_RELEASE_AGE', `${spec}: the publish time is unknown, so we cannot tell how old it is (at least ${days} days required)`, evidence);
  const ageDays = (input.now.getTime() - knownPublished.getTime()) / DAY_MS;
  const shown = Math.floor(ageDays * 10) / 10;
  if (ageDays >= days) return pass('policy', `${spec}: published ${shown} days ago (at least ${days} required)`, { ...evidence, ageDays: shown });
  return fail('policy', 'E_POLICY_RELEASE_AGE', `${spec}: expected a release at least ${days} days old, got one published ${shown} days ago (${knownPublished.toISOString()})`, { ...evidence, ageDays: shown });
}

/** The observed repository and workflow of the verdict's identity result, when it records one. */
function observedBuild(verdict: Verdict | undefined): { repository: string | null; workflow: string | null } | null {
  const identity = verdict?.results.find((r) => r.check === 'identity' && typeof r.evidence['observed'] === 'object' && r.evidence['observed'] !== null);
  if (!identity) return null;
  const observed = identity.evidence['observed'] as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);
  // a build signer outside the repository (another repository's reusable workflow) is a different workflow
  return { repository: text(observed['repository']), workflow: text(observed['workflow']) ?? text(observed['buildSigner']) };
}

// An account takeover can publish without the CI pipeline: either with no
// provenance at all (stripped provenance, after versions that had it) or with
// provenance from a repository or workflow the attacker controls. Both break
// the history the index recorded.
function downgradeRule({ input, spec, record }: Facts): CheckResult {
  const { entry, verdict } = input;
  const observed = observedBuild(verdict);
  const publisher = repositoryPublisher(entry?.trust?.publisher);
  const evidence: Record<string, unknown> = {
    rule: 'provenance-downgrade',
    provenance: record?.provenance ?? null,
    verdictStatus: verdict?.status ?? null,
    observed,
    pinned: publisher ? { repository: publisher.repository, workflow: publisher.workflow } : null,
  };
  if (!entry) return skip('policy', `${spec}: not in the index, so there is no provenance history to compare`, evidence);

  const lacksProvenance = record?.provenance === false || verdict?.status === 'missing-provenance';
  const lastWithProvenance = Object.entries(entry.versions)
    .filter(([version, r]) => r.provenance && compareVersions(version, input.version) < 0)
    .map(([version]) => version)
    .sort(compareVersions)
    .at(-1);
  evidence['lastWithProvenance'] = lastWithProvenance ?? null;
  if (lacksProvenance && lastWithProvenance !== undefined) {
    return fail('policy', 'E_PROVENANCE_DOWNGRADE', `${spec}: published without provenance, but ${input.name}@${lastWithProvenance} had it`, evidence);
  }

  if (observed && publisher) {
    if (observed.repository !== null && observed.repository !== publisher.repository) {
      return fail('policy', 'E_PROVENANCE_DOWNGRADE', `${spec}: built from another repository than the pinned one: expected ${publisher.repository}, got ${observed.repository}`, evidence);
    }
    if (observed.workflow !== null && observed.workflow !== publisher.workflow) {
      return fail('policy', 'E_PROVENANCE_DOWNGRADE', `${spec}: built by another workflow than the pinned one: expected ${publisher.workflow}, got ${observed.workflow}`, evidence);
    }
    return pass('policy', `${spec}: built from the pinned repository and workflow${lastWithProvenance ? `, keeping the provenance ${input.name}@${lastWithProvenance} had` : ''}`, evidence);
  }
  const identityNote = observed ? 'the index pins no publisher to compare the build with' : 'no observed build identity to compare';
  return pass('policy', `${spec}: ${lastWithProvenance === undefined ? 'no earlier version had provenance' : `keeps the provenance ${input.name}@${lastWithProvenance} had`}; ${identityNote}`, evidence);
}

// Provenance ties the bytes to a public build; without it a stolen token is
// enough to publish. The ecosystem is the entry's, else the one the verified
// artifact belongs to; where neither says, the stricter of the two settings applies.
function provenanceRequiredRule({ input, spec, record }: Facts): CheckResult {
  const { entry, verdict, policy } = input;
  const ecosystem: Ecosystem | null = entry?.ecosystem ?? input.ecosystem ?? null;
  const required = ecosystem !== null ? policy.requireProvenance[ecosystem] : policy.requireProvenance.npm || policy.requireProvenance.pypi;
  const provenanceResult = verdict?.results.find((r) => r.check === 'provenance');
  const evidence = {
    rule: 'provenance-required',
    ecosystem,
    required,
    verdictStatus: verdict?.status ?? null,
    provenanceResult: provenanceResult ? { status: provenanceResult.status, code: provenanceResult.code ?? null } : null,
    indexProvenance: record?.provenance ?? null,
  };
  const where = ecosystem ?? 'a package of unknown ecosystem';
  if (!required) return skip('policy', `${spec}: the policy does not require provenance for ${where}`, evidence);
  if (verdict) {
    if (verdict.status === 'missing-provenance') return fail('policy', 'E_PROVENANCE_MISSING', `${spec}: the policy requires provenance for ${where}, but this version has none`, evidence);
    if (provenanceResult?.status === 'pass') return pass('policy', `${spec}: provenance verified${verdict.status === 'unpinned' ? ' (no pinned identity to compare)' : ''}`, evidence);
    return fail('policy', 'E_PROVENANCE_MISSING', `${spec}: the policy requires verified provenance for ${where}, got ${provenanceResult ? `a failed check (${provenanceResult.code ?? provenanceResult.status})` : 'none'}`, evidence);
  }
  if (record?.provenance === true) return pass('policy', `${spec}: the index records provenance for this version (the verifier must confirm it)`, evidence);
  return fail('policy', 'E_PROVENANCE_MISSING', `${spec}: the policy requires provenance for ${where}, but ${record ? 'the index records none for this version' : 'nothing shows this version has any'}`, evidence);
}

/** Applies each rule and returns one CheckResult per rule (check 'policy'), in a fixed order, each with an explanation. */
/**
 * quarantine: the index maintainers hold the whole package while a security
 * report is looked into. Nothing overrides it, not the allow list nor the
 * label rules: a hold exists exactly for code that looked trusted.
 */
function quarantineRule(facts: Facts): CheckResult {
  const hold = facts.input.entry?.quarantine;
  if (hold) {
    return fail('policy', 'E_POLICY_QUARANTINED', `${facts.spec}: the index holds this package in quarantine: ${hold.reason}`, { rule: 'quarantine', reason: hold.reason, by: hold.by ?? null, at: hold.at ?? null });
  }
  return pass('policy', `${facts.spec}: not in quarantine`, { rule: 'quarantine' });
}

export function evaluatePolicy(input: PolicyInput): CheckResult[] {
  const facts: Facts = {
    input,
    spec: `${input.name}@${input.version}`,
    record: input.entry && Object.hasOwn(input.entry.versions, input.version) ? input.entry.versions[input.version] : undefined,
  };
  return [denyRule, quarantineRule, labelRule, yankedRule, contractRule, releaseAgeRule, downgradeRule, provenanceRequiredRule].map((rule) => rule(facts));
}

/** True when no policy result failed. */
export function policyAllows(results: CheckResult[]): boolean {
  return results.every((r) => r.status !== 'fail');
}
