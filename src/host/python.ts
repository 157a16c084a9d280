/**
 * Python drivers in the host: the interpreter (found, version-checked,
 * resolved to its real executable), the confinement of a Python host child
 * (bubblewrap where it is installed, else a network namespace alone; a
 * scrubbed environment, a private working folder, a bounded log), and the
 * start of host/python/mcs_host.py, which speaks the same protocol on fd 3 as
 * the Node host. The proxy is the Node host's own (proxy.ts); the running
 * meta is checked against the index here, with the loader's checkDriver.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { McsError } from '../errors.js';
import { checkDriver } from '../loader/instantiate.js';
import type { DeclaredDriver, Permission } from '../manifest/types.js';
import type { MarkerEnvironment } from '../pypi/pep508.js';
import { applyGrants, hostRoot, probeNetworkNamespace, probeParentDeathSignal, processChain, processLayers, type Confinement, type ConfinementInput, type ConfinementLayer, type HostGrants } from './confine.js';
import { CONTRACT_METHODS } from './protocol.js';
import { startHost, type HostEvent, type HostOptions, type HostedDriver } from './proxy.js';

/** The oldest Python the host program runs on. */
export const MIN_PYTHON: readonly [number, number] = [3, 11];

export interface PythonHostOptions {
  /** The interpreter to run (a command on PATH or a path); default MCS_PKG_PYTHON, else python3. */
  python?: string;
  /** The bubblewrap program, or false to run without it (the receipt then says the layer is missing); default: bwrap where installed. */
  bwrap?: string | false;
}

export interface PythonInterpreter {
  /** As configured (a shim, a command name). */
  command: string;
  /** The real executable, links resolved: what the host runs. */
  executable: string;
  version: [number, number, number];
  /** sys.prefix, sys.base_prefix and the exec prefixes: the interpreter's own files. */
  prefixes: string[];
  /** The PEP 508 marker environment this interpreter reports (os.name, sys.platform, platform.machine(), ...): what dependency markers are evaluated for. */
  markers: MarkerEnvironment;
}

const interpreters = new Map<string, PythonInterpreter>();
// the marker variables as PEP 508 defines them (implementation_version from sys.implementation.version)
const PROBE = [
  'import json,os,platform,sys',
  'i=sys.implementation.version',
  'iv="%d.%d.%d"%(i.major,i.minor,i.micro)+("" if i.releaselevel=="final" else i.releaselevel[0]+str(i.serial))',
  'm=dict(os_name=os.name,sys_platform=sys.platform,platform_machine=platform.machine(),platform_python_implementation=platform.python_implementation(),platform_release=platform.release(),platform_system=platform.system(),platform_version=platform.version(),python_version=".".join(platform.python_version_tuple()[:2]),python_full_version=platform.python_version(),implementation_name=sys.implementation.name,implementation_version=iv)',
  'print(json.dumps({"executable":os.path.realpath(sys.executable),"version":list(sys.version_info[:3]),"prefixes":sorted({sys.prefix,sys.base_prefix,sys.exec_prefix,sys.base_exec_prefix}),"markers":m}))',
].join('\n');
const MARKER_NAMES = ['os_name', 'sys_platform', 'platform_machine', 'platform_python_implementation', 'platform_release', 'platform_system', 'platform_version', 'python_version', 'python_full_version', 'implementation_name', 'implementation_version'] as const;

/** The marker environment of a probe's answer: exactly the PEP 508 variables, each a short string. */
function markersOf(value: unknown): MarkerEnvironment {
  const record = value as Record<string, unknown>;
  if (typeof record !== 'object' || record === null || !MARKER_NAMES.every((name) => typeof record[name] === 'string' && (record[name] as string).length <= 256)) throw new Error('no marker environment');
  return Object.fromEntries(MARKER_NAMES.map((name) => [name, record[name]])) as unknown as MarkerEnvironment;
}

