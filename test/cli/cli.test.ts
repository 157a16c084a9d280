/** The built mcs-pkg binary, run as a user runs it: exit codes, streams, JSON shapes. */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeContext, wantsColor } from '../../cli/context.js';
import { npmDriver, removeDir, tempDir, writeEntry, writeIndex } from '../helpers/index-data.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
let cacheDir: string;

function run(args: string[], env: Record<string, string> = {}): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', MCS_PKG_CACHE: cacheDir, ...env },
    encoding: 'utf8',
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  cacheDir = tempDir('mcs-cli-cache-');
});

afterAll(() => removeDir(cacheDir));

describe('search', () => {
  it('lists the CSV driver from the embedded index as a table', () => {
    const { status, stdout, stderr } = run(['search', 'csv']);
    expect(status).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+LABEL\s+CLASS\s+ECO\s+LATEST\s+DESCRIPTION$/);
    expect(lines[1]).toMatch(/^mcs-driver-csv\s+reference\s+driver\s+pypi\s+0\.1\.3\s+CSV driver/);
  });

  it('prints the documented JSON shape with --json', () => {
    const { status, stdout } = run(['search', 'csv', '--json']);
    expect(status).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ query: 'csv', filters: {} });
    expect(result.results[0]).toEqual({
      name: 'mcs-driver-csv',
      ecosystem: 'pypi',
      class: 'driver',
      label: 'reference',
      description: 'CSV driver for the Model Context Standard.',
      latest: '0.1.3',
      match: 'capability',
      capabilities: ['csv'],
      adapters: ['localfs', '*'],
      llms: ['*'],
      permissions: ['filesystem:read'],
      versions: 3,
      provenance: 'none',
      tools: 4,
    });
  });

  it('filters by facets without words', () => {
    const { status, stdout } = run(['search', '--permission', 'secrets', '--class', 'adapter', '--json']);
    expect(status).toBe(0);
    expect(JSON.parse(stdout).results.map((r: { name: string }) => r.name).sort()).toEqual(['mcs-adapter-gmail', 'mcs-adapter-imap', 'mcs-adapter-smb', 'mcs-adapter-smtp']);
  });

  it('colours only when asked or on a terminal', () => {
    expect(run(['search', 'csv']).stdout).not.toContain('\u001b[');
    expect(run(['search', 'csv', '--color']).stdout).toContain('\u001b[');
  });

  it('honours NO_COLOR on a terminal, and an explicit --color over it', () => {
    const terminal = { stdout: { write: () => true, isTTY: true }, stderr: { write: () => true }, env: {} };
    expect(wantsColor(terminal, undefined)).toBe(true);
    expect(wantsColor({ ...terminal, env: { NO_COLOR: '1' } }, undefined)).toBe(false);
    expect(wantsColor({ ...terminal, env: { NO_COLOR: '' } }, undefined)).toBe(true);
    expect(wantsColor({ ...terminal, env: { TERM: 'dumb' } }, undefined)).toBe(false);
    expect(wantsColor({ ...terminal, env: { NO_COLOR: '1' } }, true)).toBe(true);
  });

  it('shows counters for long work on an interactive standard error only, one line rewritten in place', () => {
    const written: string[] = [];
    const streams = (isTTY: boolean) => ({ stdout: { write: () => true }, stderr: { write: (text: string) => written.push(text), isTTY }, env: {} });
    expect(makeContext(streams(false), { json: false }).count).toBeUndefined();
    const context = makeContext(streams(true), { json: false });
    for (let done = 1; done <= 3; done++) context.count!('verified packages', done, 3);
    context.progress!({ phase: 'index', done: 2, total: 2 });
    context.progress!({ phase: 'optimize', done: 2, total: 2 });
    expect(written.join('')).toBe('\rverified packages 1/3\rverified packages 2/3\rverified packages 3/3\n\rindexing packages 2/2\noptimizing search index\n');
  });

  it('load on the embedded (PyPI-only) index resolves the PyPI driver and says why it cannot run, and an unreadable --config is a usage error', () => {
    const pypiOnly = run(['load', 'csv']);
    expect(pypiOnly.status).toBe(1);
    expect(pypiOnly.stderr).toMatch(/^error E_LOAD_REFUSED: pypi:mcs-driver-csv@[0-9.]+: the index pins no pure-Python wheel .*an sdist is never built.*mcs-pkg index sync pypi:NAME/);
    const none = run(['load', 'postgres']);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no npm or PyPI driver in the index matches it/);
    const config = run(['load', 'csv', '--config', '@no-such-config.json']);
    expect(config.status).toBe(2);
    expect(config.stderr).toMatch(/^error E_USAGE: cannot read config file no-such-config\.json/);
  });

  it('points a usage error at the help of the command that was run', () => {
    const { status, stderr } = run(['update']);
    expect(status).toBe(2);
    expect(stderr).toMatch(/^error E_USAGE: no source to update from yet in .+: give --from FOLDER or --from URL once.*\nRun mcs-pkg update --help for usage\.\n$/);
  });

  it('exits 2 with E_QUERY_EMPTY when there is nothing to search for', () => {
    const { status, stderr } = run(['search', '"*"']);
    expect(status).toBe(2);
    expect(stderr).toMatch(/^error E_QUERY_EMPTY: /);
  });

  it('exits 2 with E_USAGE and yargs diagnostics for a bad flag value or an unknown flag', () => {
    const bad = run(['search', 'csv', '--label', 'trusted']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('E_USAGE');
    expect(bad.stderr).toContain('Choices: "verified", "reference", "community"');
    const unknown = run(['search', 'csv', '--verfied']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('Unknown argument: verfied');
  });

  it('reports usage errors as JSON on stdout with --json', () => {
    const { status, stdout } = run(['search', 'csv', '--limit', '5000', '--json']);
    expect(status).toBe(2);
    expect(JSON.parse(stdout).error).toMatchObject({ code: 'E_USAGE' });
  });
});

