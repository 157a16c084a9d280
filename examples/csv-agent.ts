/**
 * A client that asks for "a csv driver" and runs one turn of the MCS loop.
 *
 * Everything runs on this machine: a loopback npm registry serves the CSV
 * driver from test/fixtures, released with provenance signed by a mock
 * Sigstore and pinned in a fresh index. The client knows only the capability
 * it needs; the loader resolves, verifies, unpacks, re-hashes and imports.
 *
 *   npm run example
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDriver } from '../src/loader/load.js';
import { oneTurn, printLayers } from './agent-turn.js';
import { fixtureMcs, packFixtureDriver } from '../test/helpers/driver-packages.js';
import { startFixtureRegistry } from '../test/helpers/fixture-registry.js';
import { createRegistryKey, keysResponse, startMockSigstore } from '../test/helpers/mock-sigstore.js';
import { publishSigned } from '../test/helpers/publish.js';

const work = mkdtempSync(join(tmpdir(), 'mcs-example-'));
const [registry, sigstore] = await Promise.all([startFixtureRegistry(), startMockSigstore()]);
try {
  // the release: a driver published with provenance, and an index that pins who builds it
  const key = createRegistryKey();
  registry.setKeys(keysResponse([{ key }]));
  const indexDir = join(work, 'index');
  await publishSigned(
    { registry, sigstore, key, indexDir, repository: 'example/mcs-driver-csv' },
    { name: 'mcs-driver-csv', version: '1.0.0', tarball: packFixtureDriver('csv', { name: 'mcs-driver-csv', version: '1.0.0' }), drivers: fixtureMcs('csv', '1.0.0').drivers as never, permissions: ['filesystem:read'] },
  );
  const trustedRoot = join(work, 'trusted_root.json');
  writeFileSync(trustedRoot, JSON.stringify(sigstore.trustedRoot));
  const data = join(work, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'sales.csv'), 'city,units\nParis,4\nLyon,6\nNantes,9\n');

  // the client: it asks for a capability, not a package; the driver runs in a confined host process that may read only the data folder
  const { driver, receipt, close } = await loadDriver('csv', {
    config: { baseDir: data },
    grants: { read: [data] },
    index: { indexDir, cacheDir: join(work, 'cache') },
    cacheDir: join(work, 'cache', 'loader'),
    registry: { registry: registry.url },
    trustedRoot,
    onEvent: (event) => console.log(`  ${event.phase}${event.package ? ` ${event.package}@${event.version}` : ''}${event.tool ? ` ${event.tool}` : ''}`),
  });
  printLayers(receipt);
  console.log(`loaded ${receipt.package}@${receipt.version}: ${receipt.verdict?.status}, built by ${receipt.verdict?.results.find((r) => r.check === 'identity')?.message.split('built by ')[1] ?? '?'}`);
  await oneTurn(driver, close);
} finally {
  await Promise.all([registry.close(), sigstore.close()]);
  rmSync(work, { recursive: true, force: true });
}
