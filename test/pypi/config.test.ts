/** Which index pip would read: --index-url > PIP_INDEX_URL > pip's files ([install] over [global], later files over earlier) > pypi.org. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_INDEX_URL, readIni, resolvePipIndex } from '../../src/pypi/config.js';
import { removeDir, tempDir } from '../helpers/index-data.js';
import '../helpers/matchers.js';

let home: string;
let globalFile: string;
const write = (file: string, text: string) => {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
  return file;
};
const resolve = (env: NodeJS.ProcessEnv, indexUrl?: string) => resolvePipIndex({ env, home, globalFiles: [globalFile], ...(indexUrl ? { indexUrl } : {}) });

beforeEach(() => {
  home = tempDir('mcs-pip-conf-');
  globalFile = join(home, 'etc', 'pip.conf');
});
afterEach(() => removeDir(home));

describe('resolvePipIndex', () => {
  it('defaults to pypi.org without any configuration', () => {
    expect(resolve({})).toEqual({ indexUrl: DEFAULT_INDEX_URL, source: 'default' });
  });

  it('reads the global file, the user file over it, [install] over [global]', () => {
    write(globalFile, '[global]\nindex-url = https://global.example/simple\n');
    expect(resolve({})).toEqual({ indexUrl: 'https://global.example/simple/', source: `${globalFile} [global]` });
    write(join(home, '.config', 'pip', 'pip.conf'), '[global]\nindex_url: https://user.example/simple/\n');
    expect(resolve({}).indexUrl).toBe('https://user.example/simple/');
    write(globalFile, '[install]\nindex-url = https://install.example/pypi/simple\n');
    expect(resolve({})).toEqual({ indexUrl: 'https://install.example/pypi/simple/', source: `${globalFile} [install]` });
  });

  it('PIP_CONFIG_FILE overrides the files and hides the user file; PIP_INDEX_URL and --index-url win in turn', () => {
    write(join(home, '.pip', 'pip.conf'), '[install]\nindex-url = https://user.example/simple/\n');
    const envFile = write(join(home, 'custom.conf'), '# a comment\n[global]\nindex-url =\n    https://env.example/simple/\n    https://second.example/\n');
    expect(resolve({ PIP_CONFIG_FILE: envFile })).toEqual({ indexUrl: 'https://env.example/simple/', source: `${envFile} [global]` });
    expect(resolve({ PIP_CONFIG_FILE: '/dev/null' }).indexUrl).toBe(DEFAULT_INDEX_URL);
    expect(resolve({ PIP_CONFIG_FILE: envFile, PIP_INDEX_URL: 'http://127.0.0.1:1/simple' })).toEqual({ indexUrl: 'http://127.0.0.1:1/simple/', source: 'PIP_INDEX_URL' });
    expect(resolve({ PIP_INDEX_URL: 'http://127.0.0.1:1/simple' }, 'https://flag.example/simple').source).toBe('--index-url');
  });

  it('splits credentials off the URL into an Authorization header', () => {
    expect(resolve({ PIP_INDEX_URL: 'https://user:t%40ken@private.example/simple' })).toEqual({
      indexUrl: 'https://private.example/simple/',
      source: 'PIP_INDEX_URL',
      authorization: `Basic ${Buffer.from('user:t@ken').toString('base64')}`,
    });
  });

  it('refuses an unusable URL or a pip.conf that is not a regular file, with E_USAGE', () => {
    expect(() => resolve({ PIP_INDEX_URL: 'not a url' })).toThrowWithCode('E_USAGE');
    expect(() => resolve({}, 'file:///etc/passwd')).toThrowWithCode('E_USAGE');
    mkdirSync(globalFile, { recursive: true });
    expect(() => resolve({})).toThrowWithCode('E_USAGE');
  });
});

describe('readIni', () => {
  it('reads sections, both separators, comments and continuation lines', () => {
    const ini = readIni('[Global]\n; comment\ntimeout: 60\nindex_url = a\n  b\n[install]\nno-deps=true\n');
    expect(Object.fromEntries(ini.get('global')!)).toEqual({ timeout: '60', 'index-url': 'a\nb' });
    expect(ini.get('install')!.get('no-deps')).toBe('true');
  });
});