describe('info', () => {
  it('shows versions, pins, trust and tools', () => {
    const { status, stdout } = run(['info', 'mcs-driver-csv']);
    expect(status).toBe(0);
    expect(stdout).toContain('mcs_driver_csv-0.1.3.tar.gz  sha256-tVnNSPxk1i076p1Gi+VADNIhruxiaGJiObX1DwOmr98=');
    expect(stdout).toContain('publisher   not pinned');
    expect(stdout).toContain('tool list_csv_files');
  });

  it('suggests the name meant, as JSON with exit 2', () => {
    const { status, stdout } = run(['info', 'mcs-driver-cvs', '--json']);
    expect(status).toBe(2);
    const { error } = JSON.parse(stdout);
    expect(error.code).toBe('E_NOT_FOUND');
    expect(error.details.suggestions).toEqual(['mcs-driver-csv']);
  });

  it('prints the entry as JSON', () => {
    const { status, stdout } = run(['info', 'pypi:mcs-driver-rest', '--json']);
    expect(status).toBe(0);
    const info = JSON.parse(stdout);
    expect(info.entry.declarations[0].drivers.map((d: { meta: { id: string } }) => d.meta.id)).toContain('42144fa5-ed09-4c63-be1f-48122847835a');
    expect(info.summary.permissions).toEqual(['network']);
  });
});

describe('help and version', () => {
  it('has --help on every command', () => {
    for (const args of [['--help'], ['search', '--help'], ['info', '--help'], ['index', '--help'], ['index', 'build', '--help'], ['index', 'validate', '--help']]) {
      const { status, stdout } = run(args);
      expect(status, args.join(' ')).toBe(0);
      expect(stdout, args.join(' ')).toContain('mcs-pkg');
    }
    expect(run(['search', '--help']).stdout).toContain('--capability');
  });

  it('prints the package version', () => {
    const version = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')).version;
    expect(run(['--version']).stdout.trim()).toBe(version);
  });

  it('asks for a command when given none', () => {
    const { status, stderr } = run([]);
    expect(status).toBe(2);
    expect(stderr).toContain('E_USAGE');
  });
});

