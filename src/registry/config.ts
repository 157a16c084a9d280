/**
 * Which registry to talk to and with what credentials, the way npm decides:
 * an explicit --registry, else npm_config_registry from the environment,
 * else the project's and the user's .npmrc (`registry=`, `@scope:registry=`,
 * `//host/path/:_authToken=`), else the public registry.
 */
import { readFileCapped } from '../files.js';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

export interface RegistryConfig {
  /** Base URL, with a trailing slash. */
  registry: string;
  /** Registries for scopes (@scope -> URL). */
  scopes: Record<string, string>;
  /** Bearer tokens by "//host/path/" prefix. */
  tokens: Record<string, string>;
}

export interface RegistryConfigOptions {
  registry?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : url + '/';
}

const MAX_NPMRC_BYTES = 1024 * 1024;

/** Reads key=value lines of an .npmrc, expanding ${VAR} from the environment. */
function readNpmrc(file: string, env: NodeJS.ProcessEnv): Record<string, string> {
  let text: string;
  try {
    text = readFileCapped(file, MAX_NPMRC_BYTES, 'npm config file').toString('utf8');
  } catch (error) {
    // no .npmrc is the common case; one that cannot be read (a FIFO, a device, too large) is an error, not silently skipped
    if (((error as Error).cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return {};
    throw error;
  }
  const values: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/).slice(0, 10_000)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').replace(/\$\{([^}]+)\}/g, (_, name: string) => env[name] ?? '');
    values[key] = value;
  }
  return values;
}

export function resolveRegistryConfig(options: RegistryConfigOptions = {}): RegistryConfig {
  const env = options.env ?? process.env;
  const files = [join(homedir(), '.npmrc'), join(options.cwd ?? process.cwd(), '.npmrc')];
  const merged: Record<string, string> = {};
  for (const file of files) Object.assign(merged, readNpmrc(file, env));
  const registry = withSlash(options.registry ?? env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY ?? merged.registry ?? DEFAULT_REGISTRY);
  const scopes: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  for (const [key, value] of Object.entries(merged)) {
    const scope = /^(@[^:]+):registry$/.exec(key);
    if (scope) scopes[scope[1]!] = withSlash(value);
    const token = /^(\/\/.+\/):_authToken$/.exec(key);
    if (token && value) tokens[token[1]!] = value;
  }
  return { registry, scopes, tokens };
}

/** The registry for a package name (its scope's, else the default). */
export function registryFor(config: RegistryConfig, name: string): string {
  const scope = name.startsWith('@') ? name.slice(0, name.indexOf('/')) : undefined;
  return (scope && config.scopes[scope]) || config.registry;
}

/** The Authorization header for a URL, when a token is configured for its registry path. */
export function authHeaders(config: RegistryConfig, url: string): Record<string, string> {
  const parsed = new URL(url);
  const path = `//${parsed.host}${parsed.pathname}`;
  let best: string | undefined;
  for (const prefix of Object.keys(config.tokens)) {
    if (path.startsWith(prefix) && (!best || prefix.length > best.length)) best = prefix;
  }
  return best ? { authorization: `Bearer ${config.tokens[best]}` } : {};
}
