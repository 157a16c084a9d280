/** `mcs-pkg serve` and `mcs-pkg index site` through the real binary, on the embedded index. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { removeDir, tempDir } from '../helpers/index-data.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
let dir: string;
const env = () => ({ PATH: process.env.PATH ?? '', HOME: dir, MCS_PKG_CACHE: join(dir, 'cache') });

function run(args: string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: env(), encoding: 'utf8' });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  dir = tempDir('mcs-serve-cli-');
});
afterAll(() => removeDir(dir));

it('index site writes a search page, packages.json and a page per package; refuses a folder that is not empty', () => {
  const written = run(['index', 'site', 'site', '--json']);
  expect(written.stderr).toBe('');
  expect(written.status).toBe(0);
  const result = JSON.parse(written.stdout) as { packages: number };
  const shipped = readdirSync(fileURLToPath(new URL('../../index-data/pypi', import.meta.url))).length;
  expect(result.packages).toBe(shipped);
  const packages = JSON.parse(readFileSync(join(dir, 'site', 'packages.json'), 'utf8')) as Array<{ name: string; label: string }>;
  expect(packages.map((p) => p.name)).toContain('mcs-driver-csv');
  const index = readFileSync(join(dir, 'site', 'index.html'), 'utf8');
  expect(index).toContain('<body data-mode="static"');
  expect(index).toContain('<a href="packages/pypi/mcs-driver-csv/">mcs-driver-csv</a>');
  expect(index).toContain('<meta http-equiv="Content-Security-Policy"');
  const page = readFileSync(join(dir, 'site', 'packages', 'pypi', 'mcs-driver-csv', 'index.html'), 'utf8');
  expect(page).toMatch(/<p id="label-summary"><span class="label label-reference">reference<\/span> set by <strong>/);
  expect(page).toContain('href="../../../assets/style.css"');
  expect(readdirSync(join(dir, 'site', 'assets')).sort()).toEqual(['app.js', 'icon.svg', 'style.css']);

  const again = run(['index', 'site', 'site']);
  expect(again.status).toBe(2);
  expect(again.stderr).toMatch(/^error E_USAGE: site is not empty/);
  expect(readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
});

it('index site never writes into the program\'s own files: E_USAGE, exit 2, nothing created', () => {
  const shipped = fileURLToPath(new URL('../../index-data/site-out', import.meta.url));
  const refused = run(['index', 'site', shipped]);
  expect(refused.status).toBe(2);
  expect(refused.stderr).toMatch(/^error E_USAGE: .*site-out/);
  expect(existsSync(shipped)).toBe(false);
});

it('serve answers the API and the page until it is stopped, then exits 0', async () => {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json'], { cwd: dir, env: env() });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]!) as { url: string }).url);
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const search = (await (await fetch(`${url}api/v1/search?q=csv`)).json()) as { results: Array<{ name: string }> };
    expect(search.results[0]!.name).toBe('mcs-driver-csv');
    const page = await fetch(`${url}packages/pypi/mcs-driver-csv/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain('<h1>mcs-driver-csv</h1>');
    const stopped = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await stopped).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

it('serve refuses a port out of range: exit 2, E_USAGE', () => {
  const refused = run(['serve', '--port', '70000']);
  expect(refused.status).toBe(2);
  expect(refused.stderr).toMatch(/^error E_USAGE: port must be a whole number from 0 to 65535/);
});
