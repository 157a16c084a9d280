/**
 * The README's maintainers' path into the loader, with the real CLI against
 * the loopback registry and the mock Sigstore: index add -> index sync ->
 * load -> index yank -> load -> info. Each version keeps the drivers its own
 * tarball declares, and the loader compares each version's running driver
 * with that version's declaration.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureMcs, packFixtureDriver } from '../helpers/driver-packages.js';
import { removeReadOnlyDir } from '../helpers/index-data.js';
import { publishSigned, startReleaseWorld, type ReleaseWorld } from '../helpers/publish.js';
import { runCli } from '../helpers/cli.js';

const NAME = 'mcs-driver-csv';
const NEW_TOOL = { name: 'tally_records', title: 'Tally', description: 'Tallies the records of a file.' };

let world: ReleaseWorld;
let index: string;

const cli = (args: string[]) => runCli(args, { HOME: world.work, MCS_PKG_CACHE: join(world.work, 'cache') }, 120_000);

const registryFlags = () => ['--registry', world.registry.url, '--trusted-root', world.rootFile];
const author = (why: string) => ['--by', 'alice', '--reason', why];

/** Releases a version of the CSV fixture with provenance; `mcs` replaces the static metadata its package.json declares. */
async function release(version: string, mcs?: Record<string, unknown>): Promise<void> {
  const tarball = packFixtureDriver('csv', { name: NAME, version, ...(mcs ? { mcs } : {}) });
  await publishSigned({ registry: world.registry, sigstore: world.sigstore, key: world.key, indexDir: join(world.work, 'scratch'), repository: 'acme/csv' }, { name: NAME, version, tarball });
}

/** The CSV fixture's declaration for `version`, with one more tool. */
function withNewTool(version: string): Record<string, unknown> {
  const mcs = fixtureMcs('csv', version);
  (mcs.drivers[0]!.tools as unknown[]).push(NEW_TOOL);
  return mcs;
}

async function load(): Promise<Run> {
  return cli(['load', NAME, '--json', '--config', JSON.stringify({ baseDir: world.work }), '--index', index, '--cache-dir', join(world.work, 'loader'), ...registryFlags()]);
}

beforeAll(async () => {
  world = await startReleaseWorld('mcs-flow-meta-');
  index = join(world.work, 'index');
  mkdirSync(index);
});

afterAll(async () => {
  if (world) {
    await Promise.all([world.registry.close(), world.sigstore.close()]);
    removeReadOnlyDir(world.work);
  }
});

describe('add -> sync -> load -> yank -> load -> info', () => {
  it('loads each version against its own declaration, and falls back to an older one after a yank', async () => {
    await release('1.3.0');
    expect((await cli(['index', 'add', NAME, '--yes', '--index', index, ...registryFlags(), ...author('first review')])).code).toBe(0);
    expect((await cli(['index', 'label', NAME, 'verified', '--index', index, ...registryFlags(), ...author('second review')])).code).toBe(0);

    // the registry gains 1.4.0: its meta says 1.4.0, and it declares a new tool
    await release('1.4.0', withNewTool('1.4.0'));
    const sync = await cli(['index', 'sync', NAME, '--json', '--index', index, ...registryFlags(), ...author('weekly sync')]);
    expect(sync.code).toBe(0);
    expect(JSON.parse(sync.stdout).added).toEqual([{ package: NAME, version: '1.4.0', provenance: true }]);
    const entry = JSON.parse(readFileSync(join(index, 'npm', `${NAME}.json`), 'utf8'));
    expect(entry.declarations.map((d: { versions: string[]; drivers: Array<{ meta: { version: string } }> }) => [d.versions, d.drivers[0]!.meta.version])).toEqual([
      [['1.3.0'], '1.3.0'],
      [['1.4.0'], '1.4.0'],
    ]);

    const found = JSON.parse((await cli(['search', 'tally', '--json', '--index', index])).stdout);
    expect(found.results.map((r: { name: string }) => r.name)).toContain(NAME);

    const newest = await load();
    expect(newest.stderr).toBe('');
    expect(newest.code).toBe(0);
    expect(JSON.parse(newest.stdout).receipt).toMatchObject({ package: NAME, version: '1.4.0' });

    expect((await cli(['index', 'yank', `${NAME}@1.4.0`, '--index', index, ...author('breaks on empty files')])).code).toBe(0);
    const fallback = await load();
    expect(fallback.code).toBe(0);
    expect(JSON.parse(fallback.stdout).receipt).toMatchObject({ package: NAME, version: '1.3.0' });

    expect((await cli(['index', 'validate', '--index', index])).code).toBe(0);

    // info shows what each version declares, in text and as JSON
    const text = await cli(['info', NAME, '--index', index]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/1\.3\.0 [^\n]*\n[^\n]*sha512-[^\n]*\n\s*declares CSV Driver 1\.3\.0\n/);
    expect(text.stdout).toMatch(/1\.4\.0 [^\n]*yanked[^\n]*\n[^\n]*sha512-[^\n]*\n\s*declares CSV Driver 1\.4\.0\n/);
    expect(text.stdout).toMatch(/declared by 1\.4\.0\n[\s\S]*tool tally_records/);
    const json = JSON.parse((await cli(['info', NAME, '--json', '--index', index])).stdout);
    const declaredBy = (version: string) => json.entry.declarations.find((d: { versions: string[] }) => d.versions.includes(version)).drivers[0];
    expect(declaredBy('1.3.0').meta.version).toBe('1.3.0');
    expect(declaredBy('1.3.0').tools.map((t: { name: string }) => t.name)).not.toContain(NEW_TOOL.name);
    expect(declaredBy('1.4.0').tools.map((t: { name: string }) => t.name)).toContain(NEW_TOOL.name);

    // search describes the package by the newest live version (1.3.0 after the yank): the tool only 1.4.0 declares is not found
    const search = JSON.parse((await cli(['search', 'tally', '--json', '--index', index])).stdout);
    expect(search.results.map((r: { name: string }) => r.name)).not.toContain(NAME);
  });

  it('still refuses a version whose running driver is not what its own declaration says (E_DRIVER_META, exit 1)', async () => {
    // 1.5.0 runs with meta.version 1.5.0, but its package declares 1.4.9
    const lying = fixtureMcs('csv', '1.4.9');
    await release('1.5.0', lying);
    expect((await cli(['index', 'sync', NAME, '--index', index, ...registryFlags(), ...author('weekly sync')])).code).toBe(0);
    const refused = await load();
    expect(refused.code).toBe(1);
    const error = JSON.parse(refused.stdout).error;
    expect(error.code).toBe('E_DRIVER_META');
    expect(error.message).toContain(`${NAME}@1.5.0`);
    expect(error.details.expected.version).toBe('1.4.9');
    expect(error.details.found.version).toBe('1.5.0');
  });
});
