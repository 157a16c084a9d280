/**
 * Which confinement a host child gets: a pure decision from the permission
 * tags the index declares for the package, the caller's grants and what this
 * machine offers; every layer is recorded, applied or not, with the reason.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Permission } from '../manifest/types.js';

/** What the caller allows a driver, on top of (never beyond) what the index declares it needs. */
export interface HostGrants {
  /** Folders or files the driver may read (needs `filesystem:read` or `filesystem:write` declared). */
  read?: string[];
  /** Folders or files the driver may write (needs `filesystem:write` declared). */
  write?: string[];
  /** Environment variables passed to the driver (needs `secrets` declared). */
  env?: string[];
  /** Network access (needs `network` declared). */
  network?: boolean;
  /** Child processes and Worker threads (needs `shell` declared). */
  shell?: boolean;
}

export type LayerName = 'node-permission' | 'network-namespace' | 'parent-death' | 'environment' | 'working-folder' | 'stderr-log' | 'import-gate' | 'bubblewrap' | 'python-isolated';

export interface ConfinementLayer {
  layer: LayerName;
  applied: boolean;
  detail: string;
}

export interface AppliedGrants {
  read: string[];
  write: string[];
  env: string[];
  network: boolean;
  shell: boolean;
}

export interface Confinement {
  command: string;
  args: string[];
  env: Record<string, string>;
  layers: ConfinementLayer[];
  /** What was granted and applied. */
  grants: AppliedGrants;
  /** Grants the caller gave that were not applied, and why. */
  ignored: Array<{ grant: string; reason: string }>;
}

export interface ConfinementInput {
  permissions: readonly Permission[];
  grants: HostGrants;
  /** The verified cache entry (its manifest and package/ folder). */
  entryDir: string;
  /** The host's own files the child must read (its program and what it imports). */
  hostFiles: readonly string[];
  childScript: string;
  workDir: string;
  nodePath: string;
  nodeMajor: number;
  /** The caller's environment, for the granted variables. */
  environment: Readonly<Record<string, string | undefined>>;
  /** How to get a fresh network namespace here, or why it cannot be had. */
  netns: { unshare: string } | { missing: string };
  /** How to have the kernel kill the host when its client dies (setpriv --pdeathsig), or why it cannot. */
  parentDeath: { setpriv: string } | { missing: string };
  stderrCapBytes: number;
  childArgs: readonly string[];
}

