/**
 * Invisible text in index data: characters that show nothing (or change how
 * the text around them reads) but reach a terminal, and a model's prompt, as
 * they are. One sample of each class the rule names by Unicode property;
 * every human-facing output shows them escaped, names and ids refuse them,
 * and descriptions get a coded warning naming the field and the code point.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.js';
import { clean, paint, shown } from '../../../cli/render.js';
import { assertDriverMeta, assertIndexEntry } from '../../../src/manifest/validate.js';
import { npmDriver, removeDir, tempDir, writeEntry } from '../../helpers/index-data.js';

const BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url));

/** One character of each class, named by what makes it invisible. */
const SAMPLES: ReadonlyArray<[string, number]> = [
  ['tag character (Cf)', 0xe0049],
  ['tag: language tag (Cf)', 0xe0001],
  ['tag: cancel tag (Cf)', 0xe007f],
  ['zero width space (Cf)', 0x200b],
  ['zero width non-joiner (Cf)', 0x200c],
  ['zero width joiner (Cf)', 0x200d],
  ['word joiner (Cf)', 0x2060],
  ['Mongolian vowel separator (Cf)', 0x180e],
  ['byte order mark (Cf)', 0xfeff],
  ['soft hyphen (Cf)', 0x00ad],
  ['right-to-left override (Cf)', 0x202e],
  ['first strong isolate (Cf)', 0x2068],
  ['line separator (Zl)', 0x2028],
  ['paragraph separator (Zp)', 0x2029],
  ['escape (Cc)', 0x1b],
  ['bell (Cc)', 0x07],
  ['carriage return (Cc)', 0x0d],
  ['next line (Cc, C1)', 0x85],
  ['private use (Co)', 0xe000],
  ['supplementary private use (Co)', 0xf0000],
  ['unassigned (Cn)', 0x0378],
  ['noncharacter (Cn)', 0xffff],
  ['variation selector (default ignorable)', 0xfe00],
  ['supplementary variation selector (default ignorable)', 0xe0100],
  ['Hangul filler (default ignorable)', 0x3164],
  ['combining grapheme joiner (default ignorable)', 0x034f],
];

const char = (codePoint: number): string => String.fromCodePoint(codePoint);
const escaped = (codePoint: number): string => `\\u{${codePoint.toString(16)}}`;
/** Text that carries every sample, each between visible letters. */
const CARRIER = 'see' + SAMPLES.map(([, cp]) => char(cp) + 'x').join('');
const RAW = new RegExp(`[${SAMPLES.map(([, cp]) => (cp > 0xffff ? char(cp) : `\\u${cp.toString(16).padStart(4, '0')}`)).join('')}]`, 'u');

let dir: string;
let cache: string;

function run(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: dir, MCS_PKG_CACHE: cache, ...env } });
}

beforeAll(() => {
  dir = tempDir('mcs-invisible-');
  cache = tempDir('mcs-invisible-cache-');
  const entry = npmDriver('mcs-driver-ghost', { description: `ghost ${CARRIER}` });
  entry.declarations![0]!.drivers[0]!.tools = [{ name: 'read_ghost', description: `tool ${CARRIER}`, title: `title ${CARRIER}` }];
  entry.label.reason = `reason ${CARRIER}`;
  entry.security = { notes: [{ text: `note ${CARRIER}` }] };
  writeEntry(dir, entry);
});
afterAll(() => {
  removeDir(dir);
  removeDir(cache);
});

