/**
 * The reported case end to end: a driver released with valid provenance whose
 * entry point is named by a GNU long-name record followed by a pax header.
 * npm (and tar -t) show that code under the long name; a reader that drops
 * the long name sees it as index.js, the entry point, and the loader ran it.
 * Now the loader refuses the release (exit 1) and no driver code runs, while
 * the same files packed plainly load. The loader runs in a child Node
 * process from dist/, as in test/loader/load.test.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planTarball } from '../../../src/loader/extract.js';
import { fixtureMcs, packFixtureDriver } from '../../helpers/driver-packages.js';
import { publishSigned, startReleaseWorld, type ReleaseWorld } from '../../helpers/publish.js';
import { END_OF_ARCHIVE, paxBody, tarRecord } from '../../helpers/tarball.js';
import { npmInstall } from './npm-view.js';

const BIN = fileURLToPath(new URL('../../../dist/cli/bin.js', import.meta.url));
const REVIEWED_NAME = `reviewed-${'long-name-'.repeat(12)}.js`;

let world: ReleaseWorld;
let indexDir: string;
let marker: string;
let smuggled: Buffer;

/** The fixture's files, repacked with the entry point behind an L record and an x header. */
function repack(name: string, smuggle: boolean): Buffer {
  const files = planTarball(packFixtureDriver('hostile/marker-on-import', { name, version: '1.0.0' })).files;
  const parts = files.flatMap((file) =>
    smuggle && file.relativePath === 'index.js'
      ? [tarRecord({ name: '././@LongLink', type: 'L' }, `package/${REVIEWED_NAME}\0`), tarRecord({ name: 'PaxHeader/index.js', type: 'x' }, paxBody([['mtime', '1700000000']])), tarRecord({ name: 'package/index.js' }, file.data)]
      : [tarRecord({ name: `package/${file.relativePath}` }, file.data)],
  );
  return gzipSync(Buffer.concat([...parts, END_OF_ARCHIVE]));
}

function load(name: string): Promise<{ code: number; stdout: string }> {
  // in process: the marker a driver's code writes needs the caller's environment, which the host scrubs
  const args = ['load', name, '--json', '--isolation', 'none', '--index', indexDir, '--cache-dir', join(world.work, `cache-${name}`), '--registry', world.registry.url, '--trusted-root', world.rootFile];
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: world.work, NO_PROXY: '127.0.0.1', MCS_TEST_MARKER: marker } }, (error, stdout) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout });
    });
  });
}

const markerLines = () => (existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean) : []);

beforeAll(async () => {
  world = await startReleaseWorld('mcs-tar-e2e-');
  indexDir = join(world.work, 'index');
  marker = join(world.work, 'marker.txt');
  const target = { registry: world.registry, sigstore: world.sigstore, key: world.key, indexDir, repository: 'acme/drivers' };
  smuggled = repack('mcs-driver-smuggled', true);
  const declared = fixtureMcs('hostile/marker-on-import', '1.0.0').drivers;
  // the index holds one package per driver id: the smuggled one (never imported) gets another
  const renamed = declared.map((driver) => ({ ...driver, meta: { ...(driver.meta as object), id: '6a1f1f0e-2b7c-4d0a-9e51-3c2d1b0a9f81' } }));
  await publishSigned(target, { name: 'mcs-driver-smuggled', version: '1.0.0', tarball: smuggled, drivers: renamed as never });
  await publishSigned(target, { name: 'mcs-driver-plainly', version: '1.0.0', tarball: repack('mcs-driver-plainly', false), drivers: declared as never });
}, 60_000);

afterAll(async () => {
  await world?.close();
});

describe('a GNU long name followed by a pax header, released with valid provenance', () => {
  it('npm installs the code under the long name, not as the entry point', async () => {
    const installed = await npmInstall(smuggled);
    expect(Object.keys('files' in installed ? installed.files : {})).toContain(REVIEWED_NAME);
    expect(Object.keys('files' in installed ? installed.files : {})).not.toContain('index.js');
  });

  it('is refused by the loader (exit 1, E_LOAD_REFUSED for an unreadable tarball) and no driver code runs; packed plainly it loads', async () => {
    writeFileSync(marker, '');
    const refused = await load('mcs-driver-smuggled');
    expect(refused.code).toBe(1);
    const error = JSON.parse(refused.stdout).error as { code: string };
    expect(error.code).toBe('E_LOAD_REFUSED');
    expect(refused.stdout).toContain('E_TARBALL_INVALID');
    expect(markerLines()).toEqual([]);
    expect(existsSync(join(world.work, 'cache-mcs-driver-smuggled', 'loader', 'drivers'))).toBe(false);

    const plain = await load('mcs-driver-plainly');
    expect(plain.code, plain.stdout).toBe(0);
    expect(markerLines()).toHaveLength(1);
  });
});
