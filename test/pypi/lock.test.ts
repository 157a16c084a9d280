/** The dependency lock resolver, pure over the files and requirements a source hands it (the loopback flow is test/maintain/pypi.test.ts). */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IndexEntry } from '../../src/manifest/types.js';
import { resolveLock, toDistributionFile, type LockCandidateFile, type LockSource } from '../../src/pypi/lock.js';
import { parseRequirement } from '../../src/pypi/pep508.js';
import '../helpers/matchers.js';

interface Release {
  requires?: string[];
  requiresPython?: string;
  yanked?: boolean;
  /** Tag of the only wheel (default py3-none-any); 'sdist' for an sdist only. */
  tag?: string;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function file(name: string, version: string, release: Release): LockCandidateFile {
  const filename = release.tag === 'sdist' ? `${name}-${version}.tar.gz` : `${name.replace(/-/g, '_')}-${version}-${release.tag ?? 'py3-none-any'}.whl`;
  return { filename, sha256: sha(filename), size: 100, ...(release.requiresPython ? { requiresPython: release.requiresPython } : {}), ...(release.yanked ? { yanked: true as const } : {}) };
}

/** A source over a table of projects: name -> version -> release; `indexed` entries stand for the index's own pins. */
function source(projects: Record<string, Record<string, Release>>, indexed: Record<string, IndexEntry> = {}): LockSource & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async files(name) {
      asked.push(name);
      const project = projects[name];
      if (!project) throw new Error(`no project ${name}`);
      return Object.entries(project).map(([version, release]) => file(name, version, release));
    },
    async requirements(name, version) {
      return (projects[name]![version]!.requires ?? []).map(parseRequirement);
    },
    indexed: (name) => indexed[name],
  };
}

const root = (requires: string[], requiresPython = '>=3.11') => ({ name: 'mcs-driver-x', version: '1.0.0', requiresPython, requirements: requires.map(parseRequirement) });

