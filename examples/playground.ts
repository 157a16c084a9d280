/**
 * A local playground for the whole flow, on this machine only: a loopback
 * npm registry serving signed MCS drivers (released with provenance by a mock
 * Sigstore), and the flags that point mcs-pkg at it. It prints a walk-through
 * to paste into another terminal and runs until Ctrl-C.
 *
 *   npm run playground                 # until Ctrl-C
 *   npm run playground -- --timeout 60 # stops by itself after 60 seconds
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureMcs, packFixtureDriver } from '../test/helpers/driver-packages.js';
import { publishSigned, startReleaseWorld } from '../test/helpers/publish.js';

const timeoutAt = process.argv.indexOf('--timeout');
const timeoutSeconds = timeoutAt >= 0 ? Number(process.argv[timeoutAt + 1]) : undefined;
if (timeoutSeconds !== undefined && !(timeoutSeconds > 0)) {
  console.error('usage: npm run playground [-- --timeout SECONDS]');
  process.exit(2);
}

const world = await startReleaseWorld('mcs-playground-');
const releases: Array<{ fixture: string; name: string; version: string }> = [
  { fixture: 'csv', name: 'mcs-driver-csv', version: '1.0.0' },
  { fixture: 'csv', name: 'mcs-driver-csv', version: '1.1.0' },
  { fixture: 'notes', name: 'mcs-driver-notes-toolonly', version: '1.0.0' },
];
// the registry serves what a release workflow published; the playground's own index folder is not the one you build
const releaseIndex = join(world.work, 'release-index');
for (const { fixture, name, version } of releases) {
  await publishSigned(
    { registry: world.registry, sigstore: world.sigstore, key: world.key, indexDir: releaseIndex, repository: `example/${name}` },
    { name, version, tarball: packFixtureDriver(fixture, { name, version }), drivers: fixtureMcs(fixture, version).drivers as never },
  );
}
const data = join(world.work, 'data');
mkdirSync(data);
writeFileSync(join(data, 'sales.csv'), 'city,units\nParis,4\nLyon,6\n');

const flags = `--registry ${world.registry.url} --trusted-root ${world.rootFile}`;
console.log(`mcs-pkg playground: a loopback npm registry serving signed MCS drivers (${releases.map((r) => `${r.name}@${r.version}`).join(', ')})

flags: ${flags}

Walk-through (in another terminal, in an empty folder; mcs-pkg is node dist/cli/bin.js in a checkout):
  export XDG_CACHE_HOME=$PWD/cache                  # keep this playground's cache apart
  mcs-pkg index keygen --out alice.pem
  mkdir my-index
  mcs-pkg index root --out my-index/root.json --member alice.pem --threshold 1 --sign alice.pem
  mcs-pkg index add mcs-driver-csv --index my-index --key alice.pem --reason "review 1" --yes ${flags}
  mcs-pkg index add mcs-driver-notes-toolonly --index my-index --key alice.pem --reason "review 2" --yes ${flags}
  mcs-pkg index label mcs-driver-csv verified --index my-index --key alice.pem --reason "review 3" ${flags}
  mcs-pkg index validate --index my-index
  mcs-pkg index publish --index my-index --out snapshot/ --root my-index/root.json --key alice.pem --snapshot-version 1
  mcs-pkg update --from snapshot/ --root my-index/root.json
  mcs-pkg search csv
  mcs-pkg verify mcs-driver-csv@1.1.0 ${flags}
  mcs-pkg load csv --config '{"baseDir": "${data}"}' ${flags}

Ctrl-C stops the registry${timeoutSeconds ? ` (or it stops by itself in ${timeoutSeconds} s)` : ''}.`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await world.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
if (timeoutSeconds) setTimeout(() => void stop(), timeoutSeconds * 1000);
