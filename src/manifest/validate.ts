import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Ajv2020 as Ajv2020Type, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { schemasDir } from '../config.js';
import { McsError, isMcsError } from '../errors.js';
import { readFileCapped } from '../files.js';
import { normalizeProjectName, normalizeVersion, parseDistFilename } from '../pypi/filenames.js';
import { parsePackageName } from './names.js';
import { assertVisibleNames } from './text.js';
import type { DriverMeta, IndexEntry, TrustPolicy } from './types.js';

const SCHEMA_FILES = ['driver-meta.v1.schema.json', 'tool.v1.schema.json', 'index-entry.v1.schema.json', 'trust-policy.v1.schema.json'];

export const SCHEMA_IDS = {
  driverMeta: 'urn:mcs-pkg:schema:driver-meta:1',
  tool: 'urn:mcs-pkg:schema:tool:1',
  indexEntry: 'urn:mcs-pkg:schema:index-entry:1',
  trustPolicy: 'urn:mcs-pkg:schema:trust-policy:1',
} as const;

let compiled: Record<keyof typeof SCHEMA_IDS, ValidateFunction> | undefined;

/** ajv and its formats, loaded on first use (they are CommonJS): importing this module costs nothing until something is validated. */
function newAjv(options: Record<string, unknown>): Ajv2020Type {
  const require = createRequire(import.meta.url);
  const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  const addFormats = require('ajv-formats') as (ajv: Ajv2020Type) => Ajv2020Type;
  return addFormats(new Ajv2020(options));
}

/** Compiles every schema once per process, on first use (search never needs it). */
function validators(): Record<keyof typeof SCHEMA_IDS, ValidateFunction> {
  if (compiled) return compiled;
  const ajv = newAjv({ allErrors: true, strict: true, allowUnionTypes: true });
  for (const file of SCHEMA_FILES) {
    ajv.addSchema(JSON.parse(readFileCapped(join(schemasDir(), file), 1024 * 1024, 'schema', { code: 'E_INTERNAL' }).toString('utf8')) as object);
  }
  const get = (id: string): ValidateFunction => {
    const validate = ajv.getSchema(id);
    if (!validate) throw new Error(`schema ${id} is missing from ${schemasDir()}`);
    return validate;
  };
  compiled = {
    driverMeta: get(SCHEMA_IDS.driverMeta),
    tool: get(SCHEMA_IDS.tool),
    indexEntry: get(SCHEMA_IDS.indexEntry),
    trustPolicy: get(SCHEMA_IDS.trustPolicy),
  };
  return compiled;
}

export interface SchemaProblem {
  pointer: string;
  message: string;
}

/** Turns ajv's errors into pointer + sentence pairs, dropping the noise of anyOf/if branches. */
function toProblems(errors: ErrorObject[] | null | undefined): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors ?? []) {
    if (error.keyword === 'if' || error.keyword === 'anyOf' || error.keyword === 'oneOf') continue;
    let pointer = error.instancePath || '';
    let message = error.message ?? 'is invalid';
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'required') {
      pointer += '/' + String(params.missingProperty);
      message = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      pointer += '/' + String(params.additionalProperty);
      message = 'is not an allowed property';
    } else if (error.keyword === 'enum') {
      message = 'must be one of ' + (params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
    } else if (error.keyword === 'false schema') {
      message = 'is not allowed here';
    }
    const key = pointer + ' ' + message;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ pointer: pointer || '/', message });
  }
  return problems;
}

function schemaError(source: string, what: string, problems: SchemaProblem[]): McsError {
  const shown = problems.slice(0, 5).map((p) => `${p.pointer} ${p.message}`);
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  return new McsError('E_SCHEMA', `${source}: not a valid ${what}: ${shown.join('; ')}${more}`, {
    details: { source, pointer: problems[0]?.pointer ?? '/', problems },
  });
}

/**
 * Asserts that a parsed document is an index entry: the schema holds, the
 * name follows the MCS naming convention, the declared class is the one
 * the name implies (so a driver cannot pass itself off as an adapter), and
 * no field but prose holds invisible text (E_TEXT_INVISIBLE).
 */
export function assertIndexEntry(value: unknown, source: string): asserts value is IndexEntry {
  const validate = validators().indexEntry;
  if (!validate(value)) throw schemaError(source, 'index entry', toProblems(validate.errors));
  const entry = value as IndexEntry;
  let parsed;
  try {
    parsed = parsePackageName(entry.name, entry.ecosystem);
  } catch (error) {
    if (isMcsError(error)) {
      throw new McsError(error.code, `${source}: /name: ${error.message}`, { details: { ...error.details, source, pointer: '/name' } });
    }
    throw error;
  }
  if (parsed.class !== entry.class) {
    throw new McsError('E_NAME_CLASS', `${source}: /class: the name ${entry.name} makes it a ${parsed.class} package, but the entry says ${entry.class}`, {
      details: { source, pointer: '/class', expected: parsed.class, found: entry.class },
    });
  }
  assertVisibleNames(entry, source);
  assertOneDeclarationEach(entry, source);
  assertPinnedFiles(entry, source);
}

