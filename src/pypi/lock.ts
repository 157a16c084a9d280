/**
 * The dependency lock of a PyPI version: its wheel's Requires-Dist resolved,
 * transitively, to exact versions and pure-Python wheels, so that a client
 * installs exactly the files the index pinned (`pins --format requirements`,
 * the Python host). Decisions here are pure over what a LockSource fetches:
 *
 * - Markers are evaluated for the lock's target: every Python minor version
 *   the package's Requires-Python admits (LOCK_PYTHON_MINORS), on each of
 *   LOCK_PLATFORMS. A requirement true in every target environment is
 *   unconditional; false in all, skipped; true in some, kept with its marker
 *   (combined with the marker of whoever required it) for the installer to
 *   evaluate. A marker that names `extra` is evaluated with the extras the
 *   requirer asked for; when the rest of it still depends on the environment,
 *   the dependency is kept without a marker (installed everywhere: one pure
 *   wheel more, never one less).
 * - Extras requested of a dependency (`requests[socks]`) add the dependency's
 *   own `extra == "socks"` requirements; the lock lists the resulting
 *   projects plainly, without extras.
 * - One pure-Python wheel (`py3-none-any`, `py2.py3-none-any`) is pinned per
 *   dependency: the one the LockSource read whole and checked (its
 *   requirements come from it), so pip and the loader get no hash of a wheel
 *   nobody opened. A dependency with none is E_LOCK_NO_WHEEL. Sdists are
 *   never built, because building runs the package's code.
 * - A project the index itself lists resolves among the versions the index
 *   pins (not yanked); its wheel is the index's own (the first pure wheel the
 *   version pins) and PyPI's file must be it, byte for byte.
 * - Newest matching version first, pre-releases only when a specifier names
 *   one (PEP 440), yanked files skipped (PEP 592). No backtracking: a later
 *   requirement the chosen version does not meet is E_LOCK_UNRESOLVED naming
 *   both requirers. Cycles end at a project already chosen. At most
 *   `maxDependencies` projects (E_LOCK_TOO_LARGE).
 */
import { McsError } from '../errors.js';
import type { DependencyLock, DistributionFile, IndexEntry, LockedDependency } from '../manifest/types.js';
import { isPureWheel, normalizeProjectName, normalizeVersion, parseDistFilename } from './filenames.js';
import { sortVersions, versionSatisfies } from './pep440.js';
import { evaluateMarker, type MarkerEnvironment, type Requirement } from './pep508.js';

export const DEFAULT_MAX_LOCK_DEPENDENCIES = 200;
/** The lock's Python when the package states no Requires-Python: MCS core needs 3.11 (it imports tomllib). */
export const DEFAULT_LOCK_PYTHON = '>=3.11';
/** The Python minor versions a lock is resolved for (those its Requires-Python admits). */
export const LOCK_PYTHON_MINORS: readonly string[] = ['3.8', '3.9', '3.10', '3.11', '3.12', '3.13', '3.14', '3.15'];
/** The platforms a lock is resolved for: a lock is platform-independent, so a marker must hold on all of them to be dropped. */
export const LOCK_PLATFORMS: ReadonlyArray<Record<'os_name' | 'sys_platform' | 'platform_system' | 'platform_machine', string>> = [
  { os_name: 'posix', sys_platform: 'linux', platform_system: 'Linux', platform_machine: 'x86_64' },
  { os_name: 'posix', sys_platform: 'linux', platform_system: 'Linux', platform_machine: 'aarch64' },
  { os_name: 'posix', sys_platform: 'darwin', platform_system: 'Darwin', platform_machine: 'arm64' },
  { os_name: 'nt', sys_platform: 'win32', platform_system: 'Windows', platform_machine: 'AMD64' },
];
const MAX_MARKER = 2000;
const MAX_ALTERNATIVES = 16;

/** A file as the simple API lists it (src/pypi/client.ts PypiFile). */
export interface LockCandidateFile {
  filename: string;
  sha256: string;
  size?: number;
  requiresPython?: string;
  uploaded?: string;
  yanked?: string | true;
}

/** What the resolver reads: PyPI's files of a project, a wheel's requirements, and the index's pins. */
export interface LockSource {
  /** Every file PyPI lists for the project (E_NOT_FOUND when it has none). */
  files(name: string): Promise<LockCandidateFile[]>;
  /** The Requires-Dist of a version, read from that wheel (downloaded and checked against its sha256). */
  requirements(name: string, version: string, wheel: LockCandidateFile): Promise<Requirement[]>;
  /** The index's entry for a project, when the index lists it. */
  indexed(name: string): IndexEntry | undefined;
}

