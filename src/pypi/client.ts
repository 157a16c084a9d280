/**
 * A Python package index as mcs-pkg reads it: a project's page in the PEP
 * 691 JSON simple API, a file's provenance from PyPI's integrity API, and
 * file bytes checked against their sha256. All HTTP goes through
 * registry/http.ts (byte caps, deadline, retries, same-origin redirects);
 * wire data becomes domain data in toPypiProject(), which trusts nothing
 * about its shape.
 *
 * Origins: the project page and the integrity API are read from the index's
 * origin only. Files come from the index's origin, or, for pypi.org, from
 * files.pythonhosted.org (where PyPI serves every file); a file URL anywhere
 * else is refused (E_REGISTRY_REDIRECT), and so is a redirect to another
 * host. A file's bytes are then bound by its sha256, not by where they came
 * from.
 */
import { createHash } from 'node:crypto';
import { McsError } from '../errors.js';
import { parseJsonStrict } from '../manifest/json.js';
import { DEFAULT_RETRIES, DEFAULT_TIMEOUT_MS } from '../registry/client.js';
import { assertSameOrigin, getBytes, type RequestLimits } from '../registry/http.js';
import { resolvePipIndex, type PipIndex, type PipIndexOptions } from './config.js';
import { normalizeProjectName, normalizeVersion, parseDistFilename } from './filenames.js';
import { compareVersions, isPrerelease, parseVersion, sortVersions } from './pep440.js';

/** PEP 691: the JSON serialization of the simple API, version 1. */
export const SIMPLE_JSON = 'application/vnd.pypi.simple.v1+json';
/** PyPI's integrity API answers (docs.pypi.org/api/integrity). */
export const INTEGRITY_JSON = 'application/vnd.pypi.integrity.v1+json';
export const DEFAULT_MAX_PROJECT_BYTES = 32 * 1024 * 1024;
export const DEFAULT_MAX_PROVENANCE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024;
const MAX_FILES = 100_000;
/** Where pypi.org serves its files. */
const PYPI_ORIGIN = 'https://pypi.org';
const PYPI_FILES_ORIGIN = 'https://files.pythonhosted.org';

export interface PypiFile {
  filename: string;
  /** Absolute URL of the file. */
  url: string;
  /** Hex sha256 the index states. */
  sha256: string;
  size?: number;
  requiresPython?: string;
  /** ISO 8601 upload time. */
  uploaded?: string;
  /** true, or the reason, when the file is yanked (PEP 592). */
  yanked?: string | true;
  /** The integrity API URL the index announces for the file's provenance (PEP 740). */
  provenanceUrl?: string;
}

export interface PypiProject {
  /** PEP 503 normalized name. */
  name: string;
  /** Every version, oldest first by PEP 440 order. */
  versions: string[];
  files: PypiFile[];
}

export interface PypiClientOptions extends PipIndexOptions {
  /** Deadline for one request, in ms. Default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Retries after a 5xx answer or a dropped connection. Default DEFAULT_RETRIES. */
  retries?: number;
  maxProjectBytes?: number;
  maxFileBytes?: number;
  signal?: AbortSignal;
}

/** Sorts versions oldest first by PEP 440 (a string that is not a version sorts as equal: the callers keep only versions). */
export const byVersion = (a: string, b: string): number => compareVersions(a, b) ?? 0;

