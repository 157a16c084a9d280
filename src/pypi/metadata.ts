/**
 * The email-header files of a wheel's .dist-info (METADATA per the core
 * metadata specification, WHEEL per the binary distribution format): parsed
 * as RFC 822 headers up to the first blank line (the description body after
 * it is not read), with caps on bytes and header lines, UTF-8 only.
 */
import { McsError } from '../errors.js';
import { isProjectName, normalizeProjectName, normalizeVersion } from './filenames.js';
import { specifierClauses } from './pep440.js';
import { parseRequirement, type Requirement } from './pep508.js';

export interface WheelMetadata {
  /** PEP 503 normalized project name. */
  name: string;
  /** PEP 440 normalized version. */
  version: string;
  requiresPython?: string;
  requiresDist: Requirement[];
  summary?: string;
}

/** Most header lines read from one file. */
const MAX_HEADER_LINES = 10_000;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function bad(file: string, message: string, details: Record<string, unknown> = {}): never {
  throw new McsError('E_WHEEL_METADATA', `${file}: ${message}; nothing was written`, { details: { file, ...details } });
}

/** The headers of an RFC 822 style file (names lowercased, in order, repeats kept), up to the first blank line. */
export function parseHeaders(bytes: Buffer, file: string, code: 'E_WHEEL_METADATA' | 'E_WHEEL_INVALID' = 'E_WHEEL_METADATA'): Map<string, string[]> {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new McsError(code, `${file} is not UTF-8; nothing was written`, { details: { file } });
  }
  const headers = new Map<string, string[]>();
  let last: { name: string; index: number } | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    if (i >= MAX_HEADER_LINES) throw new McsError('E_WHEEL_LIMIT', `${file} has more than ${MAX_HEADER_LINES} header lines; nothing was written`, { details: { file, limit: MAX_HEADER_LINES } });
    if (/^[ \t]/.test(line)) {
      if (!last) throw new McsError(code, `${file} line ${i + 1} continues no header; nothing was written`, { details: { file, line: i + 1 } });
      const values = headers.get(last.name)!;
      values[last.index] += `\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || !/^[A-Za-z0-9-]+$/.test(line.slice(0, colon))) throw new McsError(code, `${file} line ${i + 1} is not "Name: value": ${JSON.stringify(line.slice(0, 80))}; nothing was written`, { details: { file, line: i + 1 } });
    const name = line.slice(0, colon).toLowerCase();
    const values = headers.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(name, values);
    last = { name, index: values.length - 1 };
  }
  return headers;
}

function single(headers: Map<string, string[]>, name: string, file: string, required: boolean): string | undefined {
  const values = headers.get(name.toLowerCase());
  if (!values || values.length === 0) {
    if (required) bad(file, `has no ${name} header`);
    return undefined;
  }
  if (values.length > 1) bad(file, `has ${values.length} ${name} headers, expected one`);
  return values[0];
}

/**
 * The core metadata a wheel declares (Name, Version, Requires-Python,
 * Requires-Dist, Summary), each field checked: the name a project name,
 * the version PEP 440, Requires-Python a specifier, every Requires-Dist a
 * PEP 508 requirement without a URL.
 */
export function parseCoreMetadata(bytes: Buffer, file: string): WheelMetadata {
  const headers = parseHeaders(bytes, file);
  single(headers, 'Metadata-Version', file, true);
  const rawName = single(headers, 'Name', file, true)!;
  if (!isProjectName(rawName)) bad(file, `Name ${JSON.stringify(rawName.slice(0, 100))} is not a project name`);
  const rawVersion = single(headers, 'Version', file, true)!;
  const version = normalizeVersion(rawVersion);
  if (version === null) bad(file, `Version ${JSON.stringify(rawVersion.slice(0, 100))} is not a PEP 440 version`);
  const requiresPython = single(headers, 'Requires-Python', file, false);
  if (requiresPython !== undefined && specifierClauses(requiresPython) === null) bad(file, `Requires-Python ${JSON.stringify(requiresPython.slice(0, 100))} is not a PEP 440 specifier`);
  const summary = single(headers, 'Summary', file, false);
  const requiresDist = (headers.get('requires-dist') ?? []).map((text) => {
    try {
      return parseRequirement(text);
    } catch (error) {
      if (error instanceof McsError) bad(file, error.message, error.details);
      throw error;
    }
  });
  return {
    name: normalizeProjectName(rawName),
    version,
    ...(requiresPython !== undefined ? { requiresPython: requiresPython.trim() } : {}),
    requiresDist,
    ...(summary !== undefined ? { summary } : {}),
  };
}
