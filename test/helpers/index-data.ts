/** Builds index-data folders for tests: valid entries by default, with the parts a test changes. */
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { IndexEntry } from '../../src/manifest/types.js';

export function tempDir(prefix = 'mcs-pkg-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** removeDir after giving back write permission to every real folder (the driver cache makes them read-only). */
export function removeReadOnlyDir(dir: string): void {
  if (!existsSync(dir)) return;
  const walk = (path: string) => {
    const stats = lstatSync(path);
    if (!stats.isDirectory()) return;
    chmodSync(path, 0o755);
    for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  removeDir(dir);
}

/** A fixed, valid npm sha512 SRI string (the digest of nothing in particular). */
export const SAMPLE_SHA512 = 'sha512-' + Buffer.alloc(64, 7).toString('base64');

let counter = 0;

/** A valid npm driver entry; `name` decides the capability. */
export function npmDriver(name: string, overrides: Partial<IndexEntry> = {}): IndexEntry {
  counter++;
  const capability = name.replace(/^(@[^/]+\/)?mcs-driver-/, '').split('-')[0]!;
  const versions = overrides.versions ?? { '1.0.0': { integrity: SAMPLE_SHA512, size: 1234, provenance: false } };
  return {
    name,
    ecosystem: 'npm',
    class: 'driver',
    description: `Test driver for ${capability} data`,
    // unless the test says otherwise, every pinned version declares the one driver
    declarations: [{ versions: Object.keys(versions).length > 0 ? Object.keys(versions) : ['1.0.0'], drivers: [
      {
        kind: 'driver',
        meta: {
          id: `00000000-0000-4000-8000-${String(counter).padStart(12, '0')}`,
          name: `${capability} driver`,
          version: '1.0.0',
          bindings: [{ capability, adapter: 'localfs', spec_format: 'Custom' }],
          target_llms: ['*'],
          capabilities: ['healthcheck'],
        },
        tools: [{ name: `read_${capability}`, description: `Read ${capability} records` }],
      },
    ] }],
    label: { value: 'community', by: 'test', at: '2026-01-01T00:00:00Z', reason: 'test fixture' },
    versions,
    ...overrides,
  };
}

export function entryPath(entry: Pick<IndexEntry, 'ecosystem' | 'name'>): string {
  return `${entry.ecosystem}/${entry.name}.json`;
}

/** Writes one entry where the index expects it (or at `path`), as formatted JSON. */
export function writeEntry(indexDir: string, entry: unknown, path?: string): string {
  const rel = path ?? entryPath(entry as IndexEntry);
  const file = join(indexDir, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, typeof entry === 'string' ? entry : JSON.stringify(entry, null, 2) + '\n');
  return file;
}

export function writeIndex(indexDir: string, entries: unknown[]): void {
  for (const entry of entries) writeEntry(indexDir, entry);
}
