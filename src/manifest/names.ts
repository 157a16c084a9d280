import { McsError } from '../errors.js';

export type Ecosystem = 'npm' | 'pypi';

/**
 * Package classes of the MCS naming convention (DESIGN.md §1), plus
 * `contract` for the one package that carries the driver contract itself,
 * and `types` for the SDK's packages of shared types (mcs-types-http).
 */
export type PackageClass = 'driver' | 'tool-only' | 'standalone' | 'orchestrator' | 'adapter' | 'bundle' | 'contract' | 'types';

export const PACKAGE_CLASSES: readonly PackageClass[] = ['driver', 'tool-only', 'standalone', 'orchestrator', 'adapter', 'bundle', 'contract', 'types'];

/** The MCS project's contract package; its name reads like a driver for capability "core", which it is not. */
const CONTRACT_PACKAGE = 'mcs-driver-core';

export interface ParsedName {
  name: string;
  scope?: string;
  class: PackageClass;
  /** The capability a driver, tool-only, standalone or bundle package serves. */
  capability?: string;
  /** The strategy of an orchestrator. */
  strategy?: string;
  /** The source an adapter or bundle connects to. */
  source?: string;
  variant?: string;
}

const MAX_NAME_LENGTH = 214;
const SEGMENTS = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const SCOPE = /^@[a-z0-9][a-z0-9-]*$/;

/**
 * Checks a package name against the MCS naming convention and derives its
 * class. Names are restricted to lowercase ASCII letters, digits and single
 * hyphens (the canonical PyPI form, and a subset of npm's), so no two distinct
 * names can render alike through Unicode or case tricks.
 */
export function parsePackageName(name: string, ecosystem: Ecosystem): ParsedName {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new McsError('E_NAME_INVALID', `package name must be 1 to ${MAX_NAME_LENGTH} characters`, { details: { name } });
  }
  // eslint-disable-next-line no-control-regex
  if (!/^[\x21-\x7e]+$/.test(name) || name.normalize('NFKC') !== name) {
    throw new McsError('E_NAME_INVALID', `package name ${JSON.stringify(name)} contains characters outside printable ASCII`, {
      details: { name },
    });
  }
  let scope: string | undefined;
  let base = name;
  if (name.startsWith('@')) {
    const slash = name.indexOf('/');
    scope = slash > 0 ? name.slice(0, slash) : name;
    base = slash > 0 ? name.slice(slash + 1) : '';
    if (ecosystem !== 'npm' || !SCOPE.test(scope)) {
      throw new McsError('E_NAME_INVALID', `package name ${name}: scopes are npm-only and must be @lowercase-ascii`, {
        details: { name, ecosystem },
      });
    }
  }
  if (!SEGMENTS.test(base)) {
    throw new McsError(
      'E_NAME_INVALID',
      `package name ${name}: expected lowercase letters, digits and single hyphens (canonical form), got ${JSON.stringify(base)}`,
      { details: { name } },
    );
  }
  const parsed = classify(base);
  if (!parsed) {
    throw new McsError(
      'E_NAME_CLASS',
      `package name ${name} does not follow the MCS naming convention (mcs-driver-<capability>, mcs-driver-<capability>-toolonly, ` +
        `mcs-driver-<capability>-standalone, mcs-orchestrator-<strategy>, mcs-adapter-<source>, mcs-bundle-<capability>-<source>, mcs-types-<name>)`,
      { details: { name } },
    );
  }
  return scope === undefined ? { name, ...parsed } : { name, scope, ...parsed };
}

function classify(base: string): Omit<ParsedName, 'name' | 'scope'> | null {
  if (base === CONTRACT_PACKAGE) return { class: 'contract' };
  const parts = base.split('-');
  if (parts[0] !== 'mcs' || parts.length < 3) return null;
  const kind = parts[1];
  const rest = parts.slice(2);
  const variant = (from: number): { variant?: string } => (rest.length > from ? { variant: rest.slice(from).join('-') } : {});
  switch (kind) {
    case 'driver': {
      const capability = rest[0]!;
      if (rest[1] === 'toolonly') return { class: 'tool-only', capability, ...variant(2) };
      if (rest[1] === 'standalone') return { class: 'standalone', capability, ...variant(2) };
      return { class: 'driver', capability, ...variant(1) };
    }
    case 'orchestrator':
      return { class: 'orchestrator', strategy: rest[0]!, ...variant(1) };
    case 'adapter':
      return { class: 'adapter', source: rest[0]!, ...variant(1) };
    case 'types':
      return { class: 'types', ...variant(0) };
    case 'bundle':
      if (rest.length < 2) return null;
      return { class: 'bundle', capability: rest[0]!, source: rest[1]!, ...variant(2) };
    default:
      return null;
  }
}

/**
 * Folds the ASCII look-alikes a typosquat relies on (0/o, 1/l/i, 5/s, rn/m,
 * vv/w, cl/d) so that two names with the same skeleton can be refused as
 * confusable. Single characters fold first, and the folds repeat until
 * nothing changes, so c1oud, cioud and cloud all reach the same skeleton.
 * Only ever compared, never shown.
 */
export function confusableSkeleton(name: string): string {
  let current = name.replace(/[01i5]/g, (c) => ({ '0': 'o', '1': 'l', i: 'l', '5': 's' })[c as '0' | '1' | 'i' | '5']);
  for (;;) {
    const next = current.replace(/rn/g, 'm').replace(/vv/g, 'w').replace(/cl/g, 'd');
    if (next === current) return current;
    current = next;
  }
}
