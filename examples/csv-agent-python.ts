/**
 * The CSV agent of `npm run example`, against a Python driver: the client
 * asks for pypi:mcs-driver-csvchat and gets the same MCSDriver it gets for an
 * npm driver, backed by a confined Python process.
 *
 * Everything runs on this machine: a loopback PyPI serves the driver's wheel
 * (attested by a mock Sigstore) and the wheels it depends on, all built from
 * test/fixtures/python; `index add pypi:` pins them and their dependency
 * lock in a fresh index. The loader fetches and verifies every wheel, unpacks
 * them read-only into the cache, and starts the Python host on exactly them.
 *
 *   npm run example:python
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDriver } from '../src/loader/load.js';
import { oneTurn, printLayers } from './agent-turn.js';
import { addFromRegistry } from '../src/maintain/add.js';
import { setPermissions } from '../src/maintain/edit.js';
import { startFixturePypi } from '../test/helpers/fixture-pypi.js';
import { startMockSigstore } from '../test/helpers/mock-sigstore.js';
import { fixtureMcs, fixtureWheel } from '../test/helpers/python-drivers.js';

const work = mkdtempSync(join(tmpdir(), 'mcs-example-python-'));
const sigstore = await startMockSigstore();
const pypi = await startFixturePypi({
  sigstore,
  projects: [
    { name: 'mcs-driver-csvchat', files: [{ ...fixtureWheel('mcs-driver-csvchat', 'mcs-driver-csvchat', ['mcs-driver-csv>=1'], fixtureMcs('csvchat')), publisher: { repository: 'example/mcs-driver-csvchat', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v1.0.0' } }] },
    { name: 'mcs-driver-csv', files: [fixtureWheel('mcs-driver-csv', 'mcs-driver-csv', ['mcs-driver-core>=1'])] },
    { name: 'mcs-driver-core', files: [fixtureWheel('mcs-driver-core', 'mcs-driver-core', [])] },
  ],
});
try {
  // the release: the driver added to a fresh index with its publisher and dependency lock; it reads CSV files
  const trustedRoot = join(work, 'trusted_root.json');
  writeFileSync(trustedRoot, JSON.stringify(sigstore.trustedRoot));
  const indexDir = join(work, 'index');
  await addFromRegistry(indexDir, 'pypi:mcs-driver-csvchat', { by: 'example', why: 'the example CSV driver' }, { pypi: { indexUrl: pypi.indexUrl }, trustedRoot });
  setPermissions(indexDir, 'pypi:mcs-driver-csvchat', ['filesystem:read'], { by: 'example', why: 'it reads the CSV files of the folder it is given' });
  const data = join(work, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'sales.csv'), 'city,units\nParis,4\nLyon,6\nNantes,9\n');

  // the client: a Python driver, confined, that may read only the data folder
  const { driver, receipt, close } = await loadDriver('pypi:mcs-driver-csvchat', {
    config: { baseDir: data },
    grants: { read: [data] },
    policy: { labels: ['verified', 'reference', 'community'], requireProvenance: { pypi: true } },
    index: { indexDir, cacheDir: join(work, 'cache') },
    cacheDir: join(work, 'cache', 'loader'),
    pypi: { indexUrl: pypi.indexUrl },
    trustedRoot,
    onEvent: (event) => console.log(`  ${event.phase}${event.package ? ` ${event.package}@${event.version}` : ''}`),
  });
  for (const w of receipt.python?.wheels ?? []) console.log(`  wheel ${w.name} ${w.version}: sha256 ${w.sha256.slice(0, 16)}... ${w.attested ? 'attested' : 'pinned'}`);
  printLayers(receipt);
  console.log(`loaded ${receipt.package}@${receipt.version} on Python ${receipt.python?.version}`);
  await oneTurn(driver, close);
} finally {
  await Promise.all([pypi.close(), sigstore.close()]);
  // the unpacked wheels are read-only by design
  const open = (dir: string): void => {
    chmodSync(dir, 0o755);
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) open(join(dir, e.name));
  };
  open(work);
  rmSync(work, { recursive: true, force: true });
}