function origin(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}`;
}

/** Turns a PEP 691 project page into domain data; refuses a page for another project or of another major API version. */
export function toPypiProject(value: unknown, name: string, pageUrl: string): PypiProject {
  const bad = (why: string) => new McsError('E_REGISTRY_MALFORMED', `${pageUrl}: not a usable PEP 691 project page for ${name}: ${why}`, { details: { url: pageUrl, name } });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('not a JSON object');
  const doc = value as Record<string, unknown>;
  const apiVersion = (doc.meta as { 'api-version'?: unknown } | undefined)?.['api-version'];
  // PEP 691 "Versioning": a client must refuse a major version it does not know
  if (typeof apiVersion !== 'string' || !/^1\.\d+$/.test(apiVersion)) throw bad(`expected meta.api-version 1.x, got ${JSON.stringify(apiVersion ?? null)}`);
  if (typeof doc.name !== 'string' || normalizeProjectName(doc.name) !== normalizeProjectName(name)) throw bad(`it is for ${JSON.stringify(doc.name ?? null)}`);
  if (!Array.isArray(doc.files)) throw bad('no files list');
  if (doc.files.length > MAX_FILES) throw bad(`more than ${MAX_FILES} files`);
  const files: PypiFile[] = [];
  for (const raw of doc.files as unknown[]) {
    const file = raw as Record<string, unknown> | null;
    if (typeof file !== 'object' || file === null || typeof file.filename !== 'string' || typeof file.url !== 'string') continue;
    const sha256 = (file.hashes as { sha256?: unknown } | undefined)?.sha256;
    // a file without a sha256 cannot be bound to anything: it is left out, and a pin for it shows as missing
    if (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256)) continue;
    let url: string;
    try {
      url = new URL(file.url, pageUrl).href;
    } catch {
      continue;
    }
    const size = file.size;
    const yanked = file.yanked;
    let provenanceUrl: string | undefined;
    if (typeof file.provenance === 'string') {
      try {
        provenanceUrl = new URL(file.provenance, pageUrl).href;
      } catch {
        provenanceUrl = undefined;
      }
    }
    files.push({
      filename: file.filename,
      url,
      sha256: sha256.toLowerCase(),
      ...(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? { size } : {}),
      ...(typeof file['requires-python'] === 'string' ? { requiresPython: file['requires-python'] } : {}),
      ...(typeof file['upload-time'] === 'string' ? { uploaded: file['upload-time'] } : {}),
      ...(yanked === true || (typeof yanked === 'string' && yanked !== '') ? { yanked: yanked as string | true } : yanked === '' ? { yanked: true as const } : {}),
      ...(provenanceUrl ? { provenanceUrl } : {}),
    });
  }
  // PEP 700 lists versions; an older index only has them in the file names
  const listed = Array.isArray(doc.versions) ? (doc.versions as unknown[]).filter((v): v is string => typeof v === 'string') : [];
  const fromFiles = files.flatMap((f) => {
    try {
      return [parseDistFilename(f.filename).version];
    } catch {
      return [];
    }
  });
  const byNormal = new Map<string, string>();
  for (const version of [...listed, ...fromFiles]) {
    const normal = normalizeVersion(version);
    if (normal !== null && !byNormal.has(normal)) byNormal.set(normal, version);
  }
  // each version parsed once, not once per comparison: a page may list 100,000 of them
  const versions = sortVersions([...byNormal.values()]);
  return { name: normalizeProjectName(doc.name), versions, files };
}

const filesIndex = new WeakMap<PypiProject, Map<string, PypiFile[]>>();

/**
 * A project's files by the normalized version parsed from each name (files
 * of another project, or whose names do not parse, left out), built once per
 * page: looking versions up one by one stays linear in the page's size.
 */
function filesByVersion(project: PypiProject): Map<string, PypiFile[]> {
  let index = filesIndex.get(project);
  if (index) return index;
  index = new Map();
  for (const file of project.files) {
    let parsed;
    try {
      parsed = parseDistFilename(file.filename);
    } catch {
      continue;
    }
    if (parsed.project !== project.name) continue;
    const list = index.get(parsed.version);
    if (list) list.push(file);
    else index.set(parsed.version, [file]);
  }
  filesIndex.set(project, index);
  return index;
}

export class PypiClient {
  readonly index: PipIndex;
  private readonly limits: RequestLimits;
  private readonly maxProjectBytes: number;
  private readonly maxFileBytes: number;
  private readonly signal: AbortSignal | undefined;

  constructor(options: PypiClientOptions = {}) {
    this.index = resolvePipIndex(options);
    this.limits = { maxBytes: DEFAULT_MAX_PROVENANCE_BYTES, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, retries: options.retries ?? DEFAULT_RETRIES };
    this.maxProjectBytes = options.maxProjectBytes ?? DEFAULT_MAX_PROJECT_BYTES;
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.signal = options.signal;
  }

  private async get(url: string, options: { maxBytes: number; accept: string; contentTypes?: readonly string[]; allowNotFound?: boolean; pinnedBytes?: number }): Promise<Buffer | null> {
    const auth: Record<string, string> = this.index.authorization && origin(url) === origin(this.index.indexUrl) ? { authorization: this.index.authorization } : {};
    return getBytes(url, {
      ...this.limits,
      maxBytes: options.maxBytes,
      ...(options.pinnedBytes !== undefined ? { pinnedBytes: options.pinnedBytes } : {}),
      ...(options.contentTypes ? { contentTypes: options.contentTypes } : {}),
      headers: { accept: options.accept, 'user-agent': 'mcs-pkg', ...auth },
      allowNotFound: options.allowNotFound ?? false,
      ...(this.signal ? { signal: this.signal } : {}),
    });
  }

  private parse(body: Buffer, url: string, maxBytes: number): unknown {
    try {
      return parseJsonStrict(body, { source: url, maxBytes, maxDepth: 64 });
    } catch (cause) {
      throw new McsError('E_REGISTRY_MALFORMED', `${url}: the index answered with unusable JSON: ${(cause as Error).message}`, { cause, details: { url } });
    }
  }

  /** The project's page (GET <index>/<normalized-name>/ as PEP 691 JSON); E_VERSION_NOT_FOUND when the index has no such project. */
  async project(name: string): Promise<PypiProject> {
    const url = new URL(`${encodeURIComponent(normalizeProjectName(name))}/`, this.index.indexUrl).href;
    const body = await this.get(url, { maxBytes: this.maxProjectBytes, accept: SIMPLE_JSON, contentTypes: [SIMPLE_JSON], allowNotFound: true });
    if (body === null) throw new McsError('E_VERSION_NOT_FOUND', `${name} is not on the index ${this.index.indexUrl}`, { details: { name, url } });
    return toPypiProject(this.parse(body, url, this.maxProjectBytes), name, url);
  }

  /** The files of one version, found by the version parsed from each file name (PEP 440 normal form). */
  filesOf(project: PypiProject, version: string): PypiFile[] {
    return [...(filesByVersion(project).get(normalizeVersion(version) ?? version) ?? [])];
  }

  /** The newest version, final releases before pre-releases (as pip picks), skipping versions whose files are all yanked. */
  newest(project: PypiProject): string | undefined {
    const live = project.versions.filter((v) => this.filesOf(project, v).some((f) => f.yanked === undefined));
    const finals = live.filter((v) => {
      const parsed = parseVersion(v);
      return parsed !== null && !isPrerelease(parsed);
    });
    return (finals.length ? finals : live).at(-1);
  }

  /** The integrity API URL of a file: the one the index announces, else /integrity/<project>/<version>/<filename>/provenance on the index's origin. */
  provenanceUrlOf(project: string, version: string, file: PypiFile): string {
    if (file.provenanceUrl) return assertSameOrigin(file.provenanceUrl, this.index.indexUrl, `${project} ${version}: provenance of ${file.filename}`).href;
    const path = ['integrity', normalizeProjectName(project), version, file.filename, 'provenance'].map(encodeURIComponent).join('/');
    return new URL(`/${path}`, this.index.indexUrl).href;
  }

  /** The file's provenance object from the integrity API, or null when the index has none for it (404). */
  async provenance(project: string, version: string, file: PypiFile): Promise<unknown | null> {
    const url = this.provenanceUrlOf(project, version, file);
    const body = await this.get(url, { maxBytes: DEFAULT_MAX_PROVENANCE_BYTES, accept: `${INTEGRITY_JSON}, application/json`, contentTypes: [INTEGRITY_JSON, 'application/json'], allowNotFound: true });
    return body === null ? null : this.parse(body, url, DEFAULT_MAX_PROVENANCE_BYTES);
  }

  /** Throws unless the file's URL is on the index's origin, or on files.pythonhosted.org for pypi.org. */
  fileUrl(file: PypiFile): string {
    const indexOrigin = origin(this.index.indexUrl);
    let fileOrigin: string;
    try {
      fileOrigin = origin(file.url);
    } catch (cause) {
      throw new McsError('E_REGISTRY_MALFORMED', `${file.filename}: ${JSON.stringify(file.url)} is not a URL`, { cause, details: { url: file.url } });
    }
    if (fileOrigin === indexOrigin || (indexOrigin === PYPI_ORIGIN && fileOrigin === PYPI_FILES_ORIGIN)) return file.url;
    const allowed = indexOrigin === PYPI_ORIGIN ? `${indexOrigin} or ${PYPI_FILES_ORIGIN}` : indexOrigin;
    throw new McsError('E_REGISTRY_REDIRECT', `${file.filename}: the index serves it from ${fileOrigin}, expected ${allowed}; refused`, { details: { url: file.url, allowed } });
  }

  /**
   * The file's bytes, read up to the pinned size (else the size the index
   * states) and checked against the pinned sha256 (else the one the index
   * states): E_SIZE_MISMATCH, E_INTEGRITY_MISMATCH.
   */
  async download(file: PypiFile, pin?: { sha256: string; size?: number }): Promise<Buffer> {
    const url = this.fileUrl(file);
    const size = pin?.size ?? file.size;
    const bytes = (await this.get(url, { maxBytes: this.maxFileBytes, accept: 'application/octet-stream', ...(size !== undefined ? { pinnedBytes: size } : {}) }))!;
    if (size !== undefined && bytes.length !== size) {
      throw new McsError('E_SIZE_MISMATCH', `${file.filename}: expected ${pin?.size !== undefined ? 'the pinned' : 'the stated'} ${size} bytes, got ${bytes.length}`, { details: { filename: file.filename, expected: size, found: bytes.length } });
    }
    const expected = (pin?.sha256 ?? file.sha256).toLowerCase();
    const found = createHash('sha256').update(bytes).digest('hex');
    if (found !== expected) {
      throw new McsError('E_INTEGRITY_MISMATCH', `${file.filename}: expected sha256 ${expected} (${pin ? 'the pin' : 'as the index states'}), got ${found}`, { details: { filename: file.filename, expected, found } });
    }
    return bytes;
  }
}
