import { describe, expect, it } from 'vitest';
import { normalizeProjectName, normalizeVersion, parseDistFilename } from '../../src/pypi/filenames.js';
import '../helpers/matchers.js';

describe('distribution file names', () => {
  it('normalizes project names by PEP 503', () => {
    expect(normalizeProjectName('Foo_Bar')).toBe('foo-bar');
    expect(normalizeProjectName('foo.-_bar')).toBe('foo-bar');
  });

  it.each([
    ['1.0', '1.0'],
    ['1.0.0', '1.0.0'],
    ['v1.0', '1.0'],
    ['1.0-alpha.1', '1.0a1'],
    ['1.0.BETA2', '1.0b2'],
    ['1.0c1', '1.0rc1'],
    ['1.0-1', '1.0.post1'],
    ['1.0.rev', '1.0.post0'],
    ['1.0-dev', '1.0.dev0'],
    ['0!01.002', '1.2'],
    ['1.0+Ubuntu-1', '1.0+ubuntu.1'],
  ])('normalizes version %s to %s (PEP 440)', (raw, normal) => {
    expect(normalizeVersion(raw)).toBe(normal);
  });

  it('refuses what is not a PEP 440 version', () => {
    expect(normalizeVersion('1.0-foo')).toBeNull();
    expect(normalizeVersion('latest')).toBeNull();
  });

  it.each([
    ['Foo_Bar-1.0-py3-none-any.whl', 'foo_bar-1.0-py3-none-any.whl'],
    ['foo.bar-1.0-py3-none-any.whl', 'foo_bar-1.0-py3-none-any.whl'],
    ['foo_bar-1.0.0a1-py3-none-any.whl', 'Foo_Bar-1.0.0.alpha1-py3-none-any.whl'],
    ['foo_bar-1.0-py3.py2-none-any.whl', 'foo_bar-1.0-py2.py3-NONE-ANY.whl'],
    ['Foo-Bar-1.0.tar.gz', 'foo_bar-1.0.tar.gz'],
    ['foo_bar-1.0.TAR.GZ', 'foo-bar-1.0.tar.gz'],
  ])('%s and %s name one file', (a, b) => {
    expect(parseDistFilename(a).canonical).toBe(parseDistFilename(b).canonical);
  });

  it.each([
    ['foo_bar-1.0-py3-none-any.whl', 'foo_bar-1.0.0-py3-none-any.whl'],
    ['foo_bar-1.0-py3-none-any.whl', 'foo_baz-1.0-py3-none-any.whl'],
    ['foo_bar-1.0-py3-none-any.whl', 'foo_bar-1.0-1-py3-none-any.whl'],
    ['foo_bar-1.0-py3-none-any.whl', 'foo_bar-1.0-py3-none-manylinux1_x86_64.whl'],
    ['foo_bar-1.0-py3-none-any.whl', 'foo_bar-1.0.tar.gz'],
    ['foo_bar-1.0.tar.gz', 'foo_bar-1.0.zip'],
  ])('%s and %s are different files', (a, b) => {
    expect(parseDistFilename(a).canonical).not.toBe(parseDistFilename(b).canonical);
  });

  it('parses a wheel and an sdist into project, version and kind', () => {
    expect(parseDistFilename('Mcs_Driver_CSV-0.1.4-py3-none-any.whl')).toMatchObject({ kind: 'wheel', project: 'mcs-driver-csv', version: '0.1.4' });
    expect(parseDistFilename('mcs-driver-csv-0.1.4.tar.gz')).toMatchObject({ kind: 'sdist', project: 'mcs-driver-csv', version: '0.1.4' });
  });

  it.each(['foo-1.0.egg', 'foo-1.0-py3-any.whl', 'foo-bar-1.0-py3-none-any.whl', 'foo-latest.tar.gz', '-1.0.tar.gz', '../foo-1.0.tar.gz', 'foo-1.0-x1-py3-none-any.whl', ''])('refuses %j with E_DIST_NAME', (name) => {
    expect(() => parseDistFilename(name)).toThrowWithCode('E_DIST_NAME');
  });
});
