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

export interface PublisherIdentity {
  issuer: string;
  repository: string;
  workflow: string;
  /** A trailing * matches any suffix. */
  ref?: string;
  runner?: 'github-hosted' | 'any';
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

export interface DistributionFile {
  filename: string;
  kind?: 'sdist' | 'wheel';
  integrity: string;
  size?: number;
}

export interface VersionRecord {
  /** npm: SRI sha512 of the tarball. */
  integrity?: string;
  /** npm: tarball size in bytes. */
  size?: number;
  /** PyPI: each distribution file with its digest. */
  files?: DistributionFile[];
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