describe('shown escaped, never raw', () => {
  it.each(SAMPLES)('clean() escapes %s', (_, codePoint) => {
    expect(clean(`a${char(codePoint)}b`)).toBe(`a${escaped(codePoint)}b`);
    expect(clean(`a${char(codePoint)}b`, { lines: true })).toBe(`a${escaped(codePoint)}b`);
    expect(shown(`a${char(codePoint)}b`, false)).toBe(`a${escaped(codePoint)}b`);
  });

  it('keeps visible text as it is: letters of every script, emoji with their presentation selector, line breaks in multi-line text', () => {
    for (const text of ['Zürich Ελληνικά 日本語 العربية', 'ok ✅ warn ⚠️ 👍🏽']) expect(clean(text)).toBe(text);
    expect(clean('one\ntwo\tthree')).toBe('one two three');
    expect(clean('one\r\ntwo\n\tthree', { lines: true })).toBe('one\ntwo\n\tthree');
  });

  it('lets through the colour codes paint() writes, and nothing else of the escape kind', () => {
    const display = { color: true, width: 80 };
    const painted = paint(display, 'red', 'x') + paint(display, 'bold', 'y');
    expect(shown(painted, false)).toBe(painted);
    expect(shown('\u001b[8mhidden\u001b[2J', false)).toBe('\\u{1b}[8mhidden\\u{1b}[2J');
  });

  it('JSON output carries the same strings, written as \\u escapes only', () => {
    const document = JSON.stringify({ text: CARRIER }, null, 2);
    const safe = shown(document, true);
    expect(safe).not.toMatch(RAW);
    expect(JSON.parse(safe)).toEqual({ text: CARRIER });
  });

  it('search and info through the real binary: every class escaped in text, none raw in JSON, the data intact', () => {
    for (const args of [['search', 'ghost'], ['info', 'mcs-driver-ghost']]) {
      const text = run([...args, '--index', dir]);
      expect(text.status, text.stderr).toBe(0);
      expect(text.stdout).not.toMatch(RAW);
      for (const [, codePoint] of SAMPLES) expect(text.stdout).toContain(`${escaped(codePoint)}x`);
      const json = run([...args, '--index', dir, '--json']);
      expect(json.status).toBe(0);
      expect(json.stdout).not.toMatch(RAW);
      const document = JSON.parse(json.stdout);
      expect(document.entry?.description ?? document.results[0].description).toBe(`ghost ${CARRIER}`); // the same data, escaped only in form
    }
  });

  it('an error message quoting hostile input is escaped too', () => {
    const result = run(['info', `mcs-driver-${char(0xe0049)}${char(0x202e)}x`, '--index', dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).not.toMatch(RAW);
    expect(result.stderr).toContain(escaped(0xe0049));
  });
});

describe('refused in names and ids, flagged in prose', () => {
  const cases: ReadonlyArray<[string, (entry: ReturnType<typeof npmDriver>, c: string) => void, string, string]> = [
    ['driver name', (e, c) => void (e.declarations![0]!.drivers[0]!.meta.name = `csv${c}driver`), '/declarations/0/drivers/0/meta/name', 'E_TEXT_INVISIBLE'],
    ['label author', (e, c) => void (e.label.by = `alice${c}`), '/label/by', 'E_TEXT_INVISIBLE'],
    ['keyword', (e, c) => void (e.keywords = [`csv${c}`]), '/keywords/0', 'E_TEXT_INVISIBLE'],
    ['driver export', (e, c) => void (e.declarations![0]!.drivers[0]!.export = `Csv${c}Driver`), '/declarations/0/drivers/0/export', 'E_TEXT_INVISIBLE'],
    ['tool name (its pattern)', (e, c) => void (e.declarations![0]!.drivers[0]!.tools![0]!.name = `read${c}`), '/declarations/0/drivers/0/tools/0/name', 'E_SCHEMA'],
    ['driver id (its pattern)', (e, c) => void (e.declarations![0]!.drivers[0]!.meta.id = `id${c}`), '/declarations/0/drivers/0/meta/id', 'E_SCHEMA'],
    ['package name', (e, c) => void (e.name = `mcs-driver-csv${c}`), '/name', 'E_NAME_INVALID'],
  ];

  it.each(cases)('%s with a tag character: index validate exits 1 with the code and the JSON pointer', (_, edit, pointer, code) => {
    const bad = tempDir('mcs-invisible-bad-');
    try {
      const entry = npmDriver('mcs-driver-tagged');
      edit(entry, char(0xe0049));
      writeEntry(bad, entry, 'npm/mcs-driver-tagged.json');
      const result = run(['index', 'validate', '--index', bad, '--json']);
      expect(result.status).toBe(1);
      const problems = JSON.parse(result.stdout).problems as Array<{ code: string; pointer?: string; message: string }>;
      expect(problems).toContainEqual(expect.objectContaining({ code, pointer }));
      if (code === 'E_TEXT_INVISIBLE') expect(problems.find((p) => p.code === code)!.message).toContain('U+E0049 (tag character)');
    } finally {
      removeDir(bad);
    }
  });

  it.each(SAMPLES)('a name with %s is refused by the entry check', (_, codePoint) => {
    const entry = npmDriver('mcs-driver-tagged');
    entry.declarations![0]!.drivers[0]!.meta.name = `csv${char(codePoint)}`;
    expect(() => assertIndexEntry(entry, 'entry.json')).toThrowWithCode('E_TEXT_INVISIBLE');
  });

  it('a running driver whose meta name hides a tag is refused (E_DRIVER_META)', () => {
    const meta = { ...npmDriver('mcs-driver-csv').declarations![0]!.drivers[0]!.meta, name: `csv${char(0xe0049)}` };
    expect(() => assertDriverMeta(meta, 'mcs-driver-csv@1.0.0')).toThrowWithCode('E_DRIVER_META');
  });

  it('index validate flags each prose field holding invisible text, naming the field and the code point, and still passes', () => {
    const text = run(['index', 'validate', '--index', dir]);
    const json = JSON.parse(run(['index', 'validate', '--index', dir, '--json']).stdout);
    expect(json.problems.filter((p: { code: string }) => p.code !== 'E_LOG_UNEXPLAINED')).toEqual([]);
    const pointers = json.warnings.map((w: { code: string; pointer: string }) => `${w.code} ${w.pointer}`);
    expect(pointers).toEqual(
      expect.arrayContaining(['/description', '/declarations/0/drivers/0/tools/0/description', '/declarations/0/drivers/0/tools/0/title', '/label/reason', '/security/notes/0/text'].map((p) => `E_TEXT_INVISIBLE ${p}`)),
    );
    expect(text.stdout).toMatch(/warning E_TEXT_INVISIBLE .*mcs-driver-ghost\.json: \/description: holds U\+E0049 \(tag character\)/);
    expect(text.stdout).not.toMatch(RAW);
  });

  it('a zero-width character alone in a description is flagged; a clean index has no warnings', () => {
    const zw = tempDir('mcs-invisible-zw-');
    try {
      writeEntry(zw, npmDriver('mcs-driver-plain', { description: `Reads CSV${char(0x200b)} files` }));
      const flagged = JSON.parse(run(['index', 'validate', '--index', zw, '--json']).stdout);
      expect(flagged.warnings).toEqual([expect.objectContaining({ code: 'E_TEXT_INVISIBLE', pointer: '/description', message: expect.stringContaining('U+200B (format character)') })]);
      writeEntry(zw, npmDriver('mcs-driver-plain', { description: 'Reads CSV files' }));
      expect(JSON.parse(run(['index', 'validate', '--index', zw, '--json']).stdout).warnings).toEqual([]);
    } finally {
      removeDir(zw);
    }
  });
});

describe('width: cut only on a terminal', () => {
  const long = `Reads ${'very '.repeat(40)}long descriptions END`;
  let wide: string;
  beforeAll(() => {
    wide = tempDir('mcs-invisible-wide-');
    writeEntry(wide, npmDriver('mcs-driver-long', { description: long }));
  });
  afterAll(() => removeDir(wide));

  it('piped output is never cut, whatever COLUMNS says', () => {
    for (const env of [{}, { COLUMNS: '300' }, { COLUMNS: '40' }]) {
      const result = run(['search', 'long', '--index', wide], env);
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(long);
    }
  });

  it('on a terminal, cut to COLUMNS when set, else to the terminal width', async () => {
    const terminal = async (env: Record<string, string>, columns: number): Promise<string> => {
      let out = '';
      const code = await main(['search', 'long', '--index', wide, '--cache-dir', cache], { stdout: { write: (t: string) => (out += t), isTTY: true, columns }, stderr: { write: () => true }, env });
      expect(code).toBe(0);
      return out.split('\n').find((line) => line.includes('mcs-driver-long'))!;
    };
    expect(await terminal({ COLUMNS: '400' }, 60)).toContain('END');
    const narrow = await terminal({}, 100);
    expect(narrow).not.toContain('END');
    expect(narrow.replace(/\u001b\[\d+m/g, '').length).toBeLessThanOrEqual(100);
    expect(narrow).toMatch(/…$/);
  });
});
