/**
 * The fixture drivers, packed as the loader will receive them: each tarball
 * is read back with the project's tar reader, written to a fresh folder and
 * imported from there, so what is tested is the packed package, not the
 * sources in test/fixtures/drivers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertMcsDriver, driverKind, type DriverResponse, type MCSDriver, type MCSToolDriver, type SupportsHealthcheck, type Tool } from '../../src/contract/index.js';
import type { DeclaredDriver } from '../../src/manifest/types.js';
import { assertDriverMeta, assertIndexEntry } from '../../src/manifest/validate.js';
import { readTarball } from '../../src/tar/read.js';
import { fixtureDir, fixtureManifest, fixtureMcs, packFixtureDriver } from './driver-packages.js';
import { npmDriver, removeDir, tempDir } from './index-data.js';

const VERSION = '1.2.0';

let root: string;
let unpacked = 0;

beforeAll(() => {
  root = tempDir('mcs-driver-packages-');
});
afterAll(() => {
  removeDir(root);
});

/** Writes a package tarball's files (the "package/" prefix stripped) into a fresh folder below root. */
function unpack(tarball: Buffer): string {
  const dir = join(root, `pkg-${++unpacked}`);
  for (const entry of readTarball(tarball, { source: 'fixture' })) {
    expect(entry.type).toBe('file');
    expect(entry.path.startsWith('package/')).toBe(true);
    const file = join(dir, ...entry.path.slice('package/'.length).split('/'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, entry.data!);
  }
  return dir;
}

function packageJson(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
}

/** The ESM entry point as the loader finds it: exports "." (a string), else main. */
function entryFile(dir: string): string {
  const manifest = packageJson(dir);
  const exportsField = manifest.exports as Record<string, unknown> | string | undefined;
  const entry = typeof exportsField === 'string' ? exportsField : typeof exportsField?.['.'] === 'string' ? exportsField['.'] : manifest.main;
  expect(typeof entry).toBe('string');
  return join(dir, entry as string);
}

async function importEntry(dir: string): Promise<Record<string, unknown>> {
  return (await import(pathToFileURL(entryFile(dir)).href)) as Record<string, unknown>;
}

/** `new Default(config)` for a class, `Default(config)` for a factory, as the loader does. */
function construct(exported: unknown, config: Record<string, unknown>): unknown {
  expect(typeof exported).toBe('function');
  const fn = exported as (...args: unknown[]) => unknown;
  return /^class\b/.test(Function.prototype.toString.call(fn)) ? new (fn as unknown as new (config: Record<string, unknown>) => unknown)(config) : fn(config);
}

async function loadFixture(fixture: string, name: string, config: Record<string, unknown>): Promise<{ dir: string; driver: unknown; module: Record<string, unknown> }> {
  const dir = unpack(packFixtureDriver(fixture, { name, version: VERSION }));
  const module = await importEntry(dir);
  return { dir, module, driver: construct(module.default, config) };
}

function declaredDriver(fixture: string): DeclaredDriver {
  const declared = fixtureMcs(fixture, VERSION).drivers[0];
  expect(declared).toBeDefined();
  return declared as unknown as DeclaredDriver;
}

const SALES = [
  'region,product,units,price,note',
  'North,Widget,10,2.50,plain',
  'South,Gadget,5,10.00,"has, comma"',
  'North,Gadget,7,9.50,"quoted ""word"""',
  'East,Widget,,2.75,"multi',
  'line"',
  'West,Widget,n/a,2.60,',
  'North,Widget,3,2.40,last',
  '',
].join('\n');
// a BOM, CRLF line ends, a quoted field with a comma
const PEOPLE = '\uFEFFname,age,city\r\n"Smith, Jane",34,Berlin\r\nBob,28,"Paris"\r\nAda,41,London\r\n';

describe('packFixtureDriver', () => {
  it('packs compiled JavaScript and a package.json with the static mcs metadata, and nothing of the fixture bookkeeping', () => {
    const tarball = packFixtureDriver('csv', { name: 'mcs-driver-csv', version: VERSION, description: 'CSV files for LLMs' });
    const entries = readTarball(tarball);
    expect(entries.map((entry) => entry.path)).toEqual(['package/package.json', 'package/index.js', 'package/parse.js']);
    const manifest = JSON.parse(entries[0]!.data!.toString('utf8')) as Record<string, unknown>;
    expect(manifest).toEqual({
      name: 'mcs-driver-csv',
      version: VERSION,
      type: 'module',
      main: 'index.js',
      exports: { '.': './index.js' },
      mcs: fixtureMcs('csv', VERSION),
      description: 'CSV files for LLMs',
    });
    const index = entries[1]!.data!.toString('utf8');
    expect(index).toContain("from './parse.js'");
    expect(index).not.toMatch(/import type|src\/contract|: DriverMeta/);
  });

  it('packs the same bytes every time (a pinned integrity stays valid)', () => {
    const a = packFixtureDriver('notes', { name: 'mcs-driver-notes-toolonly', version: VERSION });
    const b = packFixtureDriver('notes', { name: 'mcs-driver-notes-toolonly', version: VERSION });
    expect(a.equals(b)).toBe(true);
  });

  it('lets the manifest override and drop fields, and fills meta.version with the packed version', () => {
    const manifest = fixtureManifest('csv', { name: 'mcs-driver-csv', version: '2.0.0', type: null, exports: './index.js' });
    expect(manifest.type).toBeUndefined();
    expect(manifest.exports).toBe('./index.js');
    expect(((manifest.mcs as { drivers: Array<{ meta: { version: string } }> }).drivers[0]!.meta.version)).toBe('2.0.0');
    expect((fixtureMcs('csv').drivers[0]!.meta as { version: string }).version).toBe('0.0.0');
  });

  it('refuses fixture names outside test/fixtures/drivers', () => {
    expect(() => fixtureDir('../helpers')).toThrow(/not a fixture/);
    expect(() => fixtureDir('')).toThrow(/not a fixture/);
    expect(() => packFixtureDriver('no-such-fixture', { name: 'x', version: '1.0.0' })).toThrow(/no fixture folder/);
  });

  it('declares metadata that makes valid index entries', () => {
    const entries = [
      npmDriver('mcs-driver-csv', { declarations: [{ versions: [VERSION], drivers: fixtureMcs('csv', VERSION).drivers as unknown as DeclaredDriver[] }] }),
      npmDriver('mcs-driver-notes-toolonly', { class: 'tool-only', declarations: [{ versions: [VERSION], drivers: fixtureMcs('notes', VERSION).drivers as unknown as DeclaredDriver[] }] }),
      npmDriver('mcs-orchestrator-basic', { class: 'orchestrator', declarations: [{ versions: [VERSION], drivers: fixtureMcs('orchestrator', VERSION).drivers as unknown as DeclaredDriver[] }] }),
    ];
    for (const entry of entries) expect(() => assertIndexEntry(entry, entry.name)).not.toThrow();
  });
});

describe('the csv fixture driver, packed and imported', () => {
  let baseDir: string;
  let driver: MCSDriver & MCSToolDriver & SupportsHealthcheck;

  beforeAll(async () => {
    baseDir = join(root, 'data');
    mkdirSync(join(baseDir, 'sub'), { recursive: true });
    writeFileSync(join(baseDir, 'sales.csv'), SALES);
    writeFileSync(join(baseDir, 'sub', 'people.csv'), PEOPLE);
    writeFileSync(join(baseDir, 'readme.txt'), 'not a CSV file\n');
    writeFileSync(join(root, 'secret.csv'), 'key,value\napi,hunter2\n');
    symlinkSync(join(root, 'secret.csv'), join(baseDir, 'link.csv'));
    const loaded = await loadFixture('csv', 'mcs-driver-csv', { baseDir });
    assertMcsDriver(loaded.driver, 'mcs-driver-csv@1.2.0');
    driver = loaded.driver as typeof driver;
  });

  it('is a hybrid and tool driver whose runtime meta and tools equal the declared ones', async () => {
    expect(driverKind(driver)).toBe('both');
    const declared = declaredDriver('csv');
    expect(declared.kind).toBe('driver');
    expect(driver.meta).toEqual(declared.meta);
    expect(driver.meta.version).toBe(VERSION);
    expect(await driver.list_tools()).toEqual(declared.tools);
    expect(JSON.parse(await driver.get_function_description())).toEqual(declared.tools);
    const system = await driver.get_driver_system_message();
    for (const tool of declared.tools ?? []) expect(system).toContain(tool.name);
    expect(system).toContain('"tool"');
    expect(system).toContain('"arguments"');
  });

  it('list_csv_files lists the CSV files below baseDir (not other files, not symbolic links)', async () => {
    expect(await driver.execute_tool('list_csv_files', {})).toEqual(['sales.csv', 'sub/people.csv']);
  });

  it('read_csv_head parses quoted fields, commas and line breaks in quotes, CRLF and a BOM', async () => {
    expect(await driver.execute_tool('read_csv_head', { path: 'sales.csv', limit: 3 })).toEqual({
      path: 'sales.csv',
      columns: ['region', 'product', 'units', 'price', 'note'],
      rows: [
        { region: 'North', product: 'Widget', units: '10', price: '2.50', note: 'plain' },
        { region: 'South', product: 'Gadget', units: '5', price: '10.00', note: 'has, comma' },
        { region: 'North', product: 'Gadget', units: '7', price: '9.50', note: 'quoted "word"' },
      ],
      total_rows: 6,
    });
    const head = (await driver.execute_tool('read_csv_head', { path: 'sales.csv' })) as { rows: Array<Record<string, string>> };
    expect(head.rows).toHaveLength(5);
    expect(head.rows[3]).toEqual({ region: 'East', product: 'Widget', units: '', price: '2.75', note: 'multi\nline' });
    expect(await driver.execute_tool('read_csv_head', { path: 'sub/people.csv' })).toEqual({
      path: 'sub/people.csv',
      columns: ['name', 'age', 'city'],
      rows: [
        { name: 'Smith, Jane', age: '34', city: 'Berlin' },
        { name: 'Bob', age: '28', city: 'Paris' },
        { name: 'Ada', age: '41', city: 'London' },
      ],
      total_rows: 3,
    });
  });

  it('filter_csv_rows returns the matching rows, up to the limit, with the full match count', async () => {
    expect(await driver.execute_tool('filter_csv_rows', { path: 'sales.csv', column: 'region', value: 'North', limit: 2 })).toEqual({
      path: 'sales.csv',
      column: 'region',
      value: 'North',
      columns: ['region', 'product', 'units', 'price', 'note'],
      rows: [
        { region: 'North', product: 'Widget', units: '10', price: '2.50', note: 'plain' },
        { region: 'North', product: 'Gadget', units: '7', price: '9.50', note: 'quoted "word"' },
      ],
      matched: 3,
    });
    const byNote = (await driver.execute_tool('filter_csv_rows', { path: 'sales.csv', column: 'note', value: 'has, comma' })) as { rows: Array<Record<string, string>>; matched: number };
    expect(byNote.matched).toBe(1);
    expect(byNote.rows[0]?.region).toBe('South');
    const byAge = (await driver.execute_tool('filter_csv_rows', { path: 'sub/people.csv', column: 'age', value: 28 })) as { rows: Array<Record<string, string>> };
    expect(byAge.rows.map((row) => row.name)).toEqual(['Bob']);
    expect(() => driver.execute_tool('filter_csv_rows', { path: 'sales.csv', column: 'colour', value: 'red' })).toThrow(/no column "colour"/);
  });

  it('summarize_numeric_column computes over the numeric cells and counts the others apart', async () => {
    expect(await driver.execute_tool('summarize_numeric_column', { path: 'sales.csv', column: 'units' })).toEqual({
      path: 'sales.csv',
      column: 'units',
      count: 4,
      empty: 1,
      non_numeric: 1,
      sum: 25,
      min: 3,
      max: 10,
      mean: 6.25,
      median: 6,
    });
    const price = (await driver.execute_tool('summarize_numeric_column', { path: 'sales.csv', column: 'price' })) as Record<string, number>;
    expect(price.count).toBe(6);
    expect(price.sum).toBeCloseTo(29.75, 10);
    expect(price.min).toBe(2.4);
    expect(price.max).toBe(10);
    expect(price.mean).toBeCloseTo(29.75 / 6, 10);
    expect(price.median).toBeCloseTo(2.675, 10);
    expect(await driver.execute_tool('summarize_numeric_column', { path: 'sub/people.csv', column: 'age' })).toMatchObject({ count: 3, sum: 103, min: 28, max: 41, median: 34 });
    expect(() => driver.execute_tool('summarize_numeric_column', { path: 'sales.csv', column: 'region' })).toThrow(/no numeric values/);
  });

  it('process_llm_response executes a tool call in a ```json block and returns its result', async () => {
    const answer = 'Let me add that up.\n```json\n{"tool": "summarize_numeric_column", "arguments": {"path": "sales.csv", "column": "units"}}\n```\n';
    const response: DriverResponse = await driver.process_llm_response(answer);
    expect(response).toEqual({
      call_executed: true,
      call_failed: false,
      tool_call_result: { path: 'sales.csv', column: 'units', count: 4, empty: 1, non_numeric: 1, sum: 25, min: 3, max: 10, mean: 6.25, median: 6 },
    });
  });

  it('process_llm_response executes a bare JSON call and an already parsed one', async () => {
    expect(await driver.process_llm_response('{"tool": "list_csv_files", "arguments": {}}')).toEqual({ call_executed: true, call_failed: false, tool_call_result: ['sales.csv', 'sub/people.csv'] });
    expect(await driver.process_llm_response({ tool: 'filter_csv_rows', arguments: { path: 'sub/people.csv', column: 'city', value: 'Paris' } })).toMatchObject({
      call_executed: true,
      call_failed: false,
      tool_call_result: { matched: 1, rows: [{ name: 'Bob', age: '28', city: 'Paris' }] },
    });
  });

  it('process_llm_response leaves plain text alone', async () => {
    expect(await driver.process_llm_response('The North region sold 20 units in total.')).toEqual({ call_executed: false, call_failed: false });
    expect(await driver.process_llm_response('{"answer": 42}')).toEqual({ call_executed: false, call_failed: false });
  });

  it('process_llm_response reports a bad call as failed, with a detail and a retry prompt', async () => {
    const unknownTool = await driver.process_llm_response('{"tool": "drop_table", "arguments": {}}');
    expect(unknownTool).toMatchObject({ call_executed: false, call_failed: true });
    expect(unknownTool.call_detail).toMatch(/unknown tool "drop_table"/);
    expect(unknownTool.retry_prompt).toMatch(/list_csv_files/);
    const brokenJson = await driver.process_llm_response('```json\n{"tool": "read_csv_head", "arguments": {"path": "sales.csv",}}\n```');
    expect(brokenJson).toMatchObject({ call_executed: false, call_failed: true });
    expect(brokenJson.call_detail).toMatch(/not valid JSON/);
    const missingArgument = await driver.process_llm_response('{"tool": "read_csv_head", "arguments": {}}');
    expect(missingArgument).toMatchObject({ call_executed: false, call_failed: true });
    expect(missingArgument.call_detail).toMatch(/"path" is required/);
    const badLimit = await driver.process_llm_response('{"tool": "read_csv_head", "arguments": {"path": "sales.csv", "limit": -1}}');
    expect(badLimit.call_failed).toBe(true);
    const missingFile = await driver.process_llm_response('{"tool": "read_csv_head", "arguments": {"path": "nope.csv"}}');
    expect(missingFile.call_detail).toMatch(/ENOENT/);
  });

  it('refuses paths outside baseDir: relative, absolute, and through a symbolic link', async () => {
    for (const path of ['../secret.csv', join(root, 'secret.csv'), 'sub/../../secret.csv', 'link.csv']) {
      const response = await driver.process_llm_response(`\`\`\`json\n${JSON.stringify({ tool: 'read_csv_head', arguments: { path } })}\n\`\`\``);
      expect(response, path).toMatchObject({ call_executed: false, call_failed: true });
      expect(response.call_detail, path).toMatch(/outside the base folder/);
      expect(JSON.stringify(response)).not.toContain('hunter2');
    }
    expect(() => driver.execute_tool('summarize_numeric_column', { path: '../secret.csv', column: 'value' })).toThrow(/outside the base folder/);
  });

  it('healthcheck is OK when baseDir exists, ERROR when it does not', async () => {
    expect(await driver.healthcheck()).toEqual({ status: 'OK' });
    const missing = construct((await importEntry(unpack(packFixtureDriver('csv', { name: 'mcs-driver-csv', version: VERSION })))).default, { baseDir: join(root, 'missing') }) as SupportsHealthcheck;
    expect(await missing.healthcheck()).toMatchObject({ status: 'ERROR' });
  });

  it('refuses a config without baseDir', async () => {
    const { module } = await loadFixture('csv', 'mcs-driver-csv', { baseDir: baseDir });
    expect(() => construct(module.default, {})).toThrow(/baseDir/);
  });

  it('runs the same under plain Node (native ESM, outside the test runner)', () => {
    const dir = unpack(packFixtureDriver('csv', { name: 'mcs-driver-csv', version: VERSION }));
    const script = [
      'const { default: CsvDriver } = await import(process.argv[1]);',
      'const driver = new CsvDriver({ baseDir: process.argv[2] });',
      'const response = driver.process_llm_response(\'{"tool": "summarize_numeric_column", "arguments": {"path": "sales.csv", "column": "units"}}\');',
      'process.stdout.write(JSON.stringify({ meta: driver.meta, response, health: driver.healthcheck() }));',
    ].join('\n');
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(entryFile(dir)).href, baseDir], { encoding: 'utf8' });
    const result = JSON.parse(output) as { meta: unknown; response: DriverResponse; health: unknown };
    expect(result.meta).toEqual(declaredDriver('csv').meta);
    expect(result.response).toMatchObject({ call_executed: true, call_failed: false, tool_call_result: { sum: 25, count: 4 } });
    expect(result.health).toEqual({ status: 'OK' });
  });
});

