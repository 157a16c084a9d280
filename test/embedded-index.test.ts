/** The reviewed index that ships with mcs-pkg. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedIndexDir } from '../src/config.js';
import { validateIndexDir, readEntry } from '../src/index/build.js';

const files = readdirSync(join(embeddedIndexDir(), 'pypi')).map((f) => `pypi/${f}`);

describe('embedded index-data', () => {
  it('validates with no problems', () => {
    const report = validateIndexDir(embeddedIndexDir());
    expect(report.problems).toEqual([]);
    expect(report.packages).toBe(12);
  });

  it('lists the MCS project packages confirmed on PyPI, as Reference, without provenance', () => {
    const entries = files.map((f) => readEntry(embeddedIndexDir(), f));
    expect(entries.map((e) => e.name).sort()).toEqual([
      'mcs-adapter-http', 'mcs-adapter-localfs', 'mcs-adapter-smb', 'mcs-driver-core', 'mcs-driver-csv', 'mcs-driver-filesystem',
      'mcs-driver-mail', 'mcs-driver-mailread', 'mcs-driver-mailsend', 'mcs-driver-rest', 'mcs-orchestrator-base', 'mcs-orchestrator-rest',
    ]);
    for (const entry of entries) {
      expect(entry.label.value).toBe('reference');
      expect(entry.trust?.repository).toBe('https://github.com/modelcontextstandard/python-sdk');
      for (const version of Object.values(entry.versions)) {
        expect(version.provenance).toBe(false);
        for (const file of version.files ?? []) expect(file.integrity).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);
      }
    }
  });

  it('pins the sdists whose digests PyPI publishes, converted to SRI without loss', () => {
    const csv = readEntry(embeddedIndexDir(), 'pypi/mcs-driver-csv.json');
    const file = csv.versions['0.1.3']!.files![0]!;
    expect(file.filename).toBe('mcs_driver_csv-0.1.3.tar.gz');
    expect(Buffer.from(file.integrity.slice('sha256-'.length), 'base64').toString('hex')).toBe('b559cd48fc64d62d3bea9d468be5400cd221aeec6268626239b5f50f03a6afdf');
  });
});