export interface LockOptions {
  /** The most projects a lock may hold. Default DEFAULT_MAX_LOCK_DEPENDENCIES. */
  maxDependencies?: number;
}

/** The package being locked: its name, version, Requires-Python and requirements, read from its own wheel. */
export interface LockRoot {
  name: string;
  version: string;
  requiresPython?: string;
  requirements: Requirement[];
}

/** When a dependency is needed: always (null), or any one of these conjunctions of markers. */
type Condition = null | string[][];

interface Node {
  name: string;
  version: string;
  files: DistributionFile[];
  requirements: Requirement[];
  /** Extras asked of it, each adding its `extra == …` requirements. */
  extras: Set<string>;
  /** Who asked for it, and with what specifier (for conflict messages). */
  askedBy: string[];
}

function satisfiesPython(python: string, specifier: string | undefined): boolean {
  if (!specifier) return true;
  return [`${python}.0`, `${python}.99`].some((v) => versionSatisfies(v, specifier));
}

/** The target environments: each Python minor the lock's Python admits, on each platform. */
export function lockEnvironments(python: string): MarkerEnvironment[] {
  const minors = LOCK_PYTHON_MINORS.filter((minor) => satisfiesPython(minor, python));
  if (minors.length === 0) throw new McsError('E_LOCK_UNRESOLVED', `Requires-Python ${python} admits none of the Python versions a lock is made for (${LOCK_PYTHON_MINORS.join(', ')})`, { details: { python } });
  return minors.flatMap((minor) => {
    const full = [`${minor}.0`, `${minor}.99`].find((v) => versionSatisfies(v, python)) ?? `${minor}.0`;
    return LOCK_PLATFORMS.map((platform) => ({
      ...platform,
      python_version: minor,
      python_full_version: full,
      implementation_name: 'cpython',
      implementation_version: full,
      platform_python_implementation: 'CPython',
      platform_release: '',
      platform_version: '',
      extra: '',
    }));
  });
}

/** In how many target environments a requirement holds, with the requirer's extras: 'always', 'never' or 'sometimes'. */
function markerReach(requirement: Requirement, extras: Set<string>, environments: MarkerEnvironment[]): 'always' | 'never' | 'sometimes' {
  if (!requirement.marker) return 'always';
  const asked = ['', ...extras];
  const results = environments.map((env) => asked.some((extra) => evaluateMarker(requirement.marker!, { ...env, extra })));
  return results.every(Boolean) ? 'always' : results.some(Boolean) ? 'sometimes' : 'never';
}

/** The condition of a requirement made by a dependency needed under `parent`. */
function narrow(parent: Condition, requirement: Requirement, reach: 'always' | 'sometimes'): Condition {
  // a marker naming an extra means nothing to the installer, which installs the listed projects plainly: needed wherever the requirer is
  if (reach === 'always' || /\bextra\b/.test(requirement.marker ?? '')) return parent;
  const atom = requirement.marker!.trim();
  return (parent ?? [[]]).map((conjunction) => [...new Set([...conjunction, atom])].sort());
}

/** Either condition: always wins; alternatives that include another are dropped (absorption); too many become always. */
function widen(a: Condition | undefined, b: Condition): Condition {
  if (a === undefined) return b;
  if (a === null || b === null) return null;
  const all = [...a, ...b].filter((c, i, list) => list.findIndex((d) => d.join('\0') === c.join('\0')) === i);
  const minimal = all.filter((c) => !all.some((d) => d !== c && d.length < c.length && d.every((atom) => c.includes(atom))));
  return minimal.length > MAX_ALTERNATIVES ? null : minimal;
}