describe('composition: the notes tool driver under the basic orchestrator', () => {
  type Orchestrator = MCSDriver & { list_tools(): Promise<Tool[]> };
  let notes: MCSToolDriver;
  let Orchestrator: unknown;
  let NotesToolDriver: unknown;

  beforeAll(async () => {
    const loadedNotes = await loadFixture('notes', 'mcs-driver-notes-toolonly', {});
    assertMcsDriver(loadedNotes.driver, 'mcs-driver-notes-toolonly');
    notes = loadedNotes.driver as MCSToolDriver;
    NotesToolDriver = loadedNotes.module.default;
    const orchestratorDir = unpack(packFixtureDriver('orchestrator', { name: 'mcs-orchestrator-basic', version: VERSION }));
    Orchestrator = (await importEntry(orchestratorDir)).default;
  });

  it('the notes driver is a tool-only driver whose meta and tools equal the declared ones', async () => {
    expect(driverKind(notes)).toBe('tool-driver');
    const declared = declaredDriver('notes');
    expect(declared.kind).toBe('tool-driver');
    expect(notes.meta).toEqual(declared.meta);
    expect(notes.meta.target_llms).toBeNull();
    expect(await notes.list_tools()).toEqual(declared.tools);
    expect(await notes.execute_tool('add_note', { text: 'first line\nsecond line' })).toEqual({ id: 1, title: 'first line', text: 'first line\nsecond line' });
    expect(await notes.execute_tool('list_notes', {})).toEqual([{ id: 1, title: 'first line', text: 'first line\nsecond line' }]);
    expect(() => notes.execute_tool('add_note', { text: '  ' })).toThrow(/non-empty/);
  });

  it('the orchestrator is an MCS driver over the union of the tools, and routes calls to their owner', async () => {
    const freshNotes = construct(NotesToolDriver, {}) as MCSToolDriver;
    const baseDir = join(root, 'orchestrated');
    mkdirSync(baseDir, { recursive: true });
    writeFileSync(join(baseDir, 'a.csv'), 'x,y\n1,2\n3,4\n');
    const csv = (await loadFixture('csv', 'mcs-driver-csv', { baseDir })).driver as MCSToolDriver;
    const orchestrator = construct(Orchestrator, { drivers: [freshNotes, csv] });
    assertMcsDriver(orchestrator, 'mcs-orchestrator-basic');
    expect(driverKind(orchestrator)).toBe('driver');
    const composed = orchestrator as Orchestrator;
    expect(composed.meta).toEqual(declaredDriver('orchestrator').meta);

    const names = ['add_note', 'list_notes', 'list_csv_files', 'read_csv_head', 'filter_csv_rows', 'summarize_numeric_column'];
    expect((await composed.list_tools()).map((tool) => tool.name)).toEqual(names);
    expect((JSON.parse(await composed.get_function_description()) as Tool[]).map((tool) => tool.name)).toEqual(names);
    const system = await composed.get_driver_system_message();
    for (const name of names) expect(system).toContain(name);

    expect(await composed.process_llm_response('```json\n{"tool": "add_note", "arguments": {"text": "buy milk", "title": "shopping"}}\n```')).toEqual({
      call_executed: true,
      call_failed: false,
      tool_call_result: { id: 1, title: 'shopping', text: 'buy milk' },
    });
    expect(await composed.process_llm_response('{"tool": "list_notes", "arguments": {}}')).toEqual({
      call_executed: true,
      call_failed: false,
      tool_call_result: [{ id: 1, title: 'shopping', text: 'buy milk' }],
    });
    // the call went to the notes driver itself
    expect(await freshNotes.execute_tool('list_notes', {})).toEqual([{ id: 1, title: 'shopping', text: 'buy milk' }]);
    expect(await composed.process_llm_response('{"tool": "summarize_numeric_column", "arguments": {"path": "a.csv", "column": "y"}}')).toMatchObject({
      call_executed: true,
      tool_call_result: { sum: 6, count: 2 },
    });
    const unknown = await composed.process_llm_response('{"tool": "send_mail", "arguments": {}}');
    expect(unknown).toMatchObject({ call_executed: false, call_failed: true });
    expect(unknown.retry_prompt).toMatch(/add_note/);
    expect(await composed.process_llm_response('Nothing to do.')).toEqual({ call_executed: false, call_failed: false });
  });

  it('a tool name offered by two drivers is a configuration error', () => {
    expect(() => construct(Orchestrator, { drivers: [construct(NotesToolDriver, {}), construct(NotesToolDriver, {})] })).toThrow(/"add_note" is offered by both/);
    expect(() => construct(Orchestrator, { drivers: [] })).toThrow(/non-empty list/);
  });
});

