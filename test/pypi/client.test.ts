/**
 * The PyPI client against a loopback index: PEP 691 pages, the integrity
 * API, downloads bound by size and sha256, and every misbehaviour refused
 * with its code.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PypiClient, SIMPLE_JSON, toPypiProject, type PypiFile } from '../../src/pypi/client.js';
import { startFixturePypi, type FixturePypi } from '../helpers/fixture-pypi.js';
import { startMockSigstore, type MockSigstore } from '../helpers/mock-sigstore.js';
import { sha256Hex } from '../helpers/pep740.js';
import '../helpers/matchers.js';

const WHEEL = 'mcs_driver_demo-1.0.0-py3-none-any.whl';
const SDIST = 'mcs_driver_demo-1.0.0.tar.gz';
const WHEEL_BYTES = Buffer.from('demo wheel bytes '.repeat(50));
const SDIST_BYTES = Buffer.from('demo sdist bytes');
const PUBLISHER = { repository: 'acme/mcs-demo', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v1.0.0' };

let sigstore: MockSigstore;
let pypi: FixturePypi;
let client: PypiClient;

beforeAll(async () => {
  sigstore = await startMockSigstore();
  pypi = await startFixturePypi({
    sigstore,
    projects: [
      {
        name: 'MCS_Driver.Demo',
        files: [
          { filename: 'mcs_driver_demo-0.9.0.tar.gz', bytes: Buffer.from('old'), yanked: 'broken' },
          { filename: 'mcs_driver_demo-1.1.0rc1.tar.gz', bytes: Buffer.from('rc') },
          { filename: WHEEL, bytes: WHEEL_BYTES, requiresPython: '>=3.11', publisher: PUBLISHER },
          { filename: SDIST, bytes: SDIST_BYTES },
        ],
      },
    ],
  });
}, 60_000);
afterAll(async () => {
  await pypi?.close();
  await sigstore?.close();
});
beforeEach(() => {
  pypi.clearMisbehavior();
  client = new PypiClient({ indexUrl: pypi.indexUrl, timeoutMs: 2000, retries: 0 });
});

const fileOf = async (filename: string): Promise<PypiFile> => (await client.project('mcs-driver-demo')).files.find((f) => f.filename === filename)!;

describe('PypiClient.project', () => {
  it('reads the PEP 691 page under the normalized name, asking for JSON', async () => {
    const project = await client.project('Mcs.Driver_demo');
    expect(project.name).toBe('mcs-driver-demo');
    expect(project.versions).toEqual(['0.9.0', '1.0.0', '1.1.0rc1']);
    expect(pypi.requests.at(-1)).toMatchObject({ path: '/simple/mcs-driver-demo/', accept: SIMPLE_JSON });
    const wheel = project.files.find((f) => f.filename === WHEEL)!;
    expect(wheel).toMatchObject({ sha256: sha256Hex(WHEEL_BYTES), size: WHEEL_BYTES.length, requiresPython: '>=3.11', uploaded: '2026-01-02T03:04:05.000000Z', provenanceUrl: `${pypi.url}integrity/mcs-driver-demo/1.0.0/${WHEEL}/provenance` });
    expect(project.files.find((f) => f.filename === SDIST)!.provenanceUrl).toBeUndefined();
    expect(client.filesOf(project, '1.0.0').map((f) => f.filename)).toEqual([WHEEL, SDIST]);
    expect(client.newest(project)).toBe('1.0.0');
  });

  it('a project the index does not have is E_VERSION_NOT_FOUND', async () => {
    await expect(client.project('mcs-driver-absent')).rejects.toThrowWithCode('E_VERSION_NOT_FOUND');
  });

  it('refuses another content type or API major version with E_REGISTRY_MALFORMED', async () => {
    await pypi.misbehave({ kind: 'content-type', contentType: 'text/html' });
    await expect(client.project('mcs-driver-demo')).rejects.toThrowWithCode('E_REGISTRY_MALFORMED');
    pypi.clearMisbehavior();
    await pypi.misbehave({ kind: 'api-version', version: '2.0' });
    await expect(client.project('mcs-driver-demo')).rejects.toThrowWithCode('E_REGISTRY_MALFORMED');
  });

  it('a stalled page is E_REGISTRY_TIMEOUT, an endless one E_REGISTRY_TOO_LARGE', async () => {
    await pypi.misbehave({ kind: 'stall', path: '/simple/mcs-driver-demo/' });
    await expect(client.project('mcs-driver-demo')).rejects.toThrowWithCode('E_REGISTRY_TIMEOUT');
    pypi.clearMisbehavior();
    await pypi.misbehave({ kind: 'oversize', path: '/simple/mcs-driver-demo/', bytes: 64 * 1024 * 1024 });
    await expect(new PypiClient({ indexUrl: pypi.indexUrl, maxProjectBytes: 1024 * 1024 }).project('mcs-driver-demo')).rejects.toThrowWithCode('E_REGISTRY_TOO_LARGE');
  });

  it('follows a same-origin redirect and refuses one to another host', async () => {
    await pypi.misbehave({ kind: 'redirect', path: '/simple/moved/', location: '/simple/mcs-driver-demo/' });
    expect((await client.project('moved').catch((e: Error) => e)) as Error).toThrowWithCode('E_REGISTRY_MALFORMED'); // the page is for another project
    pypi.clearMisbehavior();
    await pypi.misbehave({ kind: 'redirect', path: '/simple/mcs-driver-demo/', location: 'http://localhost:9/simple/mcs-driver-demo/' });
    await expect(client.project('mcs-driver-demo')).rejects.toThrowWithCode('E_REGISTRY_REDIRECT');
  });

  it('sends credentials from the index URL to the index origin only', async () => {
    const withAuth = new PypiClient({ indexUrl: pypi.indexUrl.replace('http://', 'http://me:secret@'), retries: 0 });
    await withAuth.project('mcs-driver-demo');
    expect(pypi.requests.at(-1)!.authorization).toBe(`Basic ${Buffer.from('me:secret').toString('base64')}`);
  });
});

describe('toPypiProject', () => {
  it('takes versions from file names when the page lists none, and drops files without a sha256', () => {
    const page = { meta: { 'api-version': '1.0' }, name: 'demo', files: [
      { filename: 'demo-2.0.tar.gz', url: '../../files/demo-2.0.tar.gz', hashes: { sha256: 'a'.repeat(64) }, yanked: '' },
      { filename: 'demo-1.0.tar.gz', url: 'demo-1.0.tar.gz', hashes: { md5: 'x' } },
    ] };
    const project = toPypiProject(page, 'Demo', 'https://idx.example/simple/demo/');
    expect(project.versions).toEqual(['2.0']);
    expect(project.files).toEqual([{ filename: 'demo-2.0.tar.gz', url: 'https://idx.example/files/demo-2.0.tar.gz', sha256: 'a'.repeat(64), yanked: true }]);
    expect(() => toPypiProject({ ...page, name: 'other' }, 'demo', 'u')).toThrowWithCode('E_REGISTRY_MALFORMED');
    expect(() => toPypiProject({ ...page, meta: undefined }, 'demo', 'u')).toThrowWithCode('E_REGISTRY_MALFORMED');
  });
});

describe('PypiClient.provenance', () => {
  it('reads the integrity API, and null where the file has none', async () => {
    const provenance = (await client.provenance('mcs-driver-demo', '1.0.0', await fileOf(WHEEL))) as { attestation_bundles: unknown[] };
    expect(provenance.attestation_bundles).toHaveLength(1);
    expect(await client.provenance('mcs-driver-demo', '1.0.0', await fileOf(SDIST))).toBeNull();
    expect(pypi.requests.at(-1)!.path).toBe(`/integrity/mcs-driver-demo/1.0.0/${SDIST}/provenance`);
  });

  it('refuses a provenance URL on another origin', async () => {
    const file = { ...(await fileOf(WHEEL)), provenanceUrl: 'https://elsewhere.example/integrity/x' };
    await expect(client.provenance('mcs-driver-demo', '1.0.0', file)).rejects.toThrowWithCode('E_REGISTRY_REDIRECT');
  });
});

describe('PypiClient.download', () => {
  it('returns the bytes checked against the pin, or against the stated digest without one', async () => {
    const wheel = await fileOf(WHEEL);
    expect(await client.download(wheel, { sha256: sha256Hex(WHEEL_BYTES), size: WHEEL_BYTES.length })).toEqual(WHEEL_BYTES);
    expect(await client.download(wheel)).toEqual(WHEEL_BYTES);
  });

  it('a flipped bit or a pin of other bytes is E_INTEGRITY_MISMATCH', async () => {
    await expect(client.download(await fileOf(WHEEL), { sha256: sha256Hex(SDIST_BYTES) })).rejects.toThrowWithCode('E_INTEGRITY_MISMATCH');
    await pypi.misbehave({ kind: 'flip-bit', filename: WHEEL });
    await expect(client.download(await fileOf(WHEEL))).rejects.toThrowWithCode('E_INTEGRITY_MISMATCH');
  });

  it('a page stating another digest fails the download against it', async () => {
    await pypi.misbehave({ kind: 'wrong-digest', filename: SDIST });
    await expect(client.download(await fileOf(SDIST))).rejects.toThrowWithCode('E_INTEGRITY_MISMATCH');
  });

  it('stops at the pinned size: E_SIZE_MISMATCH', async () => {
    await pypi.misbehave({ kind: 'oversize', path: `/files/${WHEEL}`, bytes: 10 * 1024 * 1024 });
    await expect(client.download(await fileOf(WHEEL), { sha256: sha256Hex(WHEEL_BYTES), size: WHEEL_BYTES.length })).rejects.toThrowWithCode('E_SIZE_MISMATCH');
  });

  it('refuses a file URL off the index origin, and a cross-origin redirect of a file', async () => {
    await pypi.misbehave({ kind: 'file-url', filename: WHEEL, url: `http://localhost:1/files/${WHEEL}` });
    await expect(client.download(await fileOf(WHEEL))).rejects.toThrowWithCode('E_REGISTRY_REDIRECT');
    pypi.clearMisbehavior();
    await pypi.misbehave({ kind: 'redirect', path: `/files/${WHEEL}`, location: `http://localhost:1/files/${WHEEL}` });
    await expect(client.download(await fileOf(WHEEL))).rejects.toThrowWithCode('E_REGISTRY_REDIRECT');
  });

  it('a stalled file is E_REGISTRY_TIMEOUT', async () => {
    await pypi.misbehave({ kind: 'stall', path: `/files/${SDIST}` });
    await expect(client.download(await fileOf(SDIST))).rejects.toThrowWithCode('E_REGISTRY_TIMEOUT');
  });

  it('takes files of pypi.org from files.pythonhosted.org and nowhere else', () => {
    const pypiOrg = new PypiClient({ indexUrl: 'https://pypi.org/simple/' });
    const file = { filename: SDIST, sha256: 'a'.repeat(64) };
    expect(pypiOrg.fileUrl({ ...file, url: `https://files.pythonhosted.org/packages/ab/${SDIST}` })).toBe(`https://files.pythonhosted.org/packages/ab/${SDIST}`);
    expect(() => pypiOrg.fileUrl({ ...file, url: `https://mirror.example/${SDIST}` })).toThrowWithCode('E_REGISTRY_REDIRECT');
    expect(() => client.fileUrl({ ...file, url: `https://files.pythonhosted.org/packages/ab/${SDIST}` })).toThrowWithCode('E_REGISTRY_REDIRECT');
  });
});