function sameCondition(a: Condition | undefined, b: Condition | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A condition as one PEP 508 marker, or undefined for always (or when it would be too long to be worth stating). */
function markerOf(condition: Condition): string | undefined {
  if (condition === null || condition.some((c) => c.length === 0)) return undefined;
  const wrap = (atom: string) => `(${atom})`;
  const conjunction = (c: string[]) => c.map(wrap).join(' and ');
  const text = condition.length === 1 ? (condition[0]!.length === 1 ? condition[0]![0]! : conjunction(condition[0]!)) : condition.map((c) => (c.length === 1 ? wrap(c[0]!) : `(${conjunction(c)})`)).join(' or ');
  return text.length > MAX_MARKER ? undefined : text;
}

export function toDistributionFile(file: LockCandidateFile): DistributionFile {
  return {
    filename: file.filename,
    kind: file.filename.toLowerCase().endsWith('.whl') ? 'wheel' : 'sdist',
    integrity: `sha256-${Buffer.from(file.sha256, 'hex').toString('base64')}`,
    ...(file.size !== undefined && file.size > 0 ? { size: file.size } : {}),
    ...(file.requiresPython ? { requiresPython: file.requiresPython } : {}),
    ...(file.uploaded && !Number.isNaN(Date.parse(file.uploaded)) ? { uploaded: new Date(file.uploaded).toISOString() } : {}),
  };
}

/** PyPI's files grouped by normalized version (files whose names do not parse, or name another project, are left out). */
function byVersion(name: string, files: LockCandidateFile[]): Map<string, LockCandidateFile[]> {
  const out = new Map<string, LockCandidateFile[]>();
  for (const file of files) {
    let version: string;
    try {
      const parsed = parseDistFilename(file.filename);
      if (parsed.project !== name) continue;
      version = parsed.version;
    } catch {
      continue;
    }
    const list = out.get(version);
    if (list) list.push(file);
    else out.set(version, [file]);
  }
  return out;
}

/** The newest version meeting the specifier with a pure wheel installable on every target Python, and that wheel; the index's pins for a project it lists. */
async function choose(requirement: Requirement, requirer: string, python: string, source: LockSource): Promise<{ version: string; wheel: LockCandidateFile }> {
  const name = requirement.name;
  const asked = `${name}${requirement.specifier ? ` ${requirement.specifier}` : ''} (required by ${requirer})`;
  const files = byVersion(name, await source.files(name));
  const entry = source.indexed(name);
  const pinned = entry ? new Map(Object.entries(entry.versions).filter(([, r]) => !r.yanked).map(([v, r]) => [normalizeVersion(v) ?? v, r])) : undefined;
  const matching = sortVersions(
    [...files.keys()].filter((v) => (!pinned || pinned.has(v)) && versionSatisfies(v, requirement.specifier || '>=0')),
    'newest-first',
  );
  if (matching.length === 0) {
    const where = pinned ? `among the versions the index pins (${[...pinned.keys()].join(', ') || 'none'})` : 'on the index';
    throw new McsError('E_LOCK_UNRESOLVED', `${asked}: no version matches ${where}; nothing was locked`, { details: { dependency: name, specifier: requirement.specifier, requiredBy: requirer } });
  }
  for (const version of matching) {
    const wheels = files.get(version)!.filter((f) => f.yanked === undefined && isPureWheel(f.filename) && lockEnvironmentsAdmit(python, f.requiresPython));
    if (wheels.length === 0) continue;
    const record = pinned?.get(version);
    if (!record) return { version, wheel: wheels[0]! };
    // the index's own pins decide: its wheel (the one it read when it pinned the version) must be served by PyPI, byte for byte
    const pin = record.files?.find((f) => isPureWheel(f.filename));
    const wheel = wheels.find((w) => w.filename === pin?.filename) ?? wheels[0]!;
    const integrity = toDistributionFile(wheel).integrity;
    if (!pin || pin.filename !== wheel.filename || pin.integrity !== integrity) {
      throw new McsError('E_LOCK_UNRESOLVED', `${name} ${version} (required by ${requirer}): PyPI serves ${wheel.filename} with ${integrity}, but the index pins ${pin ? `${pin.filename} with ${pin.integrity}` : 'no pure wheel of it'}; the index and PyPI disagree, so nothing was locked`, {
        details: { dependency: name, version, filename: wheel.filename, expected: pin?.integrity ?? null, found: integrity },
      });
    }
    return { version, wheel };
  }
  const newest = matching[0]!;
  throw new McsError('E_LOCK_NO_WHEEL', `${asked}: no matching version has a pure-Python wheel for Python ${python} (${newest} has ${files.get(newest)!.map((f) => f.filename).join(', ')}); a lock pins py3-none-any wheels only, and sdists are never built`, {
    details: { dependency: name, specifier: requirement.specifier, requiredBy: requirer, files: files.get(newest)!.map((f) => f.filename) },
  });
}

/** Whether a file's Requires-Python admits every Python minor the lock is made for. */
function lockEnvironmentsAdmit(python: string, requiresPython: string | undefined): boolean {
  if (!requiresPython) return true;
  return LOCK_PYTHON_MINORS.filter((minor) => satisfiesPython(minor, python)).every((minor) => satisfiesPython(minor, requiresPython));
}

/** Resolves a version's requirements, transitively, into its dependency lock. */
export async function resolveLock(root: LockRoot, source: LockSource, options: LockOptions = {}): Promise<DependencyLock> {
  const max = options.maxDependencies ?? DEFAULT_MAX_LOCK_DEPENDENCIES;
  const python = root.requiresPython?.trim() || DEFAULT_LOCK_PYTHON;
  const environments = lockEnvironments(python);
  const rootName = normalizeProjectName(root.name);
  const rootLabel = `${rootName} ${root.version}`;
  const nodes = new Map<string, Node>([[rootName, { name: rootName, version: normalizeVersion(root.version) ?? root.version, files: [], requirements: root.requirements, extras: new Set(), askedBy: [] }]]);
  // breadth first: each requirement of each chosen project, in order (bounded by the cap on projects)
  const queue: Array<{ from: string; requirement: Requirement }> = root.requirements.map((requirement) => ({ from: rootName, requirement }));
  for (let next = queue.shift(); next; next = queue.shift()) {
    const parent = nodes.get(next.from)!;
    const requirement = { ...next.requirement, name: normalizeProjectName(next.requirement.name) };
    if (markerReach(requirement, parent.extras, environments) === 'never') continue;
    const requirer = next.from === rootName ? rootLabel : `${parent.name} ${parent.version}`;
    const known = nodes.get(requirement.name);
    if (known) {
      if (requirement.specifier && !versionSatisfies(known.version, requirement.specifier)) {
        throw new McsError('E_LOCK_UNRESOLVED', `${requirement.name}: ${requirer} requires ${requirement.specifier}, but ${known.version} was chosen for ${known.askedBy.join(', ') || rootLabel}; no one version meets both (the lock does not backtrack)`, {
          details: { dependency: requirement.name, specifier: requirement.specifier, requiredBy: requirer, chosen: known.version },
        });
      }
      known.askedBy.push(requirer);
      const fresh = requirement.extras.filter((extra) => !known.extras.has(extra));
      for (const extra of fresh) known.extras.add(extra);
      // new extras add the requirements that name them
      if (fresh.length > 0) queue.push(...known.requirements.filter((r) => r.marker && /\bextra\b/.test(r.marker)).map((r) => ({ from: known.name, requirement: r })));
      continue;
    }
    if (nodes.size > max) throw new McsError('E_LOCK_TOO_LARGE', `${rootLabel}: its dependency lock would hold more than ${max} projects; nothing was locked`, { details: { max } });
    const chosen = await choose(requirement, requirer, python, source);
    // the one wheel read (and checked) is the one pinned
    const requirements = await source.requirements(requirement.name, chosen.version, chosen.wheel);
    const node: Node = { name: requirement.name, version: chosen.version, files: [toDistributionFile(chosen.wheel)], requirements, extras: new Set(requirement.extras), askedBy: [requirer] };
    nodes.set(node.name, node);
    queue.push(...requirements.map((r) => ({ from: node.name, requirement: r })));
  }
  return { python, dependencies: conditions(rootName, nodes, environments) };
}

/**
 * When each chosen project is needed: the root always; a dependency under
 * its requirer's condition narrowed by the requirement's marker. Iterated to
 * a fixed point (conditions only widen; each holds at most MAX_ALTERNATIVES
 * conjunctions of a finite set of markers, so it ends).
 */
function conditions(rootName: string, nodes: Map<string, Node>, environments: MarkerEnvironment[]): LockedDependency[] {
  const condition = new Map<string, Condition>([[rootName, null]]);
  for (let changed = true, rounds = 0; changed && rounds < nodes.size * (MAX_ALTERNATIVES + 2); rounds++) {
    changed = false;
    for (const node of nodes.values()) {
      const own = condition.get(node.name);
      if (own === undefined) continue;
      for (const requirement of node.requirements) {
        const name = normalizeProjectName(requirement.name);
        if (name === rootName || !nodes.has(name)) continue;
        const reach = markerReach(requirement, node.extras, environments);
        if (reach === 'never') continue;
        const widened = widen(condition.get(name), narrow(own, requirement, reach));
        if (!sameCondition(widened, condition.get(name))) {
          condition.set(name, widened);
          changed = true;
        }
      }
    }
  }
  return [...nodes.values()]
    .filter((node) => node.name !== rootName)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((node) => {
      const marker = markerOf(condition.get(node.name) ?? null);
      return { name: node.name, version: node.version, ...(marker ? { marker } : {}), files: node.files };
    });
}