describe('the hostile fixtures', () => {
  const HOSTILE = ['marker-on-import', 'commonjs', 'throws-on-import', 'wrong-export', 'meta-mismatch', 'capability-without-method', 'unbundled-dependency', 'entry-outside'] as const;
  const nameOf = (hostile: string) => `mcs-driver-hostile-${hostile}`;

  it.each(HOSTILE)('%s packs, with valid declared metadata', (hostile) => {
    const entries = readTarball(packFixtureDriver(`hostile/${hostile}`, { name: nameOf(hostile), version: VERSION }));
    expect(entries[0]?.path).toBe('package/package.json');
    expect(entries.some((entry) => entry.path === 'package/index.js')).toBe(true);
    expect(entries.every((entry) => !entry.path.endsWith('.ts') && !entry.path.endsWith('mcs.json') && !entry.path.endsWith('partial.json'))).toBe(true);
    const manifest = JSON.parse(entries[0]!.data!.toString('utf8')) as Record<string, unknown>;
    expect(manifest.mcs).toEqual(fixtureMcs(`hostile/${hostile}`, VERSION));
    for (const declared of fixtureMcs(`hostile/${hostile}`, VERSION).drivers) expect(() => assertDriverMeta(declared.meta, hostile)).not.toThrow();
  });

  it('marker-on-import writes the MCS_TEST_MARKER file when imported', async () => {
    const dir = unpack(packFixtureDriver('hostile/marker-on-import', { name: nameOf('marker-on-import'), version: VERSION }));
    const marker = join(root, 'marker.txt');
    const previous = process.env.MCS_TEST_MARKER;
    process.env.MCS_TEST_MARKER = marker;
    try {
      const module = await importEntry(dir);
      expect(readFileSync(marker, 'utf8')).toContain(`${nameOf('marker-on-import')}@${VERSION} ran at import`);
      const driver = construct(module.default, {});
      expect(() => assertMcsDriver(driver, 'marker')).not.toThrow();
      expect((driver as MCSDriver).meta).toEqual(declaredDriver('hostile/marker-on-import').meta);
    } finally {
      if (previous === undefined) delete process.env.MCS_TEST_MARKER;
      else process.env.MCS_TEST_MARKER = previous;
    }
  });

  it('commonjs has no "type": "module" and assigns module.exports', () => {
    const dir = unpack(packFixtureDriver('hostile/commonjs', { name: nameOf('commonjs'), version: VERSION }));
    expect(packageJson(dir)).not.toHaveProperty('type');
    expect(readFileSync(entryFile(dir), 'utf8')).toContain('module.exports = CommonJsDriver');
    // under plain Node, import() would hand the class over as the default export: only the package.json tells
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', 'const m = await import(process.argv[1]); process.stdout.write(String(new m.default({}).meta.name));', pathToFileURL(entryFile(dir)).href], { encoding: 'utf8' });
    expect(output).toBe('CommonJS Driver');
  });

  it('throws-on-import throws while it is imported', async () => {
    const dir = unpack(packFixtureDriver('hostile/throws-on-import', { name: nameOf('throws-on-import'), version: VERSION }));
    await expect(importEntry(dir)).rejects.toThrow(/throws-on-import threw at its top level/);
  });

  it('wrong-export exports a string as default (and a driver class under another name)', async () => {
    const module = await importEntry(unpack(packFixtureDriver('hostile/wrong-export', { name: nameOf('wrong-export'), version: VERSION })));
    expect(typeof module.default).toBe('string');
    expect(typeof module.WrongExportDriver).toBe('function');
  });

  it('meta-mismatch passes the contract check but its runtime meta.id is not the declared one', async () => {
    const { driver } = await loadFixture('hostile/meta-mismatch', nameOf('meta-mismatch'), {});
    assertMcsDriver(driver, 'meta-mismatch');
    const declared = declaredDriver('hostile/meta-mismatch');
    expect(driver.meta.id).not.toBe(declared.meta.id);
    expect({ ...driver.meta, id: declared.meta.id }).toEqual(declared.meta);
  });

  it('capability-without-method claims healthcheck without the method, which assertMcsDriver refuses', async () => {
    const { driver } = await loadFixture('hostile/capability-without-method', nameOf('capability-without-method'), {});
    expect((driver as MCSDriver).meta).toEqual(declaredDriver('hostile/capability-without-method').meta);
    expect(() => assertMcsDriver(driver, 'capability-without-method')).toThrow(expect.objectContaining({ code: 'E_DRIVER_CAPABILITY' }));
  });

  it('unbundled-dependency lists left-pad but does not ship it, so its import fails', async () => {
    const dir = unpack(packFixtureDriver('hostile/unbundled-dependency', { name: nameOf('unbundled-dependency'), version: VERSION }));
    expect(packageJson(dir).dependencies).toEqual({ 'left-pad': '^1.3.0' });
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);
    await expect(importEntry(dir)).rejects.toThrow(/left-pad/);
    expect(() =>
      execFileSync(process.execPath, ['--input-type=module', '-e', 'await import(process.argv[1])', pathToFileURL(entryFile(dir)).href], { encoding: 'utf8', stdio: 'pipe' }),
    ).toThrow(/ERR_MODULE_NOT_FOUND|Cannot find package 'left-pad'/);
  });

  it('entry-outside points main at ../outside.js and has no exports', () => {
    const dir = unpack(packFixtureDriver('hostile/entry-outside', { name: nameOf('entry-outside'), version: VERSION }));
    const manifest = packageJson(dir);
    expect(manifest.main).toBe('../outside.js');
    expect(manifest).not.toHaveProperty('exports');
    expect(entryFile(dir)).toBe(join(dirname(dir), 'outside.js'));
    expect(existsSync(join(dir, 'index.js'))).toBe(true);
  });
});
