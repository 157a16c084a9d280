/**
 * Table cells are cut by one function: on a terminal every line fits its
 * width (COLUMNS, else the terminal's own) separators included, whichever
 * column is long; to a pipe or a file nothing is cut, whatever COLUMNS says.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.js';
import { table } from '../../../cli/render.js';

const ANSI = /\u001b\[[0-9;]*m/g;
const visible = (line: string): number => [...line.replace(ANSI, '')].length;

async function run(argv: string[], tty: boolean, env: Record<string, string>, columns?: number): Promise<{ code: number; stdout: string }> {
  let out = '';
  const code = await main(argv, { stdout: { write: (t: string) => (out += t), isTTY: tty, ...(columns ? { columns } : {}) }, stderr: { write: () => true }, env: { NO_COLOR: '1', ...env } });
  return { code, stdout: out };
}

describe('the one cutting function', () => {
  const rows = [
    ['a-very-long-package-name-that-is-wider-than-the-terminal-by-itself', 'x', 'short'],
    ['b', 'sha512-P4aIAr/1STdlt5EWPt1AsOmeMoreBase64TextThatGoesOnAndOn==', 'a description that is long as well and keeps going'],
  ];

  it.each([20, 40, 60, 80])('rows fit %i columns on a terminal, separators included, the widest columns cut first', (width) => {
    const text = table({ color: false, width }, ['NAME', 'DIGEST', 'DESCRIPTION'], rows);
    for (const line of text.split('\n')) expect(visible(line)).toBeLessThanOrEqual(width);
    expect(text).toContain('…');
  });

  it('cuts nothing without a terminal width', () => {
    const text = table({ color: false, width: Infinity }, ['NAME', 'DIGEST', 'DESCRIPTION'], rows);
    for (const row of rows) for (const cell of row) expect(text).toContain(cell);
    expect(text).not.toContain('…');
  });
});

describe('search through the CLI', () => {
  it.each([30, 60, 100])('on a terminal with COLUMNS=%i every line fits', async (width) => {
    const result = await run(['search', 'mail'], true, { COLUMNS: String(width) });
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(visible(line)).toBeLessThanOrEqual(width);
  });

  it('on a terminal without COLUMNS, the terminal\'s own width', async () => {
    const result = await run(['search', 'mail'], true, {}, 50);
    for (const line of result.stdout.trimEnd().split('\n')) expect(visible(line)).toBeLessThanOrEqual(50);
  });

  it('to a pipe with COLUMNS=30 nothing is cut: the rows are the --json descriptions in full', async () => {
    const piped = await run(['search', 'mail'], false, { COLUMNS: '30' });
    const json = JSON.parse((await run(['search', 'mail', '--json'], false, { COLUMNS: '30' })).stdout) as { results: Array<{ name: string; description: string }> };
    expect(json.results.length).toBeGreaterThan(0);
    for (const hit of json.results) {
      expect(piped.stdout).toContain(hit.name);
      expect(piped.stdout).toContain(hit.description);
    }
    expect(piped.stdout).not.toContain('…');
  });
});
