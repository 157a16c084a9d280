/**
 * A loopback PyPI with three kinds of project, and an index that pins them:
 * a Trusted Publishing driver (wheel and sdist attested by the mock
 * Sigstore, its publisher pinned), a driver pinned by digest alone (as the
 * real MCS drivers are), and one whose pins and served files disagree.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IndexEntry } from '../../src/manifest/types.js';
import { startFixturePypi, type FixtureDist, type FixturePypi } from '../helpers/fixture-pypi.js';
import { writeEntry } from '../helpers/index-data.js';
import { buildSdist, buildWheel, sdistFilename, wheelFilename } from '../helpers/wheels.js';
import { startMockSigstore, type GithubIdentity, type MockSigstore } from '../helpers/mock-sigstore.js';
import { sha256Hex } from '../helpers/pep740.js';

export const PUBLISHER: GithubIdentity = { repository: 'acme/mcs-python', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v1.0.0' };
export const TP_WHEEL = wheelFilename('mcs-driver-tp', '1.0.0');
export const TP_SDIST = sdistFilename('mcs-driver-tp', '1.0.0');
export const PLAIN_SDIST = 'mcs_driver_plain-0.1.3.tar.gz';

const bytes = (text: string) => Buffer.from(text.repeat(40));
const driverFiles = { 'mcs/driver/tp/__init__.py': 'from .driver import TpDriver\n', 'mcs/driver/tp/driver.py': 'class TpDriver:\n    pass\n' };
export const TP_FILES: FixtureDist[] = [
  { filename: TP_WHEEL, bytes: buildWheel({ name: 'mcs-driver-tp', version: '1.0.0', files: driverFiles, requiresPython: '>=3.11' }), requiresPython: '>=3.11', publisher: PUBLISHER },
  { filename: TP_SDIST, bytes: buildSdist({ name: 'mcs-driver-tp', version: '1.0.0', files: driverFiles }), publisher: PUBLISHER },
];

const sri = (data: Buffer) => `sha256-${Buffer.from(sha256Hex(data), 'hex').toString('base64')}`;
const pinOf = (file: FixtureDist, provenance: boolean) => ({ filename: file.filename, kind: file.filename.endsWith('.whl') ? ('wheel' as const) : ('sdist' as const), integrity: sri(file.bytes), size: file.bytes.length, provenance });
const label = { value: 'community', by: 'test', at: '2026-01-01T00:00:00Z', reason: 'test fixture' } as const;

function entry(name: string, overrides: Partial<IndexEntry>): IndexEntry {
  return { name, ecosystem: 'pypi', class: 'driver', description: `${name} for tests`, label, versions: {}, ...overrides } as IndexEntry;
}

export interface PypiWorld {
  sigstore: MockSigstore;
  pypi: FixturePypi;
  indexDir: string;
  rootFile: string;
  close(): Promise<void>;
}

/** Starts the loopback PyPI and writes the index under `dir`. */
export async function startPypiWorld(dir: string): Promise<PypiWorld> {
  const sigstore = await startMockSigstore();
  const plain = { filename: PLAIN_SDIST, bytes: bytes('plain sdist 0.1.3 ') };
  const gapsPinned = { filename: 'mcs_driver_gaps-2.0.0-py3-none-any.whl', bytes: bytes('gaps wheel ') };
  const gapsServed = { filename: 'mcs_driver_gaps-2.0.0.tar.gz', bytes: bytes('gaps sdist ') };
  const pypi = await startFixturePypi({
    sigstore,
    projects: [
      { name: 'mcs-driver-tp', files: [...TP_FILES, { filename: 'mcs_driver_tp-1.1.0.tar.gz', bytes: bytes('tp 1.1.0 '), publisher: PUBLISHER }] },
      { name: 'mcs-driver-plain', files: [plain, { filename: 'mcs_driver_plain-0.1.4.tar.gz', bytes: bytes('plain sdist 0.1.4 ') }] },
      { name: 'mcs-driver-gaps', files: [gapsServed] },
      { name: 'mcs-driver-unlisted', files: [{ filename: 'mcs_driver_unlisted-3.0.0.tar.gz', bytes: bytes('unlisted ') }] },
    ],
  });
  const indexDir = join(dir, 'index');
  writeEntry(indexDir, entry('mcs-driver-tp', {
    trust: { publisher: { kind: 'github', issuer: 'https://token.actions.githubusercontent.com', repository: 'https://github.com/acme/mcs-python', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*' } },
    versions: { '1.0.0': { provenance: true, files: TP_FILES.map((f) => pinOf(f, true)) } },
  }));
  writeEntry(indexDir, entry('mcs-driver-plain', { versions: { '0.1.3': { provenance: false, files: [pinOf(plain, false)] } } }));
  writeEntry(indexDir, entry('mcs-driver-gaps', { versions: { '2.0.0': { provenance: false, files: [pinOf(gapsPinned, false)] } } }));
  mkdirSync(dir, { recursive: true });
  const rootFile = join(dir, 'trusted_root.json');
  writeFileSync(rootFile, JSON.stringify(sigstore.trustedRoot));
  return {
    sigstore,
    pypi,
    indexDir,
    rootFile,
    async close() {
      await pypi.close();
      await sigstore.close();
    },
  };
}