/** The install folder of mcs-pkg (holding package.json), from this file's place in src/ or dist/src/. */
export function hostRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`mcs-pkg: no install folder above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The compiled host program, and the host files a child reads: mcs-pkg's compiled code, schemas and dependencies. */
export function hostFiles(root = hostRoot()): { childScript: string; files: string[] } {
  const files = [join(root, 'dist'), join(root, 'schemas'), join(root, 'package.json'), join(root, 'node_modules')].filter((path) => existsSync(path));
  // installed as a dependency, mcs-pkg's own dependencies sit beside it
  if (basename(dirname(root)) === 'node_modules') files.push(dirname(root));
  else if (basename(dirname(dirname(root))) === 'node_modules' && basename(dirname(root)).startsWith('@')) files.push(dirname(dirname(root)));
  return { childScript: join(root, 'dist', 'src', 'host', 'child.js'), files };
}

let netnsProbe: ConfinementInput['netns'] | undefined;

/** Whether an unprivileged user + network namespace can be had here (probed once per process). */
export function probeNetworkNamespace(): ConfinementInput['netns'] {
  if (netnsProbe) return netnsProbe;
  if (process.platform !== 'linux') return (netnsProbe = { missing: `network namespaces are a Linux feature; this is ${process.platform}` });
  const unshare = ['/usr/bin/unshare', '/bin/unshare'].find((path) => existsSync(path));
  if (!unshare) return (netnsProbe = { missing: 'unshare (util-linux) is not installed' });
  const probe = spawnSync(unshare, ['--user', '--net', '--map-root-user', 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000, env: {} });
  if (probe.status !== 0) {
    return (netnsProbe = { missing: `unprivileged user namespaces are not available (unshare --user --net --map-root-user: ${probe.stderr?.toString().trim() || probe.error?.message || `exit ${probe.status}`})` });
  }
  return (netnsProbe = { unshare });
}

let parentDeathProbe: ConfinementInput['parentDeath'] | undefined;

/**
 * Whether setpriv (util-linux 2.33+) can set a parent-death signal here
 * (probed once per process). The kernel sends it when the client's thread
 * that spawned the host ends, however it ends (SIGKILL included), and it
 * reaches a host busy in a loop, which no watchdog inside the host would.
 */
export function probeParentDeathSignal(): ConfinementInput['parentDeath'] {
  if (parentDeathProbe) return parentDeathProbe;
  if (process.platform !== 'linux') return (parentDeathProbe = { missing: `a parent-death signal (prctl PR_SET_PDEATHSIG) is a Linux feature; this is ${process.platform}` });
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));
  if (!setpriv) return (parentDeathProbe = { missing: 'setpriv (util-linux) is not installed' });
  const probe = spawnSync(setpriv, ['--pdeathsig', 'KILL', 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000, env: {} });
  if (probe.status !== 0) return (parentDeathProbe = { missing: `setpriv --pdeathsig does not work here (${probe.stderr?.toString().trim() || probe.error?.message || `exit ${probe.status}`})` });
  return (parentDeathProbe = { setpriv });
}

function paths(list: readonly string[] | undefined): string[] {
  return [...new Set((list ?? []).map((path) => resolve(path)))];
}

/** The grants that apply (the index declares the matching tag) and those that do not, with the reason. */
export function applyGrants(permissions: readonly Permission[], grants: HostGrants): { applied: AppliedGrants; ignored: Confinement['ignored'] } {
  const declared = new Set(permissions);
  const ignored: Confinement['ignored'] = [];
  const applied: AppliedGrants = { read: [], write: [], env: [], network: false, shell: false };
  const need = (what: string, tag: Permission | Permission[], ok: boolean) => {
    if (!ok) ignored.push({ grant: what, reason: `the index does not declare ${Array.isArray(tag) ? tag.join(' or ') : tag} for this driver` });
    return ok;
  };
  for (const path of paths(grants.read)) if (need(`read ${path}`, ['filesystem:read', 'filesystem:write'], declared.has('filesystem:read') || declared.has('filesystem:write'))) applied.read.push(path);
  for (const path of paths(grants.write)) if (need(`write ${path}`, 'filesystem:write', declared.has('filesystem:write'))) applied.write.push(path);
  for (const name of [...new Set(grants.env ?? [])]) if (need(`env ${name}`, 'secrets', declared.has('secrets'))) applied.env.push(name);
  if (grants.network && need('network', 'network', declared.has('network'))) applied.network = true;
  if (grants.shell && need('shell', 'shell', declared.has('shell'))) applied.shell = true;
  return { applied, ignored };
}

/**
 * The exec chain unshare -> setpriv -> program (the host keeps the client as
 * its parent, so the parent-death signal fires when the client dies), with
 * the network-namespace and parent-death layers it gives or misses.
 */
export function processChain(program: string, programArgs: readonly string[], input: Pick<ConfinementInput, 'netns' | 'parentDeath'>, network: boolean, unguarded: string): { command: string; args: string[]; layers: ConfinementLayer[] } {
  const layers: ConfinementLayer[] = [];
  let command = program;
  let args = [...programArgs];
  if ('setpriv' in input.parentDeath) {
    command = input.parentDeath.setpriv;
    args = ['--pdeathsig', 'KILL', program, ...programArgs];
  }
  if (network) {
    layers.push({ layer: 'network-namespace', applied: false, detail: 'not applied: the driver declares network and the caller granted it' });
  } else if ('unshare' in input.netns) {
    args = ['--user', '--net', '--map-root-user', command, ...args];
    command = input.netns.unshare;
    layers.push({ layer: 'network-namespace', applied: true, detail: 'a new network namespace with only a loopback interface that is down (unshare --user --net --map-root-user): no sockets reach any network, the host\'s loopback included' });
  } else {
    layers.push({ layer: 'network-namespace', applied: false, detail: `MISSING: the driver is not granted network, but ${input.netns.missing}; ${unguarded}` });
  }
  layers.push('setpriv' in input.parentDeath
    ? { layer: 'parent-death', applied: true, detail: 'setpriv --pdeathsig KILL: the kernel kills the host when its client dies, even by SIGKILL and even while the driver is busy in a loop' }
    : { layer: 'parent-death', applied: false, detail: `MISSING: ${input.parentDeath.missing}; an idle host still exits when its channel closes, but a host busy in a loop when its client is killed runs until the loop ends` });
  return { command, args, layers };
}

/** The scrubbed environment of a host child, and the layers every host gets: environment, working folder, stderr log. */
export function processLayers(applied: AppliedGrants, input: Pick<ConfinementInput, 'workDir' | 'environment' | 'stderrCapBytes'>): { env: Record<string, string>; layers: ConfinementLayer[] } {
  const env: Record<string, string> = { HOME: input.workDir, TMPDIR: input.workDir };
  for (const name of applied.env) {
    const value = input.environment[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    env,
    layers: [
      { layer: 'environment', applied: true, detail: applied.env.length ? `scrubbed: only ${applied.env.join(', ')} (granted), HOME and TMPDIR` : 'scrubbed: only HOME and TMPDIR (the working folder)' },
      { layer: 'working-folder', applied: true, detail: `private, removed at close: ${input.workDir}` },
      { layer: 'stderr-log', applied: true, detail: `stdout and stderr kept as a log of the last ${input.stderrCapBytes} bytes; the protocol runs on fd 3, out of the driver's reach` },
    ],
  };
}

