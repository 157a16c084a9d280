/**
 * Index URLs often carry a token (https://user:TOKEN@host/simple/, from a CI
 * secret in PIP_INDEX_URL or pip.conf). One that does not parse (a typo in
 * the host or port) must be reported without the token: error messages end
 * up in CI logs, and pip itself redacts credentials from the URLs it prints.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePipIndex } from '../../../src/pypi/config.js';
import { removeDir, tempDir } from '../../helpers/index-data.js';
import '../../helpers/matchers.js';

const SECRET = 's3cret-token-value';
const work = tempDir('mcs-index-url-secret-');
mkdirSync(work, { recursive: true });

afterAll(() => removeDir(work));

function messageOf(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    expect(error).toThrowWithCode('E_USAGE');
    return `${(error as Error).message} ${JSON.stringify((error as { details?: unknown }).details ?? {})}`;
  }
  throw new Error('expected E_USAGE');
}

describe('an unparsable index URL with credentials', () => {
  it.each([
    ['--index-url', () => resolvePipIndex({ indexUrl: `https://ci:${SECRET}@pypi.exa mple.com/simple/`, env: {} })],
    ['PIP_INDEX_URL', () => resolvePipIndex({ env: { PIP_INDEX_URL: `https://ci:${SECRET}@pypi.example.com:99999/simple/` } })],
  ])('%s: E_USAGE, and the message does not print the token', (_source, read) => {
    expect(messageOf(read)).not.toContain(SECRET);
  });

  it('pip.conf: E_USAGE, and the message does not print the token', () => {
    const file = join(work, 'pip.conf');
    writeFileSync(file, `[global]\nindex-url = https://ci:${SECRET}@pypi.example.com:99999/simple/\n`);
    expect(messageOf(() => resolvePipIndex({ env: { PIP_CONFIG_FILE: file }, home: work, globalFiles: [] }))).not.toContain(SECRET);
  });
});
