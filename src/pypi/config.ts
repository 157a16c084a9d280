/**
 * Which Python package index to read, the way pip decides for `pip install`:
 * an explicit --index-url, else PIP_INDEX_URL, else pip's configuration
 * files (pip's "Configuration" docs: global, then user, then site, then the
 * file PIP_CONFIG_FILE names, each later one overriding; when
 * PIP_CONFIG_FILE names a file that exists, the user files are not read; an
 * `[install]` value beats a `[global]` one), else https://pypi.org/simple/.
 * Credentials in the URL (https://user:token@host/simple/) become an
 * Authorization header sent to the index's origin only.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { McsError } from '../errors.js';
import { readFileCapped } from '../files.js';

export const DEFAULT_INDEX_URL = 'https://pypi.org/simple/';

const MAX_PIP_CONF_BYTES = 1024 * 1024;
const MAX_PIP_CONF_LINES = 10_000;

export interface PipIndexOptions {
  /** --index-url: wins over everything else. */
  indexUrl?: string;
  env?: NodeJS.ProcessEnv;
  /** Home folder for the user's files (default os.homedir()). */
  home?: string;
  /** pip's global files (default $XDG_CONFIG_DIRS/pip/pip.conf, else /etc/xdg/pip/pip.conf, then /etc/pip.conf). */
  globalFiles?: string[];
}

export interface PipIndex {
  /** Base URL of the simple API, with a trailing slash and without credentials. */
  indexUrl: string;
  /** Where it came from: "--index-url", "PIP_INDEX_URL", "<file> [install]", or "default". */
  source: string;
  /** Authorization header for requests to the index's origin, from credentials in the URL. */
  authorization?: string;
}

/**
 * Reads the `[section] key = value` lines of an INI file as Python's
 * configparser does for pip's purposes: `=` or `:` separate, `#` and `;`
 * start comments, keys are lowercase with `_` spelled `-` (pip normalizes
 * them so), and an indented line continues the previous value.
 */
export function readIni(text: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let section: Map<string, string> | undefined;
  let lastKey: string | undefined;
  for (const raw of text.split(/\r?\n/).slice(0, MAX_PIP_CONF_LINES)) {
    if (raw.trim() === '' || /^\s*[#;]/.test(raw)) continue;
    if (/^\s/.test(raw) && section && lastKey !== undefined) {
      section.set(lastKey, `${section.get(lastKey)}\n${raw.trim()}`.trim());
      continue;
    }
    const header = /^\s*\[([^\]]+)\]\s*$/.exec(raw);
    if (header) {
      const name = header[1]!.trim().toLowerCase();
      section = sections.get(name) ?? new Map();
      sections.set(name, section);
      lastKey = undefined;
      continue;
    }
    const separator = raw.search(/[=:]/);
    if (!section || separator <= 0) continue;
    lastKey = raw.slice(0, separator).trim().toLowerCase().replace(/_/g, '-');
    section.set(lastKey, raw.slice(separator + 1).trim());
  }
  return sections;
}

function readPipConf(file: string): Map<string, Map<string, string>> {
  let text: string;
  try {
    text = readFileCapped(file, MAX_PIP_CONF_BYTES, 'pip configuration file').toString('utf8');
  } catch (error) {
    // no file is the common case; one that cannot be read (a FIFO, a folder, too large) is an error, not silently skipped
    if (((error as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return new Map();
    throw error;
  }
  return readIni(text);
}

/** pip's configuration files, lowest priority first. */
function pipConfigFiles(env: NodeJS.ProcessEnv, home: string, globalFiles: string[] | undefined): string[] {
  const xdgDirs = (env.XDG_CONFIG_DIRS || '/etc/xdg').split(':').filter(Boolean);
  const global = globalFiles ?? [...xdgDirs.map((dir) => join(dir, 'pip', 'pip.conf')), '/etc/pip.conf'];
  const envFile = env.PIP_CONFIG_FILE;
  const user = envFile && existsSync(envFile) ? [] : [join(home, '.pip', 'pip.conf'), join(env.XDG_CONFIG_HOME || join(home, '.config'), 'pip', 'pip.conf')];
  const site = env.VIRTUAL_ENV ? [join(env.VIRTUAL_ENV, 'pip.conf')] : [];
  // PIP_CONFIG_FILE=/dev/null (os.devnull) is pip's way to read no file at all
  if (envFile === '/dev/null') return [];
  return [...global, ...user, ...site, ...(envFile ? [envFile] : [])];
}

function firstLine(value: string): string {
  return value.split('\n')[0]!.trim();
}

/** The index URL as a base (trailing slash), its credentials split off into a Basic Authorization header. */
function normalizeIndexUrl(value: string, source: string): PipIndex {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // the parser's error carries the input, credentials included: it is not kept as the cause
    throw new McsError('E_USAGE', `${source}: ${JSON.stringify(value.replace(/\/\/.*@/, '//***@'))} is not a URL (expected an index such as ${DEFAULT_INDEX_URL})`, { details: { source } });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new McsError('E_USAGE', `${source}: expected an http(s) index URL, got ${url.protocol}`, { details: { source } });
  let authorization: string | undefined;
  if (url.username || url.password) {
    authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  url.search = '';
  url.hash = '';
  const indexUrl = url.href.endsWith('/') ? url.href : `${url.href}/`;
  return { indexUrl, source, ...(authorization ? { authorization } : {}) };
}

/** The index to read: --index-url > PIP_INDEX_URL > pip's files ([install] over [global]) > pypi.org. */
export function resolvePipIndex(options: PipIndexOptions = {}): PipIndex {
  const env = options.env ?? process.env;
  if (options.indexUrl) return normalizeIndexUrl(options.indexUrl, '--index-url');
  if (env.PIP_INDEX_URL) return normalizeIndexUrl(env.PIP_INDEX_URL, 'PIP_INDEX_URL');
  let found: { value: string; source: string } | undefined;
  let foundInstall: { value: string; source: string } | undefined;
  for (const file of pipConfigFiles(env, options.home ?? homedir(), options.globalFiles)) {
    const sections = readPipConf(file);
    const global = sections.get('global')?.get('index-url');
    const install = sections.get('install')?.get('index-url');
    if (global) found = { value: firstLine(global), source: `${file} [global]` };
    if (install) foundInstall = { value: firstLine(install), source: `${file} [install]` };
  }
  const chosen = foundInstall ?? found;
  return chosen ? normalizeIndexUrl(chosen.value, chosen.source) : { indexUrl: DEFAULT_INDEX_URL, source: 'default' };
}