describe('resolveLock', () => {
  it('picks the newest final version whose pure wheel installs on every target Python, skipping yanked files and pre-releases', async () => {
    const lock = await resolveLock(root(['a>=1']), source({ a: { '1.0': {}, '1.1': {}, '1.2': { yanked: true }, '2.0rc1': {}, '1.5': { requiresPython: '>=3.12' } } }));
    expect(lock).toEqual({ python: '>=3.11', dependencies: [{ name: 'a', version: '1.1', files: [toDistributionFile(file('a', '1.1', {}))] }] });
  });

  it('follows requirements transitively, ends cycles at a project already chosen, and checks a cycle back to the root against its version', async () => {
    const projects = { a: { '1.0': { requires: ['b'] } }, b: { '1.0': { requires: ['a>=1', 'mcs-driver-x>=1'] } } };
    const lock = await resolveLock(root(['a']), source(projects));
    expect(lock.dependencies.map((d) => `${d.name}==${d.version}`)).toEqual(['a==1.0', 'b==1.0']);
    const back = { ...projects, b: { '1.0': { requires: ['mcs-driver-x>=2'] } } };
    await expect(resolveLock(root(['a']), source(back))).rejects.toThrowWithCode('E_LOCK_UNRESOLVED');
  });

  it('refuses two requirements no one version meets, naming both requirers (no backtracking)', async () => {
    const error = await resolveLock(root(['a>=2', 'b']), source({ a: { '1.0': {}, '2.0': {} }, b: { '1.0': { requires: ['a<2'] } } })).catch((e: unknown) => e);
    expect(error).toThrowWithCode('E_LOCK_UNRESOLVED');
    expect((error as Error).message).toContain('b 1.0 requires <2');
    expect((error as Error).message).toContain('2.0 was chosen for mcs-driver-x 1.0.0');
  });

  it('refuses a dependency with no pure-Python wheel, naming it and its files', async () => {
    const error = await resolveLock(root(['fast']), source({ fast: { '1.0': { tag: 'cp311-cp311-manylinux_2_17_x86_64' }, '0.9': { tag: 'sdist' } } })).catch((e: unknown) => e);
    expect(error).toThrowWithCode('E_LOCK_NO_WHEEL');
    expect((error as Error).message).toContain('fast (required by mcs-driver-x 1.0.0)');
    expect((error as Error).message).toContain('fast-1.0-cp311-cp311-manylinux_2_17_x86_64.whl');
  });

  it('caps the projects a lock may hold', async () => {
    const chain = Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((name, i, all) => [name, { '1.0': { requires: all[i + 1] ? [all[i + 1]!] : [] } }]));
    await expect(resolveLock(root(['a']), source(chain), { maxDependencies: 3 })).rejects.toThrowWithCode('E_LOCK_TOO_LARGE');
    expect((await resolveLock(root(['a']), source(chain), { maxDependencies: 5 })).dependencies).toHaveLength(5);
  });

  it('pins only the wheel it read: one pure wheel per dependency, never its other pure or platform wheels', async () => {
    const wheels = ['py3-none-any', 'py2.py3-none-any', 'cp311-cp311-manylinux_2_17_x86_64'].map((tag) => file('a', '1.0', { tag }));
    const read: string[] = [];
    const lock = await resolveLock(root(['a']), {
      files: async () => wheels,
      requirements: async (_name, _version, wheel) => {
        read.push(wheel.filename);
        return [];
      },
      indexed: () => undefined,
    });
    expect(read).toEqual(['a-1.0-py3-none-any.whl']);
    expect(lock.dependencies).toEqual([{ name: 'a', version: '1.0', files: [toDistributionFile(wheels[0]!)] }]);
  });

  it("resolves a project the index lists among the index's pins, and refuses when PyPI's file is not the pinned one", async () => {
    const pinned = (integrity: string): IndexEntry =>
      ({ name: 'mcs-driver-core', ecosystem: 'pypi', class: 'contract', description: 'core', label: { value: 'community', by: 'a', at: '2026-01-01T00:00:00Z', reason: 'r' }, versions: { '0.4.0': { provenance: false, files: [{ filename: 'mcs_driver_core-0.4.0-py3-none-any.whl', integrity }] } } }) as IndexEntry;
    const projects = { 'mcs-driver-core': { '0.4.0': {}, '0.5.0': {} } };
    const right = toDistributionFile(file('mcs-driver-core', '0.4.0', {})).integrity;
    const lock = await resolveLock(root(['mcs-driver-core>=0.4']), source(projects, { 'mcs-driver-core': pinned(right) }));
    expect(lock.dependencies.map((d) => d.version)).toEqual(['0.4.0']);
    const wrong = `sha256-${Buffer.alloc(32, 7).toString('base64')}`;
    const error = await resolveLock(root(['mcs-driver-core>=0.4']), source(projects, { 'mcs-driver-core': pinned(wrong) })).catch((e: unknown) => e);
    expect(error).toThrowWithCode('E_LOCK_UNRESOLVED');
    expect((error as Error).message).toContain('the index and PyPI disagree');
  });

  it('keeps a marker that holds on some targets, narrows it through its requirer, and drops it when another path needs the project always', async () => {
    const projects = { win: { '1.0': { requires: ['late; python_version >= "3.13"'] } }, late: { '1.0': {} }, old: { '1.0': {} } };
    const conditional = await resolveLock(root(['win; sys_platform == "win32"', 'old; python_version < "3.11"']), source(projects));
    expect(conditional.dependencies).toEqual([
      expect.objectContaining({ name: 'late', marker: '(python_version >= "3.13") and (sys_platform == "win32")' }),
      expect.objectContaining({ name: 'win', marker: 'sys_platform == "win32"' }),
    ]);
    const either = await resolveLock(root(['win; sys_platform == "win32"', 'mac; sys_platform == "darwin"']), source({ ...projects, win: { '1.0': { requires: ['late'] } }, mac: { '1.0': { requires: ['late'] } } }));
    expect(either.dependencies.find((d) => d.name === 'late')!.marker).toBe('(sys_platform == "win32") or (sys_platform == "darwin")');
    const both = await resolveLock(root(['win; sys_platform == "win32"', 'late']), source(projects));
    expect(both.dependencies.find((d) => d.name === 'late')!.marker).toBeUndefined();
  });

  it("adds a dependency's extra requirements only for the extras asked of it", async () => {
    const projects = { lib: { '1.0': { requires: ['fancy; extra == "fancy"', 'plain; extra == "plain"'] } }, fancy: { '1.0': {} }, plain: { '1.0': {} } };
    const lock = await resolveLock(root(['lib[fancy]']), source(projects));
    expect(lock.dependencies.map((d) => d.name)).toEqual(['fancy', 'lib']);
  });

  it('refuses a Requires-Python that admits none of the target Pythons', async () => {
    await expect(resolveLock(root([], '<3.0'), source({}))).rejects.toThrowWithCode('E_LOCK_UNRESOLVED');
  });
});
