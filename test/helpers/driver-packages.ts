/**
 * Packs the fixture drivers of test/fixtures/drivers/ as npm tarballs at test
 * time. A fixture is a folder holding the package's sources (.ts files are
 * compiled with typescript's transpileModule, other files are copied) plus two
 * files that are not packed:
 *   - mcs.json: the static MCS metadata it declares ({"drivers": [{kind, meta, tools?}]},
 *     the `drivers` of an index entry's declaration); meta.version is a placeholder,
 *     set to the packed version;
 *   - package.partial.json (optional): package.json fields of this fixture
 *     (for example "dependencies", or "type": null to drop "type": "module").
 * The tarball's bytes depend only on the fixture files and the manifest, so a
 * pinned integrity stays valid across runs.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { makeTarball, type TarFile } from './tarball.js';

/** Files of a fixture folder that describe the fixture and are not part of the package. */
const FIXTURE_ONLY_FILES = new Set(['mcs.json', 'package.partial.json']);

/** Longest path makeTarball can store (the ustar name field, no prefix). */
const MAX_TAR_PATH_BYTES = 100;

/** test/fixtures/drivers of this checkout, found from this file whether it runs from test/helpers or dist/test/helpers. */
export const DRIVER_FIXTURES_DIR: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'fixtures', 'drivers');
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`driver-packages: no test/fixtures/drivers above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
})();

/** The folder of a fixture ('csv', 'hostile/commonjs'); refuses names that leave test/fixtures/drivers. */
export function fixtureDir(fixture: string): string {
  const dir = resolve(DRIVER_FIXTURES_DIR, fixture);
  if (fixture === '' || dir === DRIVER_FIXTURES_DIR || !dir.startsWith(DRIVER_FIXTURES_DIR + sep)) {
    throw new Error(`driver-packages: "${fixture}" is not a fixture below ${DRIVER_FIXTURES_DIR}`);
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`driver-packages: no fixture folder ${dir}`);
  return dir;
}

function readJsonObject(file: string): Record<string, unknown> {
  const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`driver-packages: ${file} is not a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * The static "mcs" metadata (drivers: [{kind, meta, tools?}]) a fixture
 * declares, read from a `mcs.json` file in its folder. With `version`, every
 * driver's meta.version is set to it (what packFixtureDriver puts in the
 * package.json of that version); without, meta.version is the file's
 * placeholder. Each call returns a fresh copy.
 */
export function fixtureMcs(fixture: string, version?: string): { drivers: Array<Record<string, unknown>> } {
  const file = join(fixtureDir(fixture), 'mcs.json');
  if (!existsSync(file)) throw new Error(`driver-packages: the fixture ${fixture} has no mcs.json`);
  const mcs = readJsonObject(file);
  const drivers = mcs.drivers;
  if (!Array.isArray(drivers) || drivers.some((driver) => typeof driver !== 'object' || driver === null || Array.isArray(driver))) {
    throw new Error(`driver-packages: ${file} needs "drivers", a list of objects`);
  }
  const declared = drivers as Array<Record<string, unknown>>;
  if (version !== undefined) {
    for (const driver of declared) {
      const meta = driver.meta;
      if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new Error(`driver-packages: ${file}: a driver has no meta object`);
      (meta as Record<string, unknown>).version = version;
    }
  }
  return { ...mcs, drivers: declared };
}

/** The fixture's files, '/'-separated paths relative to its folder, sorted (hidden files and fixture-only files left out). */
function fixtureFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = join(folder, entry.name);
      const rel = relative(dir, full).split(sep).join('/');
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && !(folder === dir && FIXTURE_ONLY_FILES.has(entry.name))) files.push(rel);
      else if (!entry.isFile()) throw new Error(`driver-packages: ${full} is neither a file nor a folder`);
    }
  };
  walk(dir);
  return files.sort();
}

