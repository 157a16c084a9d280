/**
 * A version's pins as a pip requirements file (`pip install
 * --require-hashes -r FILE`, `uv pip install --require-hashes`): the
 * driver's wheel and each locked dependency's wheel, one `NAME==VERSION`
 * line each with the `--hash=` of that wheel. Python clients get the
 * index's digest pins with the tools they already use.
 *
 * Only the wheel mcs-pkg read whole and checked is offered: the first
 * pure-Python wheel (py3-none-any, py2.py3-none-any) a version or a locked
 * dependency pins, the same one the loader runs. Platform wheels are pinned
 * by digest for `verify` but never read, and pip prefers them to a pure
 * wheel, so their hashes are never printed.
 *
 * Sdist hashes are left out on purpose: pip accepts any file whose digest is
 * on the line, so an sdist hash would let pip fall back to the sdist (no
 * compatible wheel, `--no-binary`) and build it, running the package's own
 * setup code: exactly what the index never does. With wheel hashes only,
 * pip refuses the sdist by its digest.
 */
import { McsError } from '../errors.js';
import type { DistributionFile, IndexEntry, VersionRecord } from '../manifest/types.js';
import { isPureWheel } from './filenames.js';
import { pinnedKey } from './verify.js';
import { canonicalMarker, parseRequirement } from './pep508.js';

/** The record of a version, found as verify finds it (pinnedKey); E_POLICY_UNPINNED naming the pinned ones. */
export function pinnedVersion(entry: IndexEntry, version: string): { version: string; record: VersionRecord } {
  const key = pinnedKey(entry, version);
  if (key === undefined) {
    throw new McsError('E_POLICY_UNPINNED', `${entry.ecosystem}:${entry.name}@${version}: the index pins no such version (pinned: ${Object.keys(entry.versions).join(', ') || 'none'})`, {
      details: { package: `${entry.ecosystem}:${entry.name}`, version, pinned: Object.keys(entry.versions) },
    });
  }
  return { version: key, record: entry.versions[key]! };
}

/** `--hash=ALGO:HEX` of an SRI digest (pip takes sha256 and sha512 alike). */
function hashOption(file: DistributionFile): string {
  const dash = file.integrity.indexOf('-');
  return `--hash=${file.integrity.slice(0, dash)}:${Buffer.from(file.integrity.slice(dash + 1), 'base64').toString('hex')}`;
}

/** The wheel the index read and checked among pinned files: the first pure-Python one (none: an empty list). */
function checkedWheel(files: DistributionFile[]): DistributionFile[] {
  return files.filter((file) => isPureWheel(file.filename)).slice(0, 1);
}

/**
 * One requirement with its hashes. The requirement text is rebuilt from its
 * parse (normalized name, `==` clause, canonical marker), never copied, so
 * nothing the index holds can add a line, a comment or an option to the file
 * pip reads (E_WHEEL_METADATA when it does not parse).
 */
function line(name: string, version: string, files: DistributionFile[], marker?: string): string {
  const requirement = parseRequirement(`${name}==${version}${marker ? ` ; ${marker}` : ''}`);
  const text = `${requirement.name}${requirement.specifier}${requirement.marker ? ` ; ${canonicalMarker(requirement.marker)}` : ''}`;
  return [text, ...files.map((file) => `    ${hashOption(file)}`)].join(' \\\n');
}

/**
 * The requirements file for a PyPI version the index pins: its wheels, then
 * each dependency of its lock (with the marker under which it is needed).
 * E_POLICY_UNPINNED for a version the index does not pin, E_POLICY_YANKED
 * for a yanked one, E_LOCK_NO_WHEEL when it pins no wheel, E_LOCK_MISSING
 * when it has no lock.
 */
export function requirementsFile(entry: IndexEntry, requested: string): string {
  const id = `pypi:${entry.name}`;
  if (entry.ecosystem !== 'pypi') throw new McsError('E_USAGE', `--format requirements is for PyPI packages (pip); ${entry.ecosystem}:${entry.name} is an npm package`, { details: { package: `${entry.ecosystem}:${entry.name}` } });
  const { version, record } = pinnedVersion(entry, requested);
  if (record.yanked) throw new McsError('E_POLICY_YANKED', `${id}@${version} is yanked: ${record.yanked.reason}`, { details: { package: id, version } });
  const wheels = checkedWheel(record.files ?? []);
  if (wheels.length === 0) throw new McsError('E_LOCK_NO_WHEEL', `${id}@${version}: the index pins no pure-Python wheel of it (${(record.files ?? []).map((f) => f.filename).join(', ')}); pip would have to build the sdist, which runs its code`, { details: { package: id, version } });
  if (!record.lock) {
    throw new McsError('E_LOCK_MISSING', `${id}@${version}: the index pins its files but no dependency lock, so its dependencies would be unpinned; the index maintainers add it with mcs-pkg index add ${id} (or index sync ${id} for a new version)`, { details: { package: id, version } });
  }
  return [
    `# ${id}@${version} and its locked dependencies${record.lock.python ? ` (Python ${record.lock.python})` : ''}, as the index pins them.`,
    '# Install with: pip install --require-hashes --only-binary :all: -r THIS_FILE',
    line(entry.name, version, wheels),
    ...record.lock.dependencies.map((dependency) => line(dependency.name, dependency.version, checkedWheel(dependency.files), dependency.marker)),
    '',
  ].join('\n');
}