describe('index commands and other index folders', () => {
  let indexDir: string;

  beforeAll(() => {
    indexDir = tempDir('mcs-cli-index-');
    writeIndex(indexDir, [npmDriver('mcs-driver-xml', { description: 'Reads XML documents' })]);
  });

  afterAll(() => removeDir(indexDir));

  it('validates the embedded index with no problems', () => {
    const { status, stdout } = run(['index', 'validate']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/16 files, 16 packages, no problems/);
  });

  it('searches another folder with --index and builds it with index build', () => {
    expect(JSON.parse(run(['search', 'xml', '--index', indexDir, '--json']).stdout).results[0].name).toBe('mcs-driver-xml');
    const built = run(['index', 'build', '--index', indexDir, '--json']);
    expect(built.status).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ action: 'built', packages: 1 });
  });

  it('exits 1 and lists every problem when validation fails', () => {
    const bad = tempDir('mcs-cli-bad-');
    writeEntry(bad, { ...npmDriver('mcs-driver-json'), class: 'adapter' });
    writeEntry(bad, '{"name": "x", "name": "y"}', 'npm/mcs-driver-yaml.json');
    const text = run(['index', 'validate', '--index', bad]);
    expect(text.status).toBe(1);
    expect(text.stdout).toContain('E_NAME_CLASS');
    expect(text.stdout).toContain('E_JSON_DUPLICATE_KEY');
    const json = JSON.parse(run(['index', 'validate', '--index', bad, '--json']).stdout);
    expect(json.problems.map((p: { code: string }) => p.code).sort()).toEqual(['E_JSON_DUPLICATE_KEY', 'E_NAME_CLASS']);
    removeDir(bad);
  });

  it('never sends escape sequences or bidi overrides from index data to the terminal', () => {
    const hostile = tempDir('mcs-cli-hostile-');
    const entry = npmDriver('mcs-driver-evil', { description: 'clear \u001b[2J screen \u202eesrever' });
    // prose may hold them (flagged by validate); names and other fields refuse them (test/adversarial/cli/invisible-text.test.ts)
    entry.declarations![0]!.drivers[0]!.tools![0]!.description = 'x\u001b]8;;https://attacker.invalid\u0007link \u001b[31m';
    writeEntry(hostile, entry);
    for (const args of [['info', 'mcs-driver-evil'], ['search', 'evil']]) {
      const { status, stdout } = run([...args, '--index', hostile]);
      expect(status).toBe(0);
      expect(stdout).not.toMatch(/[\u001b\u0007\u202e]/);
    }
    expect(run(['info', 'mcs-driver-evil', '--index', hostile]).stdout).toContain('\\u{1b}]8;;https://attacker.invalid');
    removeDir(hostile);
  });

  it('exits 2 with E_INDEX_NOT_FOUND for a missing folder', () => {
    const { status, stderr } = run(['search', 'csv', '--index', join(indexDir, 'missing')]);
    expect(status).toBe(2);
    expect(stderr).toMatch(/^error E_INDEX_NOT_FOUND: /);
  });

  it('repairs a corrupt database, says so on stderr, and still answers', () => {
    const cache = tempDir('mcs-cli-corrupt-');
    expect(run(['search', 'xml', '--index', indexDir, '--cache-dir', cache]).status).toBe(0);
    const store = join(cache, 'index', readdirSync(join(cache, 'index'))[0]!);
    const current = readFileSync(join(store, 'CURRENT'), 'utf8').trim();
    writeFileSync(join(store, current), 'garbage'.repeat(1000));
    const { status, stdout, stderr } = run(['search', 'xml', '--index', indexDir, '--cache-dir', cache]);
    expect(status).toBe(0);
    expect(stdout).toContain('mcs-driver-xml');
    expect(stderr).toMatch(/^warning: the index database was corrupt; it was moved to .*\.corrupt-/);
    removeDir(cache);
  });
});
