/**
 * The Python host: spawn to first call ready for a Python driver with two
 * dependency folders, warm (interpreter and bubblewrap probed once), and the
 * per-call overhead of a small execute_tool through the host against calling
 * the same Python method in a Python process. Run alone with
 * `node dist/bench/python-host.js` after a build.
 */
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import type { MCSToolDriver } from '../src/contract/index.js';
import { tmpdir } from 'node:os';
import { findPython, planPythonConfinement, probeBubblewrap, pythonHostScript, startPythonHost, type StartPythonHostInput } from '../src/host/python.js';
import { PYTHON_DECLARED, PYTHON_PATHS } from '../test/helpers/python-drivers.js';
import { ms, percentile } from './common.js';

const RUNS = 20;
const CALLS = 2000;
const ARGS = { text: 'city,units\nParis,4\nLyon,6\n' };

function input(which: 'csv' | 'csvchat'): StartPythonHostInput {
  return { spec: `mcs-driver-${which}@1.0.0`, package: `mcs-driver-${which}`, version: '1.0.0', permissions: [], paths: PYTHON_PATHS[which](), declared: PYTHON_DECLARED[which], config: {} };
}

/** p50 of one execute_tool in the driver's own Python process, in ms. */
function inProcessP50(): number {
  const script = `
import json, sys, time
sys.path[:0] = json.loads(sys.argv[1])
from mcs.driver.csv.tooldriver import CsvToolDriver
d = CsvToolDriver()
args = json.loads(sys.argv[2])
for _ in range(200): d.execute_tool("parse_csv", args)
t = []
for _ in range(${CALLS}):
    s = time.perf_counter_ns(); d.execute_tool("parse_csv", args); t.append(time.perf_counter_ns() - s)
t.sort(); print(t[len(t) // 2] / 1e6)
`;
  const run = spawnSync(findPython().executable, ['-I', '-S', '-B', '-c', script, JSON.stringify(PYTHON_PATHS.csv()), JSON.stringify(ARGS)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`in-process Python run failed: ${run.stderr}`);
  return Number(run.stdout.trim());
}

export async function pythonHostFigures(): Promise<void> {
  const interpreter = findPython();
  // the first start probes the interpreter and bubblewrap; later starts reuse what was found, as a long-lived client does
  await (await startPythonHost(input('csvchat'))).close();
  const ready: number[] = [];
  let layers = '';
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const hosted = await startPythonHost(input('csvchat'));
    ready.push(performance.now() - t0);
    layers = hosted.receipt.layers.filter((l) => l.applied).map((l) => l.layer).join(', ');
    await hosted.close();
  }
  ready.sort((a, b) => a - b);
  // the floor: the interpreter alone, as the host starts it, without and with the sandbox
  const bare: number[] = [];
  const sandboxed: number[] = [];
  const sandbox = probeBubblewrap(undefined, interpreter);
  for (let i = 0; i < RUNS; i++) {
    let t0 = performance.now();
    spawnSync(interpreter.executable, ['-I', '-S', '-B', '-c', 'pass']);
    bare.push(performance.now() - t0);
    if ('bwrap' in sandbox) {
      const plan = planPythonConfinement({ permissions: [], grants: {}, workDir: tmpdir(), environment: {}, netns: { missing: 'n/a' }, parentDeath: { missing: 'n/a' }, stderrCapBytes: 1024, interpreter, paths: PYTHON_PATHS.csvchat(), hostScript: pythonHostScript(), sandbox, maxMessageBytes: 1024 });
      const args = plan.args.slice(0, plan.args.indexOf('--') + 1);
      t0 = performance.now();
      spawnSync(plan.command, [...args, interpreter.executable, '-I', '-S', '-B', '-c', 'pass']);
      sandboxed.push(performance.now() - t0);
    }
  }
  bare.sort((a, b) => a - b);
  sandboxed.sort((a, b) => a - b);

  const hosted = await startPythonHost(input('csv'));
  const driver = hosted.driver as MCSToolDriver;
  for (let i = 0; i < 200; i++) await driver.execute_tool('parse_csv', ARGS);
  const calls: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    await driver.execute_tool('parse_csv', ARGS);
    calls.push(performance.now() - t0);
  }
  await hosted.close();
  calls.sort((a, b) => a - b);
  const direct = inProcessP50();
  const viaHost = percentile(calls, 50);
  console.log(`\n(h) Python host, Python ${interpreter.version.join('.')} (layers applied here: ${layers})`);
  console.log(`  spawn to first call ready, 2 dependency folders     ${ms(percentile(ready, 50))} ms median of ${RUNS} (target <= 150 ms)`);
  console.log(`    floor: python -I -S -B -c pass                    ${ms(percentile(bare, 50))} ms; inside bubblewrap ${sandboxed.length ? `${ms(percentile(sandboxed, 50))} ms` : 'n/a (no bwrap)'}`);
  console.log(`  execute_tool p50, host / in the Python process       ${viaHost.toFixed(3)} / ${direct.toFixed(3)} ms: overhead ${(viaHost - direct).toFixed(3)} ms (target <= 0.5 ms)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await pythonHostFigures();
