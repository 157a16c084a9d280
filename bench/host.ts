/**
 * The driver host's figures, each beside the floor it stands on, measured in
 * the same run: a fresh host's spawn to ready against a bare `node -e ""`
 * and against the same confinement chain starting an empty script; a small
 * execute_tool round trip through the host against the same call in process;
 * pipelined calls per second through one host; the memory of an idle host.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { probeNetworkNamespace, probeParentDeathSignal } from '../src/host/confine.js';
import { loadDriver, type LoadOptions } from '../src/loader/load.js';
import { median, percentile } from './common.js';

const RUNS = 15;

type CsvTools = { execute_tool(name: string, args: Record<string, unknown>): Promise<unknown> };

/** Spawn to exit of a process, in ms. */
function processMs(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command} exited ${code}`))));
  });
}

/** The host's exec chain (as applied here) starting node under the permission model with an empty script. */
function emptyChain(): [string, string[]] {
  let command = process.execPath;
  let args = ['--experimental-permission', '--disable-warning=ExperimentalWarning', '-e', ''];
  const parentDeath = probeParentDeathSignal();
  if ('setpriv' in parentDeath) [command, args] = [parentDeath.setpriv, ['--pdeathsig', 'KILL', command, ...args]];
  const netns = probeNetworkNamespace();
  if ('unshare' in netns) [command, args] = [netns.unshare, ['--user', '--net', '--map-root-user', command, ...args]];
  return [command, args];
}

/** CPU time (user + system) a process has used, in ms, from its /proc stat line (NaN elsewhere). */
function cpuMsOf(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, in clock ticks (100 per second on Linux)
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function hostCpuMs(pid: number): number {
  try {
    return cpuMsOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return NaN;
  }
}

/** The CPU a bare node uses from exec to the end of an empty script, read the same way. */
function bareCpuMs(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', "process.stdout.write(require('fs').readFileSync('/proc/self/stat', 'utf8'))"], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', () => resolve(out ? cpuMsOf(out) : NaN));
  });
}

async function roundTrips(driver: CsvTools, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await driver.execute_tool('list_csv_files', {});
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}

export async function hostFigures(hosted: LoadOptions, inProcess: LoadOptions, kB: number): Promise<void> {
  const spawnToReady: number[] = [];
  const warmLoad: number[] = [];
  const bare: number[] = [];
  const chain: number[] = [];
  const bareCpu: number[] = [];
  const readyCpu: number[] = [];
  const [chainCommand, chainArgs] = emptyChain();
  for (let i = 0; i < RUNS; i++) {
    bare.push(await processMs(process.execPath, ['-e', '']));
    chain.push(await processMs(chainCommand, chainArgs));
    bareCpu.push(await bareCpuMs());
    let spawned = 0;
    let ready = 0;
    const t = performance.now();
    const loaded = await loadDriver('csv', {
      ...hosted,
      onEvent: (e) => {
        if (e.phase === 'spawn') spawned = performance.now();
        if (e.phase === 'ready') {
          ready = performance.now();
          readyCpu.push(hostCpuMs(e.pid!));
        }
      },
    });
    warmLoad.push(performance.now() - t);
    spawnToReady.push(ready - spawned);
    await loaded.close();
  }
  const host = await loadDriver('csv', hosted);
  const local = await loadDriver('csv', inProcess);
  await roundTrips(host.driver as unknown as CsvTools, 500);
  await roundTrips(local.driver as unknown as CsvTools, 500);
  const viaHost = await roundTrips(host.driver as unknown as CsvTools, 5000);
  const direct = await roundTrips(local.driver as unknown as CsvTools, 5000);
  const throughput = async (inFlight: number, calls: number) => {
    const t = performance.now();
    for (let i = 0; i < calls / inFlight; i++) await Promise.all(Array.from({ length: inFlight }, () => (host.driver as unknown as CsvTools).execute_tool('list_csv_files', {})));
    return calls / ((performance.now() - t) / 1000);
  };
  const receipt = host.receipt.host;
  const pid = receipt.isolation === 'process' ? receipt.pid : 0;
  await throughput(100, 5_000);
  // CPU per call on each side, which a busy machine does not change as it changes wall time
  const clientBefore = process.cpuUsage();
  const hostBefore = hostCpuMs(pid);
  const perSecond100 = await throughput(100, 20_000);
  const clientUs = ((process.cpuUsage(clientBefore).user + process.cpuUsage(clientBefore).system) / 20_000);
  const hostUs = ((hostCpuMs(pid) - hostBefore) * 1000) / 20_000;
  const perSecond1000 = await throughput(1000, 20_000);
  await new Promise((resolve) => setTimeout(resolve, 500)); // idle
  let rssKb = NaN;
  try {
    rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    // not Linux
  }
  const layers = receipt.isolation === 'process' ? receipt.layers.filter((l) => l.applied).map((l) => l.layer).join(', ') : '';
  await host.close();
  await local.close();
  const [start, floor, empty] = [median(spawnToReady), median(bare), median(chain)];
  const p50 = (sorted: number[]) => percentile(sorted, 50);
  console.log(`\n(g) driver host, the same ${kB} kB driver, warm cache, medians of ${RUNS} (layers applied here: ${layers})`);
  console.log(`  bare node -e "" (spawn to exit)                     ${floor.toFixed(1)} ms`);
  console.log(`  the confinement chain, empty script                 ${empty.toFixed(1)} ms (${(empty / floor).toFixed(2)}x bare)`);
  console.log(`  spawn to ready (fresh process: re-hash, import)     ${start.toFixed(1)} ms = ${(start / floor).toFixed(2)}x bare node (target <= 80 ms)`);
  console.log(`  CPU from exec to ready, host / bare node to exit     ${median(readyCpu).toFixed(0)} / ${median(bareCpu).toFixed(0)} ms (10 ms ticks)`);
  console.log(`  warm load through the host (resolve + spawn)        ${median(warmLoad).toFixed(1)} ms`);
  console.log(`  execute_tool round trip, host / in process (p50)    ${p50(viaHost).toFixed(3)} / ${p50(direct).toFixed(3)} ms: overhead ${(p50(viaHost) - p50(direct)).toFixed(3)} ms (target <= 0.3 ms); p99 ${percentile(viaHost, 99).toFixed(3)} ms`);
  console.log(`  small calls through one host, 100 / 1000 in flight  ${Math.round(perSecond100)} / ${Math.round(perSecond1000)} calls/s (target 10,000)`);
  console.log(`  CPU per pipelined call, client / host               ${clientUs.toFixed(1)} / ${Number.isNaN(hostUs) ? 'n/a' : hostUs.toFixed(1)} µs: ${Math.round(1e6 / Math.max(clientUs, Number.isNaN(hostUs) ? 0 : hostUs))} calls/s with a core each`);
  console.log(`  memory of an idle host (RSS)                        ${Number.isNaN(rssKb) ? 'n/a' : `${(rssKb / 1024).toFixed(1)} MB`}`);
}
