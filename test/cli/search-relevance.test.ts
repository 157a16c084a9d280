/** The built CLI on the embedded index: what people type finds the right drivers first. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/index-data.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
let cacheDir: string;

function search(...words: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, 'search', ...words], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', MCS_PKG_CACHE: cacheDir },
    encoding: 'utf8',
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function names(...words: string[]): string[] {
  const { status, stdout } = search(...words, '--json');
  expect(status).toBe(0);
  return (JSON.parse(stdout) as { results: Array<{ name: string }> }).results.map((r) => r.name);
}

beforeAll(() => {
  cacheDir = tempDir('mcs-cli-relevance-');
});

afterAll(() => removeDir(cacheDir));

describe('search on the embedded index', () => {
  it('finds the REST driver for "rest api" (REST/OpenAPI), before the REST orchestrator', () => {
    expect(names('rest', 'api').slice(0, 2)).toEqual(['mcs-driver-rest', 'mcs-orchestrator-rest']);
    expect(names('openapi').slice(0, 2)).toEqual(['mcs-orchestrator-rest', 'mcs-driver-rest']);
  });

  it('finds the mail-sending driver first for "send email" (it says e-mail)', () => {
    expect(names('send', 'email').slice(0, 2)).toEqual(['mcs-driver-mailsend', 'mcs-driver-mail']);
    expect(names('sendEmail').slice(0, 2)).toEqual(['mcs-driver-mailsend', 'mcs-driver-mail']);
  });

  it('finds the mail-reading driver first for "read my inbox"', () => {
    expect(names('read', 'my', 'inbox').slice(0, 2)).toEqual(['mcs-driver-mailread', 'mcs-driver-mail']);
  });

  it('finds every mail driver for email, e-mail and mail (and the mail adapters beside them)', () => {
    for (const word of ['email', 'e-mail', 'mail']) expect(names(word)).toEqual(expect.arrayContaining(['mcs-driver-mail', 'mcs-driver-mailread', 'mcs-driver-mailsend', 'mcs-adapter-imap', 'mcs-adapter-smtp']));
  });

  it('corrects "cvs" to csv and says so, in text and in --json', () => {
    const text = search('cvs');
    expect(text.status).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toBe('Did you mean "csv"? Showing results for it (cvs -> csv).');
    expect(lines[1]).toMatch(/^NAME\s+LABEL/);
    expect(lines[2]).toMatch(/^mcs-driver-csv\s+reference/);
    const json = JSON.parse(search('cvs', '--json').stdout);
    expect(json).toMatchObject({ query: 'cvs', suggestion: { query: 'csv', corrections: [{ from: 'cvs', to: 'csv' }] } });
    expect(json.results[0].name).toBe('mcs-driver-csv');
  });

  it('says nothing about corrections when every word is known', () => {
    const json = JSON.parse(search('csv', '--json').stdout);
    expect(json.suggestion).toBeUndefined();
    expect(search('csv').stdout).not.toContain('Did you mean');
  });
});