/** The command line, environment and receipt layers of one host child. */
export function planConfinement(input: ConfinementInput): Confinement {
  const { applied, ignored } = applyGrants(input.permissions, input.grants);
  const layers: ConfinementLayer[] = [];

  const readable = [input.entryDir, ...input.hostFiles, input.workDir, ...applied.read, ...applied.write];
  const writable = [input.workDir, ...applied.write];
  const permissionFlag = input.nodeMajor >= 22 ? '--permission' : '--experimental-permission';
  const nodeArgs = [
    permissionFlag,
    ...readable.map((path) => `--allow-fs-read=${path}`),
    ...writable.map((path) => `--allow-fs-write=${path}`),
    ...(applied.shell ? ['--allow-child-process', '--allow-worker'] : []),
    '--disable-warning=ExperimentalWarning',
    input.childScript,
    ...input.childArgs,
  ];
  layers.push({
    layer: 'node-permission',
    applied: true,
    detail: `${permissionFlag}: reads only the verified package, mcs-pkg's own files, the working folder${applied.read.length + applied.write.length ? ' and the granted paths' : ''}; writes only the working folder${applied.write.length ? ' and the granted paths' : ''}; ${applied.shell ? 'child processes and Worker threads allowed (shell declared and granted)' : 'no child processes, no Worker threads, no native addons'}`,
  });

  const chain = processChain(input.nodePath, nodeArgs, input, applied.network, 'Node\'s permission model does not cover sockets, so the driver can reach the network');
  layers.push(...chain.layers);
  const common = processLayers(applied, input);
  layers.push(...common.layers);
  layers.push({ layer: 'import-gate', applied: false, detail: 'not needed: the permission model refuses every read outside the verified package and the host files, and the package is re-hashed before import; the gate\'s module hooks would need a worker thread (--allow-worker), which would let the driver start Workers too' });
  return { command: chain.command, args: chain.args, env: common.env, layers, grants: applied, ignored };
}
