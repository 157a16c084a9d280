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
    expect(report.packages).toBe(16);
  });

  it('names the entry point, module:Class, of every driver a PyPI entry declares, in the module its metaSource names', () => {
    const drivers = files.map((f) => readEntry(embeddedIndexDir(), f)).flatMap((e) => (e.declarations ?? []).flatMap((d) => d.drivers.map((driver) => ({ name: e.name, driver }))));
    expect(drivers.length).toBeGreaterThanOrEqual(14);
    for (const { name, driver } of drivers) {
      expect(driver.export, name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$/);
      const module = driver.metaSource!.replace(/^.*\/src\//, '').replace(/\.py$/, '').replaceAll('/', '.');
      expect(driver.export!.split(':')[0], name).toBe(module);
    }
  });

  it('keeps the contract\'s target_llms, gives orchestrators no bindings, and the mail drivers as their source declares them now', () => {
    const entry = (name: string) => readEntry(embeddedIndexDir(), `pypi/${name}.json`);
    for (const f of files) for (const d of readEntry(embeddedIndexDir(), f).declarations ?? []) for (const driver of d.drivers) expect(driver.meta).not.toHaveProperty('supported_llms');
    for (const name of ['mcs-orchestrator-base', 'mcs-orchestrator-rest']) {
      expect(entry(name).declarations!.flatMap((d) => d.drivers).map((driver) => [driver.kind, driver.meta.bindings])).toEqual([['orchestrator', []]]);
    }
    for (const name of ['mcs-driver-mail', 'mcs-driver-mailsend']) {
      const current = entry(name).declarations!.find((d) => !d.versions)!;
      expect(current.drivers.flatMap((driver) => driver.tools ?? []).map((t) => t.name)).not.toContain('check_connection');
    }
  });

  it('lists the MCS project packages confirmed on PyPI, as Reference, without provenance', () => {
    const entries = files.map((f) => readEntry(embeddedIndexDir(), f));
    expect(entries.map((e) => e.name).sort()).toEqual([
      'mcs-adapter-gmail', 'mcs-adapter-http', 'mcs-adapter-imap', 'mcs-adapter-localfs', 'mcs-adapter-smb', 'mcs-adapter-smtp', 'mcs-driver-core',
      'mcs-driver-csv', 'mcs-driver-filesystem', 'mcs-driver-mail', 'mcs-driver-mailread', 'mcs-driver-mailsend', 'mcs-driver-rest',
      'mcs-orchestrator-base', 'mcs-orchestrator-rest', 'mcs-types-http',
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
