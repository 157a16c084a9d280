/**
 * Files that are not files: devices, FIFOs, /proc, folders where a file is
 * expected, and cache folders that cannot be made. Every one must be refused
 * at once with a coded error naming it, through the real CLI; a read that
 * hangs or grows is killed at the deadline and fails the test.
 */
import { execFile, execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileCapped } from '../../../src/files.js';
import { makeRoot, signMetadata } from '../../../src/snapshot/metadata.js';
import { npmDriver, removeDir, tempDir, writeEntry } from '../../helpers/index-data.js';
import { errorOf, runCli, type CliRun } from '../../helpers/cli.js';

/** Well within the deadline: the refusals below take one process start, not a read of the device. */
const FAST_MS = 15_000;

let work: string;
let env: Record<string, string>;
let trustedRoot: string;
let indexRoot: string;

beforeAll(() => {
  work = tempDir('mcs-reads-files-');
  env = { HOME: work, MCS_PKG_CACHE: join(work, 'cache') };
  // a trusted root file that passes the shape check, so the next input in line is the one read
  trustedRoot = join(work, 'trusted_root.json');
  writeFileSync(trustedRoot, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' }));
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  indexRoot = join(work, 'root.json');
  writeFileSync(indexRoot, JSON.stringify(signMetadata(makeRoot({ version: 1, expires: '2030-01-01T00:00:00Z', maintainers: [publicKey], threshold: 1 }), [privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()])));
});
afterAll(() => removeDir(work));

function expectRefused(run: CliRun, code: string, pattern: RegExp): void {
  expect(run.code, `killed or wrong exit after ${run.ms} ms: ${run.stderr}${run.stdout}`).toBe(2);
  expect(run.ms).toBeLessThan(FAST_MS);
  const error = errorOf(run);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(pattern);
}

describe('user-named files that are not regular files', () => {
  it('--trusted-root /dev/zero is refused unread (E_TRUST_ROOT), not read until memory runs out', async () => {
    const run = await runCli(['verify', 'mcs-driver-csv@1.0.0', '--json', '--registry', 'http://127.0.0.1:9/', '--trusted-root', '/dev/zero'], env);
    expectRefused(run, 'E_TRUST_ROOT', /trusted root \/dev\/zero is a character device, not a regular file/);
  });

  it('--registry-keys /dev/urandom is refused unread (E_REGISTRY_KEYS)', async () => {
    const run = await runCli(['verify', 'mcs-driver-csv@1.0.0', '--json', '--registry', 'http://127.0.0.1:9/', '--trusted-root', trustedRoot, '--registry-keys', '/dev/urandom'], env);
    expectRefused(run, 'E_REGISTRY_KEYS', /registry keys \/dev\/urandom is a character device, not a regular file/);
  });

  it('a FIFO given as the trusted root is refused without waiting for a writer', async () => {
    const fifo = join(work, 'root-fifo.json');
    execFileSync('mkfifo', [fifo]);
    const run = await runCli(['verify', 'mcs-driver-csv@1.0.0', '--json', '--registry', 'http://127.0.0.1:9/', '--trusted-root', fifo], env);
    expectRefused(run, 'E_TRUST_ROOT', /is a FIFO \(named pipe\), not a regular file/);
  });

  it('--config @/dev/zero and --config @FOLDER are refused (E_USAGE)', async () => {
    expectRefused(await runCli(['load', 'csv', '--json', '--config', '@/dev/zero'], env), 'E_USAGE', /config file \/dev\/zero is a character device/);
    expectRefused(await runCli(['load', 'csv', '--json', '--config', `@${work}`], env), 'E_USAGE', /is a folder, not a regular file/);
  });

  it('update --root /dev/zero is refused (E_USAGE)', async () => {
    expectRefused(await runCli(['update', '--json', '--from', work, '--root', '/dev/zero'], env), 'E_USAGE', /index root \/dev\/zero is a character device/);
  });
});

describe('snapshot folders with planted FIFOs', () => {
  for (const name of ['snapshot.json', '2.root.json']) {
    it(`a FIFO named ${name} in an update --from folder is refused (E_INDEX_IO), no hang`, async () => {
      const from = join(work, `from-${name}`);
      mkdirSync(from);
      execFileSync('mkfifo', [join(from, name)]);
      const run = await runCli(['update', '--json', '--from', from, '--root', indexRoot, '--cache-dir', join(work, `cache-${name}`)], env);
      expectRefused(run, 'E_INDEX_IO', new RegExp(`snapshot file .*${name.replace('.', '\\.')} is a FIFO \\(named pipe\\), not a regular file`));
    });
  }
});

describe('cache folders that cannot be made or used', () => {
  it('--cache-dir /proc/self fails fast naming the path (E_INDEX_IO for search, E_TRUST_ROOT for the TUF cache)', async () => {
    expectRefused(await runCli(['search', 'csv', '--json', '--cache-dir', '/proc/self'], env), 'E_INDEX_IO', /index cache \/proc\/self\/index\/[0-9a-f]+ cannot be created or used/);
    expectRefused(await runCli(['update', '--json', '--from', work, '--root', indexRoot, '--cache-dir', '/proc/self'], env), 'E_INDEX_IO', /index state folder \/proc\/self\/index-state cannot be created or used/);
    expectRefused(await runCli(['verify', 'mcs-driver-csv@1.0.0', '--json', '--registry', 'http://127.0.0.1:9/', '--cache-dir', '/proc/self'], env), 'E_TRUST_ROOT', /TUF cache folder \/proc\/self\/tuf cannot be created or used/);
  });

  it('--cache-dir naming a file says that the file is in the way', async () => {
    const file = join(work, 'not-a-folder');
    writeFileSync(file, 'x');
    expectRefused(await runCli(['search', 'csv', '--json', '--cache-dir', file], env), 'E_INDEX_IO', new RegExp(`${file} is a regular file, not a folder`));
  });
});

describe('the one reader', () => {
  it('refuses a file whose size lies (/proc) once it reads past the cap, and reads it when it fits', () => {
    expect(() => readFileCapped('/proc/self/status', 64, 'status file')).toThrowWithCode('E_USAGE');
    expect(() => readFileCapped('/proc/self/status', 64, 'status file')).toThrow(/grew past the limit of 64 bytes/);
    expect(readFileCapped('/proc/self/status', 1024 * 1024, 'status file').toString('utf8')).toMatch(/^Name:/);
  });

  it('reads a file exactly at the cap, and refuses one byte more unread', () => {
    const file = join(work, 'sized.bin');
    writeFileSync(file, Buffer.alloc(100, 1));
    expect(readFileCapped(file, 100, 'file').length).toBe(100);
    expect(() => readFileCapped(file, 99, 'file', { code: 'E_INDEX_IO', tooLargeCode: 'E_INDEX_TOO_LARGE' })).toThrowWithCode('E_INDEX_TOO_LARGE');
  });

  it('reads index-data entries through it: a FIFO in place of an entry is refused (E_INDEX_IO) in a child process that would otherwise hang', async () => {
    const indexDir = join(work, 'fifo-index');
    writeEntry(indexDir, npmDriver('mcs-driver-csv'));
    mkdirSync(join(indexDir, 'npm'), { recursive: true });
    execFileSync('mkfifo', [join(indexDir, 'npm', 'mcs-driver-rest.json')]);
    const entryModule = new URL('../../../dist/src/index/entry.js', import.meta.url).href;
    const script = `import(${JSON.stringify(entryModule)}).then((m) => { try { m.readEntry(${JSON.stringify(indexDir)}, 'npm/mcs-driver-rest.json'); console.log('read'); } catch (e) { console.log(e.code + ' ' + e.message); } });`;
    const started = Date.now();
    const out = await new Promise<string>((resolve) => {
      execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 15_000, killSignal: 'SIGKILL', encoding: 'utf8' }, (error, stdout) => resolve(error ? `killed: ${String(error)}` : stdout));
    });
    expect(Date.now() - started).toBeLessThan(FAST_MS);
    expect(out).toMatch(/^E_INDEX_IO index entry .*mcs-driver-rest\.json is a FIFO \(named pipe\), not a regular file/);
  });
});