/**
 * Each pinned PyPI file is a wheel or sdist of this project and version, of
 * the kind it says, and pinned once: parsed and normalized as the packaging
 * specifications define the names, as verification compares them.
 */
function assertPinnedFiles(entry: IndexEntry, source: string): void {
  for (const [version, record] of Object.entries(entry.versions)) {
    const seen = new Map<string, number>();
    (record.files ?? []).forEach((file, i) => {
      const pointer = `/versions/${version}/files/${i}/filename`;
      const refuse = (message: string) => new McsError('E_DIST_NAME', `${source}: ${pointer}: ${message}`, { details: { source, pointer, filename: file.filename } });
      let parsed;
      try {
        parsed = parseDistFilename(file.filename);
      } catch (error) {
        if (isMcsError(error, 'E_DIST_NAME')) throw refuse(error.message);
        throw error;
      }
      if (parsed.project !== normalizeProjectName(entry.name) || parsed.version !== (normalizeVersion(version) ?? version)) {
        throw refuse(`${file.filename} is a file of ${parsed.project} ${parsed.version}, not of ${entry.name} ${version}`);
      }
      if (file.kind !== undefined && file.kind !== parsed.kind) throw refuse(`${file.filename} is a ${parsed.kind}, but the entry says ${file.kind}`);
      if (seen.has(parsed.canonical)) throw refuse(`${file.filename} is the file already pinned at /versions/${version}/files/${seen.get(parsed.canonical)}`);
      seen.set(parsed.canonical, i);
    });
  }
}

/** Each version has at most one declaration, and at most one declaration is read from source for no release: the loader must never have to choose. */
function assertOneDeclarationEach(entry: IndexEntry, source: string): void {
  const seen = new Map<string, number>();
  let unversioned: number | undefined;
  (entry.declarations ?? []).forEach((declaration, i) => {
    const pointer = `/declarations/${i}`;
    const twice = (what: string, first: number) =>
      new McsError('E_SCHEMA', `${source}: ${pointer}: ${what} already declared at /declarations/${first}; a version has one declaration (merge them, or drop the stale one)`, { details: { source, pointer } });
    if (!declaration.versions) {
      if (unversioned !== undefined) throw twice('a declaration for no known release is', unversioned);
      unversioned = i;
    }
    for (const version of declaration.versions ?? []) {
      if (seen.has(version)) throw twice(`version ${version} is`, seen.get(version)!);
      seen.set(version, i);
    }
  });
}

/** Asserts that a parsed document is a trust policy. */
export function assertTrustPolicy(value: unknown, source: string): asserts value is TrustPolicy {
  const validate = validators().trustPolicy;
  if (!validate(value)) throw schemaError(source, 'trust policy', toProblems(validate.errors));
}

/** Asserts that a value is a DriverMeta as the MCS contract v0.6 defines it (a driver's runtime `meta`). */
export function assertDriverMeta(value: unknown, source: string): asserts value is DriverMeta {
  const validate = validators().driverMeta;
  if (!validate(value)) {
    const problems = toProblems(validate.errors);
    throw new McsError('E_DRIVER_META', `${source}: meta is not a valid DriverMeta: ${problems.slice(0, 5).map((p) => `${p.pointer} ${p.message}`).join('; ')}`, {
      details: { source, pointer: problems[0]?.pointer ?? '/', problems },
    });
  }
  assertVisibleNames(value, `${source}: meta`, 'E_DRIVER_META');
}

/**
 * Validates a value against a JSON Schema a driver declares for its
 * configuration (untrusted: compiled by a separate ajv instance, never added
 * to the project's own schemas).
 */
export function assertMatchesSchema(schema: unknown, value: unknown, source: string): void {
  const ajv = newAjv({ allErrors: true, strict: false });
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(schema as object);
  } catch (cause) {
    throw new McsError('E_DRIVER_CONFIG', `${source}: the driver's configuration schema cannot be used: ${(cause as Error).message}`, { cause, details: { source } });
  }
  if (!validate(value)) {
    const problems = toProblems(validate.errors);
    throw new McsError('E_DRIVER_CONFIG', `${source}: the configuration is not what the driver accepts: ${problems.slice(0, 5).map((p) => `${p.pointer} ${p.message}`).join('; ')}`, {
      details: { source, problems },
    });
  }
}
