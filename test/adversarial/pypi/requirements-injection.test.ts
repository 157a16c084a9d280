/**
 * Requires-Dist text from a wheel (attacker-controlled: any dependency's
 * author writes it) flows into the dependency lock's markers and from there,
 * verbatim, into `pins --format requirements`. A marker must never be able
 * to change the shape of that file: pip reads it line by line, strips
 * " #..." as a comment, and joins lines ending in "\".
 */
import { describe, expect, it } from 'vitest';
import type { IndexEntry } from '../../../src/manifest/types.js';
import { parseRequirement } from '../../../src/pypi/pep508.js';
import { requirementsFile } from '../../../src/pypi/requirements.js';
import { readWheel } from '../../../src/pypi/wheel.js';
import '../../helpers/matchers.js';
import { buildWheel, wheelFilename } from '../../helpers/wheels.js';

const NAME = 'mcs-driver-folded';
const FILE = wheelFilename(NAME, '1.0');
const SHA = `sha256-${Buffer.alloc(32, 7).toString('base64')}`;

/** A wheel whose METADATA folds a Requires-Dist header over two lines (RFC 822 continuation). */
function foldedWheel(): Buffer {
  const metadataText = ['Metadata-Version: 2.1', `Name: ${NAME}`, 'Version: 1.0', 'Requires-Dist: helper ; platform_machine == "x86_64"', ' and os_name == "posix"', '', 'body', ''].join('\n');
  return buildWheel({ name: NAME, version: '1.0', files: { 'mcs/driver/folded/__init__.py': '' }, hostile: { metadataText } });
}

function entryWithMarker(marker: string): IndexEntry {
  return {
    ecosystem: 'pypi',
    name: NAME,
    versions: {
      '1.0': {
        files: [{ filename: FILE, kind: 'wheel', integrity: SHA }],
        lock: { python: '>=3.11', dependencies: [{ name: 'helper', version: '2.0', marker, files: [{ filename: wheelFilename('helper', '2.0'), kind: 'wheel', integrity: SHA }] }] },
      },
    },
  } as unknown as IndexEntry;
}

/** Every physical line of a requirements file is a comment, a NAME==VERSION requirement (maybe with a marker) continued by "\", or a "--hash=" continuation. */
function expectWellFormed(text: string): void {
  for (const line of text.split('\n').filter((l) => l !== '')) {
    const ok = /^# /.test(line) || /^[a-z0-9][a-z0-9._-]*==[^\s;]+( ; [^#]*)? \\$/.test(line) || /^ {4}--hash=sha256:[0-9a-f]{64}( \\)?$/.test(line);
    expect(ok, `line ${JSON.stringify(line)} is not a requirement, hash or comment line`).toBe(true);
  }
}

describe('Requires-Dist markers cannot reshape the requirements file', () => {
  it('refuses a Requires-Dist folded over two lines, as packaging (pip) does: E_WHEEL_METADATA', async () => {
    await expect(readWheel(foldedWheel(), FILE)).toThrowWithCode('E_WHEEL_METADATA');
  });

  it('refuses a requirement whose marker holds a line break between tokens or inside a string: E_WHEEL_METADATA', () => {
    expect(() => parseRequirement('helper ; platform_machine == "x86_64"\nand os_name == "posix"')).toThrowWithCode('E_WHEEL_METADATA');
    expect(() => parseRequirement('helper ; os_name == "a\n--extra-index-url http://127.0.0.1:1/simple\nb"')).toThrowWithCode('E_WHEEL_METADATA');
    // Python's str.splitlines (pip's reader) also breaks at these
    for (const separator of ['\r', '\u000b', '\u0085', '\u2028']) expect(() => parseRequirement(`helper ; os_name == "a${separator}b"`)).toThrowWithCode('E_WHEEL_METADATA');
  });

  it('a marker read from a wheel never splits a requirements line: the lock line stays one line with its hash', async () => {
    // what readWheel accepts today becomes the lock's marker verbatim (lock.ts narrow/markerOf keep the text)
    const read = await readWheel(foldedWheel(), FILE).catch(() => null);
    const marker = read?.metadata.requiresDist[0]?.marker ?? 'platform_machine == "x86_64"';
    expectWellFormed(requirementsFile(entryWithMarker(marker), '1.0'));
  });

  it('a marker string holding " #" (valid PEP 508, a comment to pip) does not cut the hashes off its line', () => {
    // no quoting keeps " #" out of pip's comment syntax, so such a Requires-Dist is refused when read ...
    expect(() => parseRequirement('helper ; platform_release != "x #"')).toThrowWithCode('E_WHEEL_METADATA');
    expect(() => parseRequirement('helper ; platform_release != "x --index-url=http://127.0.0.1:1/"')).toThrowWithCode('E_WHEEL_METADATA');
    // ... and a lock already holding one (an index written before) is refused rather than written with its hashes commented out
    expect(() => requirementsFile(entryWithMarker('platform_release != "x #"'), '1.0')).toThrowWithCode('E_WHEEL_METADATA');
    // a marker pip reads as written still gets its line, in canonical form
    const text = requirementsFile(entryWithMarker("(os_name=='posix' or sys_platform == \"linux\")  and python_version>='3.11'"), '1.0');
    expectWellFormed(text);
    expect(text).toContain('helper==2.0 ; (os_name == "posix" or sys_platform == "linux") and python_version >= "3.11" \\\n');
  });
});
