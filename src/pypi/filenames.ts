/**
 * Distribution file names as the Python packaging specifications define
 * them, parsed and normalized so that two spellings of one file compare
 * equal and two files never do: project names by PEP 503 (runs of -, _ and .
 * are one -, case-insensitive), versions by PEP 440's normal form, wheel
 * names by the binary distribution format (name-version[-build]-python-abi-platform.whl,
 * compressed tag sets compared as sets) and sdist names by the source
 * distribution format (name-version.tar.gz; .zip for legacy uploads).
 * PEP 740 compares an attestation's subject with the file this way, never as
 * raw strings (pypi-attestations does the same).
 */
import { McsError } from '../errors.js';

export type DistKind = 'wheel' | 'sdist';

export interface DistFilename {
  kind: DistKind;
  /** PEP 503 normalized project name. */
  project: string;
  /** PEP 440 normalized version. */
  version: string;
  /** Wheel build tag (digits then optional letters), or ''. */
  build: string;
  /** Wheel tags, lowercase, each dotted set sorted: "py2.py3-none-any". */
  tags: string;
  /** The one spelling every equal file name normalizes to. */
  canonical: string;
}

const MAX_FILENAME = 255;

/** PEP 503: lowercase, every run of -, _ and . becomes one -. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** PEP 508 project names: ASCII letters and digits, with . _ - inside. */
const PROJECT_NAME = /^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$/;

export function isProjectName(name: string): boolean {
  return name.length <= 214 && PROJECT_NAME.test(name);
}

// PEP 440 appendix "Parsing version strings with regular expressions" (the canonical pattern)
const VERSION_PATTERN = new RegExp(
  '^\\s*v?(?:(?:(?<epoch>[0-9]+)!)?(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?' +
    '(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?)' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\\s*$',
  'i',
);

const PRE_LABEL: Record<string, string> = { alpha: 'a', a: 'a', beta: 'b', b: 'b', c: 'rc', pre: 'rc', preview: 'rc', rc: 'rc' };

/** Strips leading zeros without going through a float (release numbers may be longer than 2^53). */
const integer = (digits: string): string => digits.replace(/^0+(?=\d)/, '');

/** PEP 440 "Normalization": the one spelling of a version, or null when it is not a PEP 440 version. */
export function normalizeVersion(version: string): string | null {
  if (version.length > 128) return null;
  const m = VERSION_PATTERN.exec(version)?.groups;
  if (!m) return null;
  let out = m.epoch && integer(m.epoch) !== '0' ? `${integer(m.epoch)}!` : '';
  out += m.release!.split('.').map(integer).join('.');
  if (m.pre) out += PRE_LABEL[m.pre_l!.toLowerCase()]! + integer(m.pre_n ?? '0');
  if (m.post) out += `.post${integer(m.post_n1 ?? m.post_n2 ?? '0')}`;
  if (m.dev) out += `.dev${integer(m.dev_n ?? '0')}`;
  if (m.local) out += `+${m.local.toLowerCase().replace(/[-_]/g, '.').split('.').map((part) => (/^\d+$/.test(part) ? integer(part) : part)).join('.')}`;
  return out;
}

function refuse(filename: string, why: string): never {
  throw new McsError('E_DIST_NAME', `${JSON.stringify(filename.slice(0, MAX_FILENAME))} is not a distribution file name: ${why} (expected NAME-VERSION(-BUILD)-PY-ABI-PLATFORM.whl or NAME-VERSION.tar.gz)`, {
    details: { filename: filename.slice(0, MAX_FILENAME) },
  });
}

function version(filename: string, raw: string): string {
  const normalized = normalizeVersion(raw);
  if (normalized === null) refuse(filename, `${JSON.stringify(raw)} is not a PEP 440 version`);
  return normalized;
}

/**
 * Parses a wheel or sdist file name (binary distribution format, "File name
 * convention"; source distribution format). A wheel's name part has no -
 * (it is escaped to _); an sdist splits at its last -, as packaging's
 * parse_sdist_filename does. Throws E_DIST_NAME for anything else.
 */
export function parseDistFilename(filename: string): DistFilename {
  if (filename.length === 0 || filename.length > MAX_FILENAME || /[/\\\0]/.test(filename)) refuse(filename, 'empty, too long, or a path');
  const lower = filename.toLowerCase();
  if (lower.endsWith('.whl')) {
    const parts = filename.slice(0, -4).split('-');
    if (parts.length !== 5 && parts.length !== 6) refuse(filename, `a wheel name has 5 or 6 dash-separated parts, this one ${parts.length}`);
    const [name, rawVersion] = parts as [string, string];
    if (!isProjectName(name)) refuse(filename, `${JSON.stringify(name)} is not a project name`);
    const build = parts.length === 6 ? parts[2]! : '';
    if (build !== '' && !/^\d[A-Za-z0-9_.]*$/.test(build)) refuse(filename, `build tag ${JSON.stringify(build)} must start with a digit`);
    const tagParts = parts.slice(-3);
    if (tagParts.some((tag) => !/^[A-Za-z0-9_.]+$/.test(tag))) refuse(filename, 'bad compatibility tags');
    const tags = tagParts.map((tag) => [...new Set(tag.toLowerCase().split('.'))].sort().join('.')).join('-');
    const project = normalizeProjectName(name);
    const normalizedVersion = version(filename, rawVersion);
    return { kind: 'wheel', project, version: normalizedVersion, build, tags, canonical: `${project.replace(/-/g, '_')}-${normalizedVersion}${build ? `-${build}` : ''}-${tags}.whl` };
  }
  const extension = lower.endsWith('.tar.gz') ? '.tar.gz' : lower.endsWith('.zip') ? '.zip' : null;
  if (extension === null) refuse(filename, 'neither .whl nor .tar.gz (nor a legacy .zip)');
  const stem = filename.slice(0, -extension.length);
  const dash = stem.lastIndexOf('-');
  if (dash <= 0) refuse(filename, 'no NAME-VERSION');
  const name = stem.slice(0, dash);
  if (!isProjectName(name)) refuse(filename, `${JSON.stringify(name)} is not a project name`);
  const project = normalizeProjectName(name);
  const normalizedVersion = version(filename, stem.slice(dash + 1));
  return { kind: 'sdist', project, version: normalizedVersion, build: '', tags: '', canonical: `${project.replace(/-/g, '_')}-${normalizedVersion}${extension}` };
}

/** Pure-Python wheel tags (sorted as parseDistFilename sorts them): the only wheels mcs-pkg reads, pins for pip and runs. */
const PURE_TAGS = new Set(['py3-none-any', 'py2.py3-none-any']);

/** Whether a file name is a pure-Python wheel (py3-none-any or py2.py3-none-any), by its parsed tags. */
export function isPureWheel(filename: string): boolean {
  try {
    const parsed = parseDistFilename(filename);
    return parsed.kind === 'wheel' && PURE_TAGS.has(parsed.tags);
  } catch {
    return false;
  }
}
