/**
 * Domain types of the index, kept in line with schemas/*.v1.schema.json
 * (test/manifest/types.test.ts fails when the two drift apart).
 */
import type { Ecosystem, PackageClass } from './names.js';

export type { Ecosystem, PackageClass };

export type Label = 'verified' | 'reference' | 'community';

export type Permission = 'network' | 'filesystem:read' | 'filesystem:write' | 'shell' | 'secrets' | 'autostart';

/** MCS contract v0.6 Binding. */
export interface Binding {
  capability: string;
  /** "*" when the driver works with any adapter. */
  adapter: string;
  spec_format: string;
}

/** MCS contract v0.6 DriverMeta. */
export interface DriverMeta {
  id: string;
  name: string;
  version: string;
  bindings: Binding[];
  /** "*" or model names; null for a pure tool driver. */
  target_llms?: string[] | null;
  /** The Python SDK's name for target_llms: accepted on input, renamed before the index stores or compares it. */
  supported_llms?: string[] | null;
  capabilities: string[];
}

export interface ToolParameter {
  name: string;
  description: string;
  required?: boolean;
  schema?: Record<string, unknown>;
}

/** A tool needs a non-empty title or description. */
export interface Tool {
  name: string;
  title?: string | null;
  description?: string | null;
  parameters?: ToolParameter[];
}

export interface DeclaredDriver {
  kind: 'driver' | 'tool-driver' | 'orchestrator';
  export?: string;
  meta: DriverMeta;
  tools?: Tool[];
  metaSource?: string;
}

/** The drivers some versions of a package declare, read from their packages. */
export interface Declaration {
  /** The versions whose package declares exactly these drivers; absent for a declaration read from source that no release is known to carry. */
  versions?: string[];
  drivers: DeclaredDriver[];
}

export interface LabelRecord {
  value: Label;
  by: string;
  at: string;
  reason: string;
}

/**
 * A Trusted Publisher: the identity that must have signed every version's
 * provenance, compared exactly with the signing certificate's fields
 * (schemas/index-entry.v1.schema.json says which field each maps to). The
 * deployment environment a registry shows is not in the certificate and is
 * not pinned.
 */
export type PublisherIdentity = RepositoryPublisher | GooglePublisher;

/**
 * A CI workflow of a source repository: GitHub Actions (`kind` absent or
 * github, the npm entries' form) or GitLab CI/CD (gitlab).
 */
export interface RepositoryPublisher {
  kind?: 'github' | 'gitlab';
  /** OIDC issuer (.1.8): https://token.actions.githubusercontent.com, https://gitlab.com */
  issuer: string;
  /** Source Repository URI (.1.12): https://github.com/OWNER/REPO, https://gitlab.com/GROUP/PROJECT */
  repository: string;
  /** Workflow file in the repository (in the Build Config URI .1.18): .github/workflows/release.yml (GitHub: also the Build Signer URI .1.9), .gitlab-ci.yml */
  workflow: string;
  /** Allowed git ref (.1.14, and the @REF of .1.18); a trailing * matches any suffix. */
  ref?: string;
  /** GitHub only: the runner environment (.1.11). */
  runner?: 'github-hosted' | 'any';
}

/** The repository publisher of an entry, or undefined; a Google publisher (PyPI only, refused on npm entries by the schema) is not one. */
export function repositoryPublisher(publisher: PublisherIdentity | undefined): RepositoryPublisher | undefined {
  return publisher && publisher.kind !== 'google' ? publisher : undefined;
}

/** A Google Cloud service account. */
export interface GooglePublisher {
  kind: 'google';
  /** OIDC issuer (.1.8): https://accounts.google.com */
  issuer: string;
  /** The service account's e-mail: the certificate's SAN. */
  email: string;
}

export interface TrustManifest {
  repository?: string;
  author?: string;
  publisher?: PublisherIdentity;
}

export interface StateNote {
  reason: string;
  by?: string;
  at?: string;
}

/** A PyPI distribution file of a version, as PyPI's simple API describes it. */
export interface DistributionFile {
  filename: string;
  kind?: 'sdist' | 'wheel';
  /** SRI digest (sha256, as PyPI publishes it). */
  integrity: string;
  size?: number;
  /** The file's Requires-Python, as the index served it. */
  requiresPython?: string;
  /** When it was uploaded. */
  uploaded?: string;
  /** Whether the file must come with a PEP 740 attestation; absent: the version's `provenance`. */
  provenance?: boolean;
}

/** One dependency of a PyPI version's lock: an exact version and its pure-Python wheel(s). */
export interface LockedDependency {
  /** PEP 503 normalized project name. */
  name: string;
  version: string;
  /** PEP 508 marker under which it is needed (absent: always), for the installer to evaluate. */
  marker?: string;
  files: DistributionFile[];
}

/** What a PyPI version installs with, resolved from its wheel's Requires-Dist when it was pinned (src/pypi/lock.ts). */
export interface DependencyLock {
  /** The Python versions the markers were evaluated for (the package's Requires-Python, e.g. >=3.11). */
  python?: string;
  dependencies: LockedDependency[];
}

export interface VersionRecord {
  /** npm: SRI sha512 of the tarball. */
  integrity?: string;
  /** npm: tarball size in bytes. */
  size?: number;
  /** PyPI: each distribution file with its digest. */
  files?: DistributionFile[];
  /** PyPI: the dependency lock of this version. */
  lock?: DependencyLock;
  published?: string;
  contract?: string;
  provenance: boolean;
  yanked?: StateNote;
  deprecated?: StateNote;
}

export interface Compatibility {
  contract?: string;
  llms?: string[];
  orchestrators?: string[];
  runtime?: string;
}

export interface SecurityNote {
  text: string;
  severity?: 'info' | 'low' | 'medium' | 'high' | 'critical';
  url?: string;
}

export interface SecurityInfo {
  permissions?: Permission[];
  notes?: SecurityNote[];
}

/** One document of index-data/. */
export interface IndexEntry {
  $schema?: string;
  name: string;
  ecosystem: Ecosystem;
  class: PackageClass;
  description: string;
  homepage?: string;
  license?: string;
  keywords?: string[];
  /** Per version: what each version declares (a version is named at most once). */
  declarations?: Declaration[];
  label: LabelRecord;
  trust?: TrustManifest;
  versions: Record<string, VersionRecord>;
  compatibility?: Compatibility;
  security?: SecurityInfo;
  /** A security hold on the whole package: loaders refuse every version. */
  quarantine?: StateNote;
}

/** What a client accepts before it loads a driver (schemas/trust-policy.v1.schema.json). */
export interface TrustPolicy {
  $schema?: string;
  labels?: Label[];
  requireProvenance?: { npm?: boolean; pypi?: boolean };
  minReleaseAgeDays?: number;
  allowYanked?: boolean;
  allow?: string[];
  deny?: string[];
}
