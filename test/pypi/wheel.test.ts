/** Reading a wheel: a well-formed wheel gives its files, hashes, top-level names and metadata; requirements and markers per PEP 508. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compareVersions, versionSatisfies } from '../../src/pypi/pep440.js';
import { evaluateMarker, linuxCpythonEnvironment, parseRequirement, readWheel } from '../../src/pypi/wheel.js';
import { HAVE_REAL_PYPI, realPypi } from '../helpers/real-pypi.js';
import { buildWheel, distInfoName, wheelFilename, zip } from '../helpers/wheels.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('readWheel', () => {
  it('checks every file against RECORD and returns the files, top-level names and metadata', async () => {
    const bytes = buildWheel({
      name: 'mcs-driver-csv',
      version: '0.1.4',
      files: { 'mcs/driver/csv/__init__.py': 'from .driver import CsvDriver\n', 'mcs/driver/csv/driver.py': 'class CsvDriver: pass\n', 'helper.py': 'X = 1\n' },
      requiresDist: ['mcs-driver-core>=0.4,<1', 'mcs-adapter-localfs', 'pytest ; extra == "test"'],
      requiresPython: '>=3.11',
      summary: 'CSV driver',
      mcs: { drivers: ['mcs.driver.csv:CsvDriver'] },
    });
    const wheel = await readWheel(bytes, wheelFilename('mcs-driver-csv', '0.1.4'));
    expect(wheel.name).toBe('mcs-driver-csv');
    expect(wheel.version).toBe('0.1.4');
    expect(wheel.tags).toEqual(['py3-none-any']);
    expect(wheel.topLevel).toEqual(['helper', 'mcs']);
    expect(wheel.distInfo).toBe(distInfoName('mcs-driver-csv', '0.1.4'));
    expect(wheel.mcs).toEqual({ drivers: ['mcs.driver.csv:CsvDriver'] });
    expect(wheel.metadata).toMatchObject({ name: 'mcs-driver-csv', version: '0.1.4', requiresPython: '>=3.11', summary: 'CSV driver' });
    expect(wheel.metadata.requiresDist.map((r) => [r.name, r.specifier, r.marker ?? null])).toEqual([
      ['mcs-driver-core', '>=0.4,<1', null],
      ['mcs-adapter-localfs', '', null],
      ['pytest', '', 'extra == "test"'],
    ]);
    const init = wheel.files.find((f) => f.path === 'mcs/driver/csv/__init__.py')!;
    expect(init).toEqual({ path: 'mcs/driver/csv/__init__.py', sha256: sha256('from .driver import CsvDriver\n'), size: 30, installPath: 'mcs/driver/csv/__init__.py' });
    expect(wheel.files.map((f) => f.path)).toContain(`${wheel.distInfo}/RECORD`);
    expect(wheel.skipped).toEqual([]);
  });

  it('skips .data/scripts and moves .data/purelib to the root', async () => {
    const data = 'pkg-1.0.data';
    const wheel = await readWheel(
      buildWheel({ name: 'pkg', version: '1.0', files: { 'pkg/__init__.py': '', [`${data}/scripts/run`]: '#!/bin/sh\n', [`${data}/purelib/extra_mod.py`]: 'Y = 2\n' } }),
      wheelFilename('pkg', '1.0'),
    );
    expect(wheel.skipped).toEqual([`${data}/scripts/run`]);
    expect(wheel.files.find((f) => f.path === `${data}/purelib/extra_mod.py`)?.installPath).toBe('extra_mod.py');
    expect(wheel.topLevel).toEqual(['extra_mod', 'pkg']);
  });

  it('compares the name and version normalized, and expands compressed tag sets', async () => {
    const bytes = buildWheel({ name: 'My.Package', version: '1.0.0', files: { 'my_package/__init__.py': '' }, tag: 'py2.py3-none-any' });
    const wheel = await readWheel(bytes, 'my_package-1.0.0-py2.py3-none-any.whl');
    expect(wheel.name).toBe('my-package');
    expect(wheel.tags).toEqual(['py2-none-any', 'py3-none-any']);
  });

  it('accepts a RECORD that does not list itself, and folder entries', async () => {
    const distInfo = distInfoName('pkg', '1.0');
    const metadata = 'Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n';
    const wheelText = 'Wheel-Version: 1.0\n';
    const line = (path: string, data: string) => `${path},sha256=${createHash('sha256').update(data).digest('base64url')},${Buffer.byteLength(data)}`;
    const bytes = zip([
      { name: 'pkg/' },
      { name: 'pkg/__init__.py', data: 'A = 1\n', deflate: false },
      { name: `${distInfo}/METADATA`, data: metadata },
      { name: `${distInfo}/WHEEL`, data: wheelText },
      { name: `${distInfo}/RECORD`, data: [line('pkg/__init__.py', 'A = 1\n'), line(`${distInfo}/METADATA`, metadata), line(`${distInfo}/WHEEL`, wheelText)].join('\r\n') },
    ]);
    const wheel = await readWheel(bytes, wheelFilename('pkg', '1.0'));
    expect(wheel.files.map((f) => f.path)).toEqual(['pkg-1.0.dist-info/METADATA', 'pkg-1.0.dist-info/RECORD', 'pkg-1.0.dist-info/WHEEL', 'pkg/__init__.py']);
  });
});

describe('parseRequirement', () => {
  it('parses names, extras, specifiers and markers', () => {
    expect(parseRequirement('Requests[Security, socks] (>=2.8.1, ==2.8.*) ; python_version < "2.7"')).toEqual({
      name: 'requests',
      extras: ['security', 'socks'],
      specifier: '>=2.8.1,==2.8.*',
      marker: 'python_version < "2.7"',
      raw: 'Requests[Security, socks] (>=2.8.1, ==2.8.*) ; python_version < "2.7"',
    });
    expect(parseRequirement('mcs_driver.core~=0.4.1').name).toBe('mcs-driver-core');
  });

  it('refuses direct URL references, bad specifiers and bad markers', () => {
    expect(() => parseRequirement('pkg @ https://example.com/pkg.whl')).toThrowWithCode('E_WHEEL_METADATA');
    expect(() => parseRequirement('pkg >=> 1')).toThrowWithCode('E_WHEEL_METADATA');
    expect(() => parseRequirement('pkg ; os_nam == "posix"')).toThrowWithCode('E_WHEEL_METADATA');
    expect(() => parseRequirement('pkg ; (python_version > "3"')).toThrowWithCode('E_WHEEL_METADATA');
    expect(() => parseRequirement(`pkg ; ${'('.repeat(40)}python_version > "3"${')'.repeat(40)}`)).toThrowWithCode('E_WHEEL_METADATA');
    expect(() => parseRequirement('-pkg')).toThrowWithCode('E_WHEEL_METADATA');
  });
});

describe('evaluateMarker', () => {
  const env = linuxCpythonEnvironment('3.11.4');

  it('compares versions as PEP 440 versions and other values as strings', () => {
    expect(evaluateMarker('python_version >= "3.9"', env)).toBe(true);
    expect(evaluateMarker('python_version < "3.10"', env)).toBe(false);
    expect(evaluateMarker('python_full_version ~= "3.11.0"', env)).toBe(true);
    expect(evaluateMarker("sys_platform == 'win32' or (os_name == 'posix' and platform_machine in 'x86_64 aarch64')", env)).toBe(true);
    expect(evaluateMarker('"linux" in sys_platform and platform_system != "Darwin"', env)).toBe(true);
    expect(evaluateMarker('implementation_name not in "pypy"', env)).toBe(true);
  });

  it('matches extras by their normalized names, and no extra by default', () => {
    expect(evaluateMarker('extra == "test"', env)).toBe(false);
    expect(evaluateMarker('extra == "Dev_Tools"', linuxCpythonEnvironment('3.11.4', 'dev-tools'))).toBe(true);
  });

  it('refuses ~= between values that are not versions', () => {
    expect(() => evaluateMarker('os_name ~= "posix"', env)).toThrowWithCode('E_WHEEL_METADATA');
  });
});

describe('PEP 440 ordering and specifiers', () => {
  it('orders dev, pre, final, post and local releases', () => {
    const ordered = ['1.0.dev1', '1.0a1.dev1', '1.0a1', '1.0b2', '1.0rc1', '1.0', '1.0+local.1', '1.0.post1.dev1', '1.0.post1', '1.1', '1!0.1'];
    for (let i = 0; i + 1 < ordered.length; i++) expect(compareVersions(ordered[i]!, ordered[i + 1]!), `${ordered[i]} < ${ordered[i + 1]}`).toBe(-1);
    expect(compareVersions('1.0.0', '1.0')).toBe(0);
    expect(compareVersions('x', '1')).toBeNull();
  });

  it('matches each operator as the specification says', () => {
    expect(versionSatisfies('2.8.5', '>=2.8.1,==2.8.*')).toBe(true);
    expect(versionSatisfies('2.9.0', '==2.8.*')).toBe(false);
    expect(versionSatisfies('0.4.9', '~=0.4.1')).toBe(true);
    expect(versionSatisfies('0.5.0', '~=0.4.1')).toBe(false);
    expect(versionSatisfies('1.0.post1', '>1.0')).toBe(false);
    expect(versionSatisfies('1.1', '>1.0')).toBe(true);
    expect(versionSatisfies('2.0rc1', '<2.0')).toBe(false);
    expect(versionSatisfies('2.0rc1', '>=1.0')).toBe(false);
    expect(versionSatisfies('2.0rc1', '>=2.0rc1')).toBe(true);
    expect(versionSatisfies('1.5', '!=1.5.*')).toBe(false);
    expect(versionSatisfies('1.0', '')).toBe(true);
    expect(versionSatisfies('1.0', '>=bad')).toBe(false);
  });
});

describe.skipIf(!HAVE_REAL_PYPI)(`a real wheel from PyPI (${HAVE_REAL_PYPI ? 'in ../shared/real-pypi' : 'skipped: ../shared/real-pypi is absent'})`, () => {
  it('reads rfc8785-0.1.2-py3-none-any.whl as published: every file against its RECORD, its metadata', async () => {
    const wheel = await readWheel(realPypi('rfc8785-0.1.2-py3-none-any.whl'), 'rfc8785-0.1.2-py3-none-any.whl');
    expect(wheel).toMatchObject({ name: 'rfc8785', version: '0.1.2', tags: ['py3-none-any'], topLevel: ['rfc8785'], skipped: [] });
    expect(wheel.metadata.requiresPython).toBe('>=3.8');
    expect(wheel.files.map((f) => f.path)).toContain('rfc8785/__init__.py');
  });
});
