/**
 * verifyFromPypi against the loopback PyPI: which version, each file
 * against its pin and its attestation, and every misbehaviour of the index
 * named by its code.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyFromPypi, type PypiVersionVerdict, type VerifyPypiOptions } from '../../src/pypi/online.js';
import type { DistVerdict } from '../../src/pypi/verify.js';
import { removeDir, tempDir } from '../helpers/index-data.js';
import { PLAIN_SDIST, PUBLISHER, TP_SDIST, TP_WHEEL, startPypiWorld, type PypiWorld } from './fixture-index.js';
import '../helpers/matchers.js';

let scratch: string;
let world: PypiWorld;
let options: VerifyPypiOptions;

beforeAll(async () => {
  scratch = tempDir('mcs-pypi-online-');
  world = await startPypiWorld(scratch);
  options = { pypi: { indexUrl: world.pypi.indexUrl, timeoutMs: 1500, retries: 0 }, trustedRoot: world.rootFile, index: { indexDir: world.indexDir, cacheDir: join(scratch, 'cache') } };
}, 60_000);
afterAll(async () => {
  await world?.close();
  removeDir(scratch);
});
beforeEach(() => world.pypi.clearMisbehavior());

async function one(spec: string, extra: Partial<VerifyPypiOptions> = {}): Promise<PypiVersionVerdict> {
  const [result] = await verifyFromPypi([spec], { ...options, ...extra });
  if ('error' in result!) throw result.error;
  return result!;
}
const file = (verdict: PypiVersionVerdict, filename: string) => verdict.files.find((f) => f.filename === filename)!;
const failedCodes = (verdict: DistVerdict) => verdict.results.filter((r) => r.status === 'fail').map((r) => r.code);
const errorCode = (entry: PypiVersionVerdict['files'][number]) => ('error' in entry ? entry.error.code : undefined);

describe('verifyFromPypi: the version and its files', () => {
  it('verifies a Trusted Publishing driver end to end: the newest pinned version, every file against its pin and the pinned publisher', async () => {
    const verdict = await one('pypi:mcs-driver-tp');
    expect(verdict).toMatchObject({ package: 'mcs-driver-tp', version: '1.0.0', versionSource: 'newest pinned', newestOnIndex: '1.1.0', pinned: true, status: 'verified', indexSource: '--index-url' });
    expect(verdict.files.map((f) => [f.filename, 'status' in f ? f.status : f.error.code])).toEqual([[TP_WHEEL, 'verified'], [TP_SDIST, 'verified']]);
    const wheel = file(verdict, TP_WHEEL) as DistVerdict;
    expect(wheel.results.map((r) => `${r.check}:${r.status}`)).toEqual(['filename:pass', 'integrity:pass', 'size:pass', 'provenance:pass', 'identity:pass']);
    expect(wheel.identitySource).toBe('index');
  });

  it('a trusted root that cannot be read leaves an attested version not checked, never pinned-by-digest', async () => {
    // no pinned root: the TUF mirror is asked, and it does not answer
    const { trustedRoot: _pinned, ...unpinned } = options;
    const [result] = await verifyFromPypi(['pypi:mcs-driver-tp'], { ...unpinned, tuf: { mirrorURL: 'http://127.0.0.1:9/', cachePath: join(scratch, 'tuf-unreachable'), timeoutMs: 1000 } });
    if ('error' in result!) throw result.error;
    const verdict = result!;
    expect(verdict.status).toBe('not-checked');
    expect(verdict.files.some((f) => 'error' in f)).toBe(true);
  });

  it('a version asked for in another PEP 440 spelling (1.0 for 1.0.0) is that version', async () => {
    expect(await one('pypi:mcs-driver-tp@1.0')).toMatchObject({ version: '1.0.0', versionSource: 'requested', pinned: true, status: 'verified' });
  });

  it('a driver pinned by digest alone says so plainly', async () => {
    const before = world.pypi.requests.length;
    const verdict = await one('pypi:mcs-driver-plain');
    expect(verdict).toMatchObject({ version: '0.1.3', versionSource: 'newest pinned', newestOnIndex: '0.1.4', status: 'pinned-by-digest' });
    const sdist = file(verdict, PLAIN_SDIST) as DistVerdict;
    expect(sdist.results.find((r) => r.check === 'provenance')).toMatchObject({ status: 'skip', message: `${PLAIN_SDIST}: no provenance expected: pinned by digest` });
    expect(sdist.results.find((r) => r.check === 'integrity')!.status).toBe('pass');
    // no attestation to verify: no provenance request, and no trusted root needed
    expect(world.pypi.requests.slice(before).map((r) => r.path)).toEqual(['/simple/mcs-driver-plain/', `/files/${PLAIN_SDIST}`]);
  });

  it('an unpinned version is E_POLICY_UNPINNED unless digest-only is asked for', async () => {
    const strict = await one('pypi:mcs-driver-plain@0.1.4');
    expect(strict).toMatchObject({ pinned: false, status: 'unpinned' });
    expect(strict.results).toEqual([expect.objectContaining({ status: 'fail', code: 'E_POLICY_UNPINNED' })]);
    const loose = await one('pypi:mcs-driver-plain@0.1.4', { digestOnly: true });
    expect(loose.results).toEqual([expect.objectContaining({ status: 'skip' })]);
    expect(loose.files.map((f) => 'status' in f && f.status)).toEqual(['missing-provenance']);
  });

  it('a project the index does not list: the newest on the PyPI index, unpinned', async () => {
    expect(await one('pypi:MCS_Driver.Unlisted')).toMatchObject({ package: 'mcs-driver-unlisted', version: '3.0.0', versionSource: 'newest on the index', pinned: false, status: 'unpinned' });
  });

  it('names a pinned file the index does not serve (E_DIST_MISSING) and a served file it does not pin (E_DIST_UNPINNED)', async () => {
    const verdict = await one('pypi:mcs-driver-gaps');
    expect(verdict.status).toBe('failed');
    expect(verdict.results.map((r) => r.code)).toEqual(['E_DIST_MISSING', 'E_DIST_UNPINNED']);
    expect(verdict.files).toEqual([]);
    expect(world.pypi.requests.some((r) => r.path === '/files/mcs_driver_gaps-2.0.0.tar.gz')).toBe(false);
  });

  it('a version on neither is E_VERSION_NOT_FOUND, a project not on PyPI too', async () => {
    const [missing, absent] = await verifyFromPypi(['pypi:mcs-driver-tp@9.9.9', 'pypi:mcs-driver-nowhere'], options);
    expect((missing as { error: Error }).error).toThrowWithCode('E_VERSION_NOT_FOUND');
    expect((absent as { error: Error }).error).toThrowWithCode('E_VERSION_NOT_FOUND');
  });
});

describe('verifyFromPypi: a misbehaving index', () => {
  it('a page stating another digest than the pin: E_INTEGRITY_MISMATCH, not downloaded', async () => {
    await world.pypi.misbehave({ kind: 'wrong-digest', filename: TP_WHEEL });
    const before = world.pypi.requests.length;
    const verdict = await one('pypi:mcs-driver-tp');
    expect(verdict.status).toBe('failed');
    expect(errorCode(file(verdict, TP_WHEEL))).toBe('E_INTEGRITY_MISMATCH');
    expect(world.pypi.requests.slice(before).map((r) => r.path)).not.toContain(`/files/${TP_WHEEL}`);
    expect(world.pypi.requests.slice(before).map((r) => r.path)).toContain(`/files/${TP_SDIST}`);
  });

  it('a flipped bit in the served file: E_INTEGRITY_MISMATCH', async () => {
    await world.pypi.misbehave({ kind: 'flip-bit', filename: TP_SDIST });
    const verdict = await one('pypi:mcs-driver-tp');
    expect(verdict.status).toBe('failed');
    expect(errorCode(file(verdict, TP_SDIST))).toBe('E_INTEGRITY_MISMATCH');
    expect((file(verdict, TP_WHEEL) as DistVerdict).status).toBe('verified');
  });

  it('stripped provenance where the index expects it: E_PROVENANCE_MISSING', async () => {
    await world.pypi.misbehave({ kind: 'strip-provenance', filename: TP_WHEEL });
    const verdict = await one('pypi:mcs-driver-tp');
    expect(verdict.status).toBe('failed');
    expect(failedCodes(file(verdict, TP_WHEEL) as DistVerdict)).toEqual(['E_PROVENANCE_MISSING']);
  });

  it.each([
    ['another repository', { ...PUBLISHER, repository: 'mallory/mcs-python' }, 'repository'],
    ['another workflow', { ...PUBLISHER, workflow: '.github/workflows/other.yml' }, 'workflow'],
    ['another ref', { ...PUBLISHER, ref: 'refs/heads/main' }, 'ref'],
  ])('an attestation by %s: E_IDENTITY_MISMATCH naming the field', async (_, publisher, field) => {
    await world.pypi.misbehave({ kind: 'other-publisher', filename: TP_SDIST, publisher });
    const verdict = await one('pypi:mcs-driver-tp');
    expect(verdict.status).toBe('failed');
    const identity = (file(verdict, TP_SDIST) as DistVerdict).results.find((r) => r.check === 'identity')!;
    expect(identity).toMatchObject({ status: 'fail', code: 'E_IDENTITY_MISMATCH', evidence: { mismatch: { field } } });
  });

  it('a file URL off the index origin, or a redirect to another host: E_REGISTRY_REDIRECT', async () => {
    await world.pypi.misbehave({ kind: 'file-url', filename: TP_WHEEL, url: `http://localhost:1/files/${TP_WHEEL}` });
    await world.pypi.misbehave({ kind: 'redirect', path: `/files/${TP_SDIST}`, location: `http://localhost:1/files/${TP_SDIST}` });
    const verdict = await one('pypi:mcs-driver-tp');
    expect([errorCode(file(verdict, TP_WHEEL)), errorCode(file(verdict, TP_SDIST))]).toEqual(['E_REGISTRY_REDIRECT', 'E_REGISTRY_REDIRECT']);
  });

  it('a same-origin redirect of a file is followed', async () => {
    await world.pypi.misbehave({ kind: 'redirect', path: `/moved/${TP_SDIST}`, location: `/files/${TP_SDIST}` });
    await world.pypi.misbehave({ kind: 'file-url', filename: TP_SDIST, url: `${world.pypi.url}moved/${TP_SDIST}` });
    expect((await one('pypi:mcs-driver-tp')).status).toBe('verified');
  });

  it('an oversize file stops at the pinned size: E_SIZE_MISMATCH', async () => {
    await world.pypi.misbehave({ kind: 'oversize', path: `/files/${TP_WHEEL}`, bytes: 8 * 1024 * 1024 });
    const verdict = await one('pypi:mcs-driver-tp');
    expect(verdict.status).toBe('failed');
    expect(errorCode(file(verdict, TP_WHEEL))).toBe('E_SIZE_MISMATCH');
  });

  it('a stalled file or page: E_REGISTRY_TIMEOUT', async () => {
    await world.pypi.misbehave({ kind: 'stall', path: `/files/${TP_WHEEL}` });
    expect(errorCode(file(await one('pypi:mcs-driver-tp'), TP_WHEEL))).toBe('E_REGISTRY_TIMEOUT');
    await world.pypi.misbehave({ kind: 'stall', path: '/simple/mcs-driver-tp/' });
    const [result] = await verifyFromPypi(['pypi:mcs-driver-tp'], options);
    expect((result as { error: Error }).error).toThrowWithCode('E_REGISTRY_TIMEOUT');
  });
});