/** The interpreter, asked once per process for its real executable, version and prefixes; E_PYTHON_MISSING or E_PYTHON_VERSION. */
export function findPython(command = process.env.MCS_PKG_PYTHON || 'python3'): PythonInterpreter {
  const known = interpreters.get(command);
  if (known) return known;
  const way = 'install Python 3.11 or newer, or name one with --python PATH (the python option of loadDriver) or MCS_PKG_PYTHON';
  const probe = spawnSync(command, ['-I', '-S', '-c', PROBE], { encoding: 'utf8', timeout: 10_000, maxBuffer: 64 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? ((probe.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such program' : probe.error.message) : `exit ${probe.status}: ${probe.stderr.trim().slice(-300)}`;
    throw new McsError('E_PYTHON_MISSING', `a PyPI driver needs Python, and ${command} could not be run (${why}); ${way}`, { details: { command } });
  }
  let found: PythonInterpreter;
  try {
    const answer = JSON.parse(probe.stdout) as { executable: string; version: [number, number, number]; prefixes: string[]; markers: unknown };
    found = { command, executable: answer.executable, version: answer.version, prefixes: answer.prefixes.filter((p) => p !== ''), markers: markersOf(answer.markers) };
  } catch {
    throw new McsError('E_PYTHON_MISSING', `${command} did not answer as a Python interpreter does (got ${JSON.stringify(probe.stdout.slice(0, 200))}); ${way}`, { details: { command } });
  }
  const [major, minor] = found.version;
  if (major !== MIN_PYTHON[0] || minor < MIN_PYTHON[1]) {
    throw new McsError('E_PYTHON_VERSION', `the Python host needs Python ${MIN_PYTHON.join('.')} or newer; ${command} (${found.executable}) is Python ${found.version.join('.')}; ${way}`, {
      details: { command, executable: found.executable, version: found.version.join('.') },
    });
  }
  interpreters.set(command, found);
  return found;
}

/** The host program shipped with mcs-pkg. */
export function pythonHostScript(root = hostRoot()): string {
  return join(root, 'host', 'python', 'mcs_host.py');
}

/** Folders of shared libraries the interpreter links against: bound read-only, or recreated as the links they are. */
const SYSTEM_LIBRARY_DIRS = ['/usr/lib', '/usr/lib64', '/usr/local/lib', '/lib', '/lib64'];

export type Sandbox = { bwrap: string; system: string[] } | { missing: string };
const sandboxes = new Map<string, Sandbox>();

/** Whether bubblewrap can confine this interpreter here (probed once per process and interpreter). */
export function probeBubblewrap(option: string | false | undefined, interpreter: PythonInterpreter): Sandbox {
  if (option === false) return { missing: 'the caller turned bubblewrap off (bwrap: false)' };
  if (process.platform !== 'linux') return { missing: `bubblewrap is a Linux sandbox; this is ${process.platform}` };
  const bwrap = option ?? ['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap'].find((path) => existsSync(path));
  if (!bwrap) return { missing: 'bubblewrap (bwrap) is not installed (Debian package bubblewrap)' };
  const key = `${bwrap}\u0000${interpreter.executable}`;
  const known = sandboxes.get(key);
  if (known) return known;
  const system: string[] = [];
  for (const dir of SYSTEM_LIBRARY_DIRS) {
    try {
      const stat = lstatSync(dir);
      if (stat.isSymbolicLink()) system.push('--symlink', readlinkSync(dir), dir);
      else if (stat.isDirectory()) system.push('--ro-bind', dir, dir);
    } catch {
      // not on this system
    }
  }
  const sandbox: Sandbox = { bwrap, system };
  const args = bwrapArgs(sandbox, { roots: interpreterRoots(interpreter), writable: [], network: false, workDir: '/' });
  const probe = spawnSync(bwrap, [...args, '--', interpreter.executable, '-I', '-S', '-B', '-c', 'pass'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'], env: {} });
  const result: Sandbox = probe.status === 0 ? sandbox : { missing: `bubblewrap is installed but cannot start a sandbox here (${probe.stderr?.trim().slice(-300) || probe.error?.message || `exit ${probe.status}`})` };
  sandboxes.set(key, result);
  return result;
}

function interpreterRoots(interpreter: PythonInterpreter): string[] {
  const roots = [...interpreter.prefixes];
  if (!roots.some((root) => interpreter.executable.startsWith(`${root}/`))) roots.push(dirname(interpreter.executable));
  return roots;
}

/** The bubblewrap command line: every namespace new, only the given folders, read-only but for the writable ones. */
function bwrapArgs(sandbox: { system: string[] }, view: { roots: string[]; writable: string[]; network: boolean; workDir: string }): string[] {
  const byDepth = (a: string, b: string) => a.length - b.length;
  return [
    '--unshare-all',
    ...(view.network ? ['--share-net'] : []),
    '--die-with-parent',
    '--new-session',
    '--cap-drop', 'ALL',
    ...sandbox.system,
    ...[...new Set(view.roots)].sort(byDepth).flatMap((path) => ['--ro-bind-try', path, path]),
    ...[...new Set(view.writable)].sort(byDepth).flatMap((path) => ['--bind-try', path, path]),
    '--proc', '/proc',
    '--dev', '/dev',
    '--remount-ro', '/',
    '--chdir', view.workDir,
  ];
}

export interface PythonConfinementInput extends Pick<ConfinementInput, 'permissions' | 'grants' | 'workDir' | 'environment' | 'netns' | 'parentDeath' | 'stderrCapBytes'> {
  interpreter: PythonInterpreter;
  /** The driver's folders: sys.path, in order. */
  paths: readonly string[];
  hostScript: string;
  sandbox: Sandbox;
  maxMessageBytes: number;
}

/** The command line, environment and receipt layers of a Python host child; `visible` is what the sandbox shows (null without one). */
export function planPythonConfinement(input: PythonConfinementInput): Confinement & { visible: string[] | null } {
  const { applied, ignored } = applyGrants(input.permissions, input.grants);
  const python = [input.interpreter.executable, '-I', '-S', '-B', input.hostScript, String(input.maxMessageBytes)];
  const layers: ConfinementLayer[] = [{
    layer: 'python-isolated',
    applied: true,
    detail: `Python ${input.interpreter.version.join('.')} (${input.interpreter.executable}) as -I -S -B: no PYTHON* variables, no user or site packages, no bytecode written; sys.path is exactly the ${input.paths.length} verified folder(s) and the standard library; stdout points at the log before any driver code is imported`,
  }];
  let command: string;
  let args: string[];
  let visible: string[] | null = null;
  if ('bwrap' in input.sandbox) {
    const readable = [...interpreterRoots(input.interpreter), dirname(input.hostScript), ...input.paths, ...applied.read];
    const writable = [...applied.write, input.workDir];
    command = input.sandbox.bwrap;
    args = [...bwrapArgs(input.sandbox, { roots: readable, writable, network: applied.network, workDir: input.workDir }), '--', ...python];
    visible = [...readable, ...writable, ...SYSTEM_LIBRARY_DIRS, '/proc', '/dev'];
    layers.push({
      layer: 'bubblewrap',
      applied: true,
      detail: `${input.sandbox.bwrap}: new user, mount, PID, IPC and UTS namespaces; the driver sees only the interpreter's files and the system libraries, mcs-pkg's host program and the ${input.paths.length} verified folder(s)${applied.read.length ? ', and the granted paths' : ''}, read-only; it writes only the working folder${applied.write.length ? ' and the granted paths' : ''}; no capabilities`,
    });
    layers.push(applied.network
      ? { layer: 'network-namespace', applied: false, detail: 'not applied: the driver declares network and the caller granted it (bwrap --share-net)' }
      : { layer: 'network-namespace', applied: true, detail: 'a new network namespace (bwrap --unshare-net) with only its own loopback: no socket reaches any network, the host\'s 127.0.0.1 included' });
    layers.push({ layer: 'parent-death', applied: true, detail: 'bwrap --die-with-parent: the kernel kills the sandbox when its client dies, even by SIGKILL and even while the driver is busy in a loop' });
  } else {
    layers.push({ layer: 'bubblewrap', applied: false, detail: `MISSING: ${input.sandbox.missing}; Python has no permission model of its own, so the driver can read every file this user can, and write wherever this user can` });
    const chain = processChain(python[0]!, python.slice(1), input, applied.network, 'the driver can reach the network');
    command = chain.command;
    args = chain.args;
    layers.push(...chain.layers);
  }
  const common = processLayers(applied, input);
  layers.push(...common.layers);
  return { command, args, env: common.env, layers, grants: applied, ignored, visible };
}

export interface StartPythonHostInput {
  spec: string;
  package: string;
  version: string;
  permissions: Permission[];
  /** The unpacked, verified folders: the driver's own first, then its locked dependencies. */
  paths: string[];
  /** The declared driver: its `export` (module:Class) is what the host constructs, its meta what the running one must equal. */
  declared: DeclaredDriver;
  config: Record<string, unknown>;
  onEvent?: (event: HostEvent) => void;
}

/** Starts the Python host for verified folders and returns the same proxy an npm driver gets, its meta checked against the index. */
export async function startPythonHost(input: StartPythonHostInput, options: HostOptions & PythonHostOptions = {}): Promise<HostedDriver> {
  if (!input.declared.export || !input.declared.export.includes(':')) {
    throw new McsError('E_DRIVER_ENTRY', `${input.spec}: the index records no Python entry point (module:Class) for this driver`, { details: { spec: input.spec } });
  }
  const interpreter = findPython(options.python);
  const sandbox = probeBubblewrap(options.bwrap, interpreter);
  // what the sandbox shows, filled in when the plan is made (before initialize is sent): the host names a hidden path's refusal E_HOST_DENIED
  const init: Record<string, unknown> = { spec: input.spec, paths: input.paths, export: input.declared.export, config: input.config, methods: CONTRACT_METHODS, visible: null };
  const hosted = await startHost({
    spec: input.spec,
    package: input.package,
    version: input.version,
    permissions: input.permissions,
    ...(input.onEvent ? { onEvent: input.onEvent } : {}),
    plan: ({ workDir, maxMessageBytes, stderrCapBytes }) => {
      const plan = planPythonConfinement({
        permissions: input.permissions,
        grants: options.grants ?? ({} as HostGrants),
        workDir,
        environment: process.env,
        netns: 'bwrap' in sandbox ? { missing: 'not needed' } : probeNetworkNamespace(),
        parentDeath: 'bwrap' in sandbox ? { missing: 'not needed' } : probeParentDeathSignal(),
        stderrCapBytes,
        interpreter,
        paths: input.paths,
        hostScript: pythonHostScript(),
        sandbox,
        maxMessageBytes,
      });
      init.visible = plan.visible;
      return plan;
    },
    init,
  }, options);
  try {
    checkDriver(hosted.driver, input.declared, input.spec);
  } catch (error) {
    await hosted.close();
    throw error;
  }
  return hosted;
}