/** The packed name and content of one fixture file: TypeScript compiled to JavaScript, anything else as is. */
function packedFile(dir: string, rel: string): { path: string; content: Buffer } {
  const source = readFileSync(join(dir, ...rel.split('/')));
  const compiled = /\.(c|m)?ts$/.exec(rel);
  if (!compiled || rel.endsWith('.d.ts') || rel.endsWith('.d.mts') || rel.endsWith('.d.cts')) return { path: rel, content: source };
  const output = ts.transpileModule(source.toString('utf8'), {
    fileName: rel,
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      verbatimModuleSyntax: true,
      sourceMap: false,
      inlineSourceMap: false,
      declaration: false,
      removeComments: false,
      newLine: ts.NewLineKind.LineFeed,
    },
  });
  const errors = (output.diagnostics ?? []).filter((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const messages = errors.map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    throw new Error(`driver-packages: ${join(dir, rel)} does not compile: ${messages.join('; ')}`);
  }
  const extension = compiled[1] === undefined ? '.js' : `.${compiled[1]}js`;
  return { path: rel.slice(0, -compiled[0].length) + extension, content: Buffer.from(output.outputText, 'utf8') };
}

/**
 * The package.json of a packed fixture: name and version from `manifest`,
 * "type": "module", "main": "index.js", "exports": {".": "./index.js"} and the
 * fixture's "mcs" metadata (meta.version = the version), then the fixture's
 * package.partial.json, then the rest of `manifest` on top. A field set to
 * null by either is left out of the package.json ("type": null packs a
 * CommonJS package).
 */
export function fixtureManifest(fixture: string, manifest: { name: string; version: string } & Record<string, unknown>): Record<string, unknown> {
  const dir = fixtureDir(fixture);
  if (typeof manifest.name !== 'string' || manifest.name === '' || typeof manifest.version !== 'string' || manifest.version === '') {
    throw new Error('driver-packages: the manifest needs a name and a version');
  }
  const partialFile = join(dir, 'package.partial.json');
  const partial = existsSync(partialFile) ? readJsonObject(partialFile) : {};
  const base: Record<string, unknown> = {
    name: manifest.name,
    version: manifest.version,
    type: 'module',
    main: 'index.js',
    exports: { '.': './index.js' },
  };
  if (existsSync(join(dir, 'mcs.json'))) base.mcs = fixtureMcs(fixture, manifest.version);
  const merged: Record<string, unknown> = { ...base, ...partial, ...manifest };
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== null && value !== undefined));
}

/**
 * Compiles a fixture driver folder's .ts files with typescript's
 * transpileModule (ES2022, ESNext modules) and packs it as an npm tarball
 * (gzip + ustar, "package/" prefix) with a package.json built from `manifest`
 * (name, version, type: "module" unless overridden, main/exports, the static
 * "mcs" metadata; see fixtureManifest). package.json comes first, then the
 * files in path order.
 */
export function packFixtureDriver(fixture: string /* path relative to test/fixtures/drivers, e.g. 'csv' or 'hostile/commonjs' */, manifest: { name: string; version: string } & Record<string, unknown>): Buffer {
  const dir = fixtureDir(fixture);
  const packageJson = fixtureManifest(fixture, manifest);
  const files: TarFile[] = [{ path: 'package/package.json', content: `${JSON.stringify(packageJson, null, 2)}\n` }];
  const seen = new Set(['package.json']);
  for (const rel of fixtureFiles(dir)) {
    const file = packedFile(dir, rel);
    if (seen.has(file.path)) throw new Error(`driver-packages: ${fixture} packs ${file.path} twice (a .ts file and its .js twin?)`);
    seen.add(file.path);
    const path = posix.join('package', file.path);
    if (Buffer.byteLength(path) > MAX_TAR_PATH_BYTES) throw new Error(`driver-packages: ${path} is longer than a ustar name (${MAX_TAR_PATH_BYTES} bytes)`);
    files.push({ path, content: file.content });
  }
  return makeTarball(files);
}
