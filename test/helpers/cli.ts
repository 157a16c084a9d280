/** The real CLI in a child process, for tests that assert what a user of the command line sees: exit code, output, and how long it took (a read that hangs is killed and shows as a timeout). */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));

export interface CliRun {
  /** Exit code; null when the process had to be killed at the deadline. */
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs mcs-pkg asynchronously (loopback servers in the test process keep answering), killing it after `deadlineMs`. */
export function runCli(args: string[], env: Record<string, string>, deadlineMs = 20_000): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', NO_PROXY: '127.0.0.1', ...env }, encoding: 'utf8', timeout: deadlineMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const killed = error !== null && (error as { killed?: boolean }).killed === true;
      resolve({ code: killed ? null : error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The coded error a --json run printed. */
export function errorOf(run: CliRun): { code: string; message: string; details: Record<string, unknown> } {
  return (JSON.parse(run.stdout) as { error: { code: string; message: string; details: Record<string, unknown> } }).error;
}
