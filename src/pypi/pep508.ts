/**
 * PEP 508 dependency specifiers, as a wheel's METADATA lists them in
 * Requires-Dist: `name [extras] (specifier) ; marker`. Parsed defensively
 * (length and nesting caps; direct URL references are refused, as PyPI
 * refuses them in uploads) and markers evaluated for a given environment the
 * way the specification (and packaging's reference code) does: a version
 * comparison when both sides are PEP 440 versions, else a string comparison.
 */
import { McsError } from '../errors.js';
import { isProjectName, normalizeProjectName } from './filenames.js';
import { specifierClauses, versionSatisfies } from './pep440.js';

export interface Requirement {
  /** PEP 503 normalized project name. */
  name: string;
  /** Normalized extra names, sorted. */
  extras: string[];
  /** PEP 440 specifier clauses joined by ',' without spaces; '' = any version. */
  specifier: string;
  /** The marker text as written (trimmed), when there is one. */
  marker?: string;
  /** The requirement as written. */
  raw: string;
}

/** PEP 508 "Environment Markers": the values a marker may compare. */
export interface MarkerEnvironment {
  os_name: string;
  sys_platform: string;
  platform_machine: string;
  platform_python_implementation: string;
  platform_release: string;
  platform_system: string;
  platform_version: string;
  python_version: string;
  python_full_version: string;
  implementation_name: string;
  implementation_version: string;
  /** The extra being installed; '' (the default) when none. */
  extra?: string;
}

/** Longest requirement line and deepest marker nesting accepted. */
export const MAX_REQUIREMENT_LENGTH = 2048;
const MAX_MARKER_DEPTH = 32;

const VARIABLES: ReadonlySet<string> = new Set([
  'os_name', 'sys_platform', 'platform_machine', 'platform_python_implementation', 'platform_release', 'platform_system',
  'platform_version', 'python_version', 'python_full_version', 'implementation_name', 'implementation_version', 'extra',
]);
/** Spellings of PEP 345 and setuptools that packaging still accepts. */
const ALIASES: Record<string, string> = {
  'os.name': 'os_name',
  'sys.platform': 'sys_platform',
  'platform.version': 'platform_version',
  'platform.machine': 'platform_machine',
  'platform.python_implementation': 'platform_python_implementation',
  python_implementation: 'platform_python_implementation',
};

function invalid(text: string, why: string): never {
  throw new McsError('E_WHEEL_METADATA', `requirement ${JSON.stringify(text.slice(0, 200))} is not a PEP 508 dependency specifier: ${why}`, { details: { requirement: text.slice(0, 200) } });
}

/**
 * Line breaks and control characters, as Python's str.splitlines (pip's
 * requirements reader) and packaging's tokenizer see them; tab is spacing.
 */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/;

/**
 * Marker string text that pip's requirements file reader would not read as
 * written: whitespace then `#` starts a comment, whitespace then `-` starts
 * the line's options, `${NAME}` is replaced from the environment. No real
 * marker compares such a value, and no quoting escapes it, so a requirement
 * holding one is refused rather than written to a file pip reads otherwise.
 */
const PIP_LINE_SYNTAX = /\s[#-]|\$\{/;

/** Parses one PEP 508 requirement (E_WHEEL_METADATA when it is malformed or a direct URL reference). */
export function parseRequirement(text: string): Requirement {
  if (text.length > MAX_REQUIREMENT_LENGTH) invalid(text, `longer than ${MAX_REQUIREMENT_LENGTH} characters`);
  if (CONTROL.test(text)) invalid(text, 'it holds a line break or control character (a header folded over several lines?), which packaging refuses');
  const raw = text.trim();
  const semicolon = raw.indexOf(';');
  const head = (semicolon === -1 ? raw : raw.slice(0, semicolon)).trim();
  const markerText = semicolon === -1 ? undefined : raw.slice(semicolon + 1).trim();
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*)$/s.exec(head);
  if (!m || !isProjectName(m[1]!)) invalid(raw, 'no project name at the start');
  const extras = (m[2] ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const extra of extras) if (!isProjectName(extra)) invalid(raw, `${JSON.stringify(extra)} is not an extra name`);
  const rest = m[3]!.trim();
  if (rest.startsWith('@')) invalid(raw, 'direct URL references are not accepted (PyPI refuses them in uploads; the index resolves by name and version)');
  const clauses = specifierClauses(rest);
  if (clauses === null) invalid(raw, `${JSON.stringify(rest)} is not a PEP 440 version specifier`);
  if (markerText !== undefined) {
    if (markerText === '') invalid(raw, 'an empty marker after ";"');
    parseMarker(markerText);
  }
  return {
    name: normalizeProjectName(m[1]!),
    extras: [...new Set(extras.map(normalizeProjectName))].sort(),
    specifier: clauses.map((c) => `${c.op}${c.version}`).join(','),
    ...(markerText !== undefined ? { marker: markerText } : {}),
    raw,
  };
}

