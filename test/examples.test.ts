/** The examples in examples/ run as the README says and print a real tool result. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('autoloads the CSV driver by capability and prints the DriverResponse of a tool call', async () => {
  const script = fileURLToPath(new URL('../dist/examples/csv-agent.js', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_PROXY: '127.0.0.1' } });
  expect(stdout).toContain('loaded mcs-driver-csv@1.0.0: verified');
  // it ran in the confined host, the data folder its only granted read
  expect(stdout).toMatch(/^ {2}spawn mcs-driver-csv@1\.0\.0$/m);
  expect(stdout).toMatch(/^ {2}applied node-permission: /m);
  expect(stdout).toMatch(/^ {2}applied network-namespace: /m);
  const response = JSON.parse(stdout.slice(stdout.indexOf('DriverResponse:') + 'DriverResponse:'.length));
  expect(response).toMatchObject({ call_executed: true, call_failed: false, tool_call_result: { column: 'units', count: 3, sum: 19, min: 4, max: 9, median: 6 } });
});

it('npm run example:python: the same agent against a Python driver, confined in the Python host', async () => {
  const script = fileURLToPath(new URL('../dist/examples/csv-agent-python.js', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NO_PROXY: '127.0.0.1' } });
  expect(stdout).toMatch(/^loaded mcs-driver-csvchat@1\.0\.0 on Python 3\.\d+\.\d+$/m);
  expect(stdout).toMatch(/^ {2}wheel mcs-driver-csvchat 1\.0\.0: sha256 [0-9a-f]{16}\.\.\. attested$/m);
  expect(stdout).toMatch(/^ {2}applied bubblewrap: /m);
  const response = JSON.parse(stdout.slice(stdout.indexOf('DriverResponse:') + 'DriverResponse:'.length));
  expect(response).toMatchObject({ call_executed: true, call_failed: false, tool_call_result: { count: 3, min: 4, max: 9 } });
}, 60_000);
