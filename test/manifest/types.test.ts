/**
 * The TypeScript types in src/manifest/types.ts are written by hand; these
 * checks fail when a schema gains or loses a property the types do not
 * (the `satisfies` clauses fail to compile the other way round).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemasDir } from '../../src/config.js';
import type { Binding, Declaration, DeclaredDriver, DependencyLock, DistributionFile, LockedDependency, DriverMeta, GooglePublisher, IndexEntry, RepositoryPublisher, Tool, ToolParameter, TrustPolicy, VersionRecord } from '../../src/manifest/types.js';

function schema(file: string): any {
  return JSON.parse(readFileSync(join(schemasDir(), file), 'utf8'));
}

const keys = <T>(record: Record<keyof T, true>): string[] => Object.keys(record).sort();

describe('types match the schemas', () => {
  it('IndexEntry', () => {
    const expected = keys<IndexEntry>({ $schema: true, name: true, ecosystem: true, class: true, description: true, homepage: true, license: true, keywords: true, declarations: true, label: true, trust: true, versions: true, compatibility: true, security: true, quarantine: true });
    expect(Object.keys(schema('index-entry.v1.schema.json').properties).sort()).toEqual(expected);
  });

  it('Declaration and DeclaredDriver', () => {
    const defs = schema('index-entry.v1.schema.json').$defs;
    expect(Object.keys(defs.declaration.properties).sort()).toEqual(keys<Declaration>({ versions: true, drivers: true }));
    expect(Object.keys(defs.declaredDriver.properties).sort()).toEqual(keys<DeclaredDriver>({ kind: true, export: true, meta: true, tools: true, metaSource: true }));
  });

  it('VersionRecord', () => {
    const expected = keys<VersionRecord>({ integrity: true, size: true, files: true, published: true, contract: true, provenance: true, yanked: true, deprecated: true, lock: true });
    expect(Object.keys(schema('index-entry.v1.schema.json').$defs.version.properties).sort()).toEqual(expected);
  });

  it('DistributionFile', () => {
    const expected = keys<DistributionFile>({ filename: true, kind: true, integrity: true, size: true, requiresPython: true, uploaded: true, provenance: true });
    expect(Object.keys(schema('index-entry.v1.schema.json').$defs.distributionFile.properties).sort()).toEqual(expected);
  });

  it('DependencyLock and LockedDependency', () => {
    const lock = schema('index-entry.v1.schema.json').$defs.version.properties.lock;
    expect(Object.keys(lock.properties).sort()).toEqual(keys<DependencyLock>({ python: true, dependencies: true }));
    expect(Object.keys(lock.properties.dependencies.items.properties).sort()).toEqual(keys<LockedDependency>({ name: true, version: true, marker: true, files: true }));
  });

  it('the publisher kinds', () => {
    const defs = schema('index-entry.v1.schema.json').$defs;
    expect(Object.keys(defs.repositoryPublisher.properties).sort()).toEqual(keys<RepositoryPublisher>({ kind: true, issuer: true, repository: true, workflow: true, ref: true, runner: true }));
    expect(Object.keys(defs.googlePublisher.properties).sort()).toEqual(keys<GooglePublisher>({ kind: true, issuer: true, email: true }));
    expect(defs.publisher.properties.kind.enum).toEqual(['github', 'gitlab', 'google']);
  });

  it('DriverMeta and Binding', () => {
    const meta = schema('driver-meta.v1.schema.json');
    expect(Object.keys(meta.properties).sort()).toEqual(keys<DriverMeta>({ id: true, name: true, version: true, bindings: true, target_llms: true, supported_llms: true, capabilities: true }));
    expect(Object.keys(meta.$defs.binding.properties).sort()).toEqual(keys<Binding>({ capability: true, adapter: true, spec_format: true }));
  });

  it('Tool and ToolParameter', () => {
    const tool = schema('tool.v1.schema.json');
    expect(Object.keys(tool.properties).sort()).toEqual(keys<Tool>({ name: true, title: true, description: true, parameters: true }));
    expect(Object.keys(tool.$defs.parameter.properties).sort()).toEqual(keys<ToolParameter>({ name: true, description: true, required: true, schema: true }));
  });

  it('TrustPolicy', () => {
    const expected = keys<TrustPolicy>({ $schema: true, labels: true, requireProvenance: true, minReleaseAgeDays: true, allowYanked: true, allow: true, deny: true });
    expect(Object.keys(schema('trust-policy.v1.schema.json').properties).sort()).toEqual(expected);
  });
});