type Token = { kind: 'str' | 'var' | 'op' | 'lparen' | 'rparen' | 'and' | 'or'; value: string };
type MarkerNode =
  | { kind: 'all' | 'any'; left: MarkerNode; right: MarkerNode }
  | { kind: 'cmp'; left: Token; op: string; right: Token };

function markerError(marker: string, why: string): never {
  throw new McsError('E_WHEEL_METADATA', `marker ${JSON.stringify(marker.slice(0, 200))} is not a PEP 508 environment marker: ${why}`, { details: { marker: marker.slice(0, 200) } });
}

function tokenize(marker: string): Token[] {
  if (CONTROL.test(marker)) markerError(marker, 'it holds a line break or control character');
  const tokens: Token[] = [];
  const re = /\s*(?:"([^"]*)"|'([^']*)'|(===|==|!=|<=|>=|~=|<|>)|(not\s+in\b)|(\()|(\))|([A-Za-z_][A-Za-z0-9_.]*))/y;
  let at = 0;
  while (at < marker.length) {
    if (/^\s*$/.test(marker.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(marker);
    if (!m) markerError(marker, `unexpected text at ${JSON.stringify(marker.slice(at, at + 20))}`);
    at = re.lastIndex;
    if (m[1] !== undefined || m[2] !== undefined) {
      const value = m[1] ?? m[2]!;
      if (PIP_LINE_SYNTAX.test(value)) markerError(marker, `the string ${JSON.stringify(value.slice(0, 100))} holds " #", " -" or "\${", which a pip requirements file reads as a comment, an option or a variable`);
      tokens.push({ kind: 'str', value });
    }
    else if (m[3] !== undefined) tokens.push({ kind: 'op', value: m[3] });
    else if (m[4] !== undefined) tokens.push({ kind: 'op', value: 'not in' });
    else if (m[5] !== undefined) tokens.push({ kind: 'lparen', value: '(' });
    else if (m[6] !== undefined) tokens.push({ kind: 'rparen', value: ')' });
    else {
      const word = m[7]!;
      if (word === 'and' || word === 'or') tokens.push({ kind: word, value: word });
      else if (word === 'in') tokens.push({ kind: 'op', value: 'in' });
      else {
        const name = ALIASES[word] ?? word;
        if (!VARIABLES.has(name)) markerError(marker, `${JSON.stringify(word)} is not a marker variable`);
        tokens.push({ kind: 'var', value: name });
      }
    }
  }
  return tokens;
}

/** Parses a marker into a tree (PEP 508 grammar: marker_or / marker_and / marker_expr). */
export function parseMarker(marker: string): MarkerNode {
  if (marker.length > MAX_REQUIREMENT_LENGTH) markerError(marker, `longer than ${MAX_REQUIREMENT_LENGTH} characters`);
  const tokens = tokenize(marker);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const parseOr = (depth: number): MarkerNode => {
    let node = parseAnd(depth);
    while (peek()?.kind === 'or') {
      pos++;
      node = { kind: 'any', left: node, right: parseAnd(depth) };
    }
    return node;
  };
  const parseAnd = (depth: number): MarkerNode => {
    let node = parseExpr(depth);
    while (peek()?.kind === 'and') {
      pos++;
      node = { kind: 'all', left: node, right: parseExpr(depth) };
    }
    return node;
  };
  const parseExpr = (depth: number): MarkerNode => {
    if (depth > MAX_MARKER_DEPTH) markerError(marker, `nested deeper than ${MAX_MARKER_DEPTH}`);
    const token = tokens[pos++];
    if (token?.kind === 'lparen') {
      const inner = parseOr(depth + 1);
      if (tokens[pos++]?.kind !== 'rparen') markerError(marker, 'a "(" without its ")"');
      return inner;
    }
    const op = tokens[pos++];
    const right = tokens[pos++];
    const operand = (t: Token | undefined): t is Token => t?.kind === 'str' || t?.kind === 'var';
    if (!operand(token) || op?.kind !== 'op' || !operand(right)) markerError(marker, 'expected VARIABLE OP "string" (or the reverse)');
    if ((token.kind === 'var') === (right.kind === 'var')) markerError(marker, 'a comparison needs one variable and one quoted string');
    return { kind: 'cmp', left: token, op: op.value, right };
  };
  const tree = parseOr(0);
  if (pos !== tokens.length) markerError(marker, `unexpected ${JSON.stringify(tokens[pos]?.value)}`);
  return tree;
}

/**
 * A marker in canonical form, rebuilt from its parse tree: single spaces,
 * canonical variable names, every string quoted, parentheses where `or`
 * sits under `and`. E_WHEEL_METADATA when it does not parse.
 */
export function canonicalMarker(marker: string): string {
  const operand = (t: Token): string => (t.kind === 'var' ? t.value : t.value.includes('"') ? `'${t.value}'` : `"${t.value}"`);
  const render = (node: MarkerNode, parent?: 'all' | 'any'): string => {
    if (node.kind === 'cmp') return `${operand(node.left)} ${node.op} ${operand(node.right)}`;
    const text = `${render(node.left, node.kind)} ${node.kind === 'all' ? 'and' : 'or'} ${render(node.right, node.kind)}`;
    return parent === undefined || parent === node.kind ? text : `(${text})`;
  };
  return render(parseMarker(marker));
}

const VERSION_OPS: ReadonlySet<string> = new Set(['~=', '===', '==', '!=', '<=', '>=', '<', '>']);

function compare(left: string, op: string, right: string, marker: string): boolean {
  // a version comparison where `op right` is a valid specifier, pre-releases included (packaging's _eval_op)
  if (VERSION_OPS.has(op) && specifierClauses(`${op}${right}`) !== null) return versionSatisfies(left, `${op}${right}`, { prereleases: true });
  switch (op) {
    case 'in':
      return right.includes(left);
    case 'not in':
      return !right.includes(left);
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
    default:
      return markerError(marker, `${op} needs versions on both sides, got ${JSON.stringify(left)} and ${JSON.stringify(right)}`);
  }
}

/** Evaluates a PEP 508 marker for an environment (E_WHEEL_METADATA when the marker is malformed). */
export function evaluateMarker(marker: string, env: MarkerEnvironment): boolean {
  const evaluate = (node: MarkerNode): boolean => {
    if (node.kind !== 'cmp') return node.kind === 'all' ? evaluate(node.left) && evaluate(node.right) : evaluate(node.left) || evaluate(node.right);
    const isExtra = (node.left.kind === 'var' && node.left.value === 'extra') || (node.right.kind === 'var' && node.right.value === 'extra');
    const value = (t: Token): string => {
      const text = t.kind === 'var' ? (t.value === 'extra' ? env.extra ?? '' : env[t.value as Exclude<keyof MarkerEnvironment, 'extra'>]) : t.value;
      // extra names compare normalized (PEP 685)
      return isExtra ? normalizeProjectName(text) : text;
    };
    return compare(value(node.left), node.op, value(node.right), marker);
  };
  return evaluate(parseMarker(marker));
}

/** The marker environment of CPython on Linux x86_64 at a given full version (for resolving a lock without an interpreter at hand). */
export function linuxCpythonEnvironment(pythonFullVersion: string, extra = ''): MarkerEnvironment {
  const [major, minor] = pythonFullVersion.split('.');
  return {
    os_name: 'posix',
    sys_platform: 'linux',
    platform_machine: 'x86_64',
    platform_python_implementation: 'CPython',
    platform_release: '',
    platform_system: 'Linux',
    platform_version: '',
    python_version: `${major}.${minor}`,
    python_full_version: pythonFullVersion,
    implementation_name: 'cpython',
    implementation_version: pythonFullVersion,
    extra,
  };
}
