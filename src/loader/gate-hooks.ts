/**
 * Module hooks that keep an imported driver to the bytes that were verified.
 * The loader registers one set per cache entry, in Node's hooks thread, just
 * before the first import from that entry. For any module inside the entry:
 *
 * - resolve: a specifier may name a node: built-in, a file of the same
 *   package (relative, #imports, self-reference, a bundled dependency), or a
 *   package the host declared it provides, which resolves from the host's
 *   location. Anything that lands elsewhere (a node_modules folder above the
 *   cache, an absolute path, a data: URL) is refused: no unverified code is
 *   found by walking up the directory tree.
 * - load: the file is read once, its sha512 checked against the manifest of
 *   the verified tarball (held here, not read back from disk), and exactly
 *   those bytes are handed to Node. A file swapped after the pre-import check
 *   (or before a lazy import) is refused. The module format comes from the
 *   package root, not from nested package.json files: ES modules only.
 *
 * Errors carry their code at the start of the message ("E_...: ..."); the
 * loader turns them back into coded errors.
 */
import { createHash } from 'node:crypto';
import { isBuiltin } from 'node:module';
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileCapped } from '../files.js';

/** No file of a verified package is larger: extraction caps what a package unpacks to at 64 MiB. */
const MAX_MODULE_BYTES = 64 * 1024 * 1024;

export interface GateData {
  /** file: URL of the package folder, with a trailing slash, symlinks resolved. */
  packageURL: string;
  /** package.json name, for self-reference. */
  spec: string;
  /** Path below the package folder ('/'-separated) -> sha512 hex, from the verified tarball. */
  files: Record<string, string>;
  /** Whether .js files are ES modules ("type": "module" at the package root). */
  jsIsModule: boolean;
  /** Packages the host provides, and where they resolve from. */
  hostPackages: string[];
  hostParentURL: string;
}

interface ResolveContext {
  parentURL?: string;
  conditions?: string[];
  importAttributes?: Record<string, string>;
}
interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
interface LoadContext {
  format?: string | null;
  conditions?: string[];
  importAttributes?: Record<string, string>;
}
interface LoadResult {
  format: string;
  source?: string | ArrayBuffer | Uint8Array;
  shortCircuit?: boolean;
}

let gate: GateData | undefined;

export function initialize(data: GateData): void {
  gate = data;
}

function inside(url: string | undefined): boolean {
  return !!gate && !!url && url.startsWith(gate.packageURL);
}

function refusal(code: string, message: string): Error {
  const error = new Error(`${code}: ${message}`) as Error & { code: string };
  error.code = code;
  return error;
}

function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('#') || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

export async function resolve(specifier: string, context: ResolveContext, next: (specifier: string, context?: ResolveContext) => Promise<ResolveResult>): Promise<ResolveResult> {
  if (!gate || !inside(context.parentURL)) return next(specifier, context);
  if (isBuiltin(specifier)) return next(specifier, context);
  const name = packageName(specifier);
  if (name !== undefined && gate.hostPackages.includes(name)) return next(specifier, { ...context, parentURL: gate.hostParentURL });
  const result = await next(specifier, context);
  if (inside(result.url) || result.url.startsWith('node:')) return result;
  throw refusal('E_DRIVER_DEPENDENCY', `${gate.spec}: ${JSON.stringify(specifier)} from ${context.parentURL} resolves outside the verified package (${result.url}); a driver may import only its own files, node: built-ins and packages the host provides`);
}

export async function load(url: string, context: LoadContext, next: (url: string, context?: LoadContext) => Promise<LoadResult>): Promise<LoadResult> {
  if (!gate || !inside(url)) return next(url, context);
  const file = fileURLToPath(url);
  const path = relative(fileURLToPath(gate.packageURL), file).split(sep).join('/');
  const expected = Object.hasOwn(gate.files, path) ? gate.files[path] : undefined;
  if (expected === undefined) throw refusal('E_CACHE_TAMPERED', `${gate.spec}: ${path} is not a file of the verified package`);
  let source: Buffer;
  try {
    source = readFileCapped(file, MAX_MODULE_BYTES, 'module', { noFollow: true });
  } catch (error) {
    throw refusal('E_CACHE_TAMPERED', `${gate.spec}: ${path} is not the file that was verified (${(error as Error).message})`);
  }
  if (createHash('sha512').update(source).digest('hex') !== expected) {
    throw refusal('E_CACHE_TAMPERED', `${gate.spec}: ${path} is not the file that was verified (changed on disk after verification)`);
  }
  let format: string;
  if (path.endsWith('.mjs') || (path.endsWith('.js') && gate.jsIsModule)) format = 'module';
  else if (path.endsWith('.json')) format = 'json';
  else if (path.endsWith('.cjs') || path.endsWith('.js')) throw refusal('E_DRIVER_COMMONJS', `${gate.spec}: ${path} is a CommonJS module; drivers are imported as ES modules only`);
  else throw refusal('E_DRIVER_ENTRY', `${gate.spec}: ${path} is not a module the loader imports (.js, .mjs or .json)`);
  return { format, source, shortCircuit: true };
}
