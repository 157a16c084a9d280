/**
 * Starting a host child for a verified driver, and the proxy a client holds:
 * an object with the driver's meta and async versions of exactly the contract
 * methods the driver has, each a call through the host. execute_tool asks the
 * consent callback first; every call is reported on onEvent.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { removeDeadLeftovers } from '../files.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonical, type DriverContext, type DriverMeta, type HealthStatus, type MCSDriver, type MCSToolDriver } from '../contract/index.js';
import { McsError, isMcsError } from '../errors.js';
import type { Permission } from '../manifest/types.js';
import type { InitializeParams } from './child.js';
import { HostClient, type CallOptions } from './client.js';
import { hostFiles, planConfinement, probeNetworkNamespace, probeParentDeathSignal, type AppliedGrants, type Confinement, type ConfinementLayer, type HostGrants } from './confine.js';
import { CORE_METHODS, DEFAULT_MAX_MESSAGE_BYTES, MIXIN_METHODS, PROTOCOL_VERSION, type ContractMethod } from './protocol.js';
import { HostSupervisor, type RestartPolicy } from './supervisor.js';

type Ready = { protocol: number; meta: DriverMeta; methods: ContractMethod[] };

/** A host's working folder: mcs-host-<pid of the client>-<random>, in the system's temporary folder. */
const HOST_FOLDER = /^mcs-host-(\d+)-/;

export interface ToolCallRequest {
  /** The driver, as package@version. */
  driver: string;
  tool: string;
  arguments: Record<string, unknown>;
}

export interface HostEvent {
  phase: 'spawn' | 'ready' | 'call' | 'exit' | 'restart';
  package: string;
  version: string;
  pid?: number;
  /** call: the contract method, the tool (execute_tool), a sha256 of the canonical arguments, how long it took, the answer's size in bytes (JSON), its error code; restart: the code the last host ended with. */
  method?: string;
  tool?: string;
  argumentsDigest?: string;
  durationMs?: number;
  resultBytes?: number;
  code?: string;
  /** restart: which restart within the policy's window (1, 2, ...). */
  attempt?: number;
  /** exit: how the process ended. */
  exitCode?: number | null;
  signal?: string | null;
}

export interface HostOptions {
  grants?: HostGrants;
  /** Asked before every execute_tool; false (or a promise of false) refuses it with E_TOOL_REFUSED and the tool never runs. */
  onToolCall?: (call: ToolCallRequest) => boolean | Promise<boolean>;
  /** Deadline of one call (default 30 s); past it the host is killed (E_HOST_TIMEOUT). */
  callTimeoutMs?: number;
  /** Deadline of the host's start: spawn, re-hash, import, construct (default 30 s). */
  startTimeoutMs?: number;
  /** Cap on one message either way (default 4 MiB). */
  maxMessageBytes?: number;
  /** How much of the child's stdout and stderr is kept (default 64 kB). */
  stderrCapBytes?: number;
  /**
   * Restart a host that exited (crash, deadline, protocol fault) on the next
   * call, at most `max` times within `windowMs` (default 60 s); then every call
   * fails with E_HOST_RESTART_LIMIT. Default: no restart (E_HOST_CRASHED).
   */
  restart?: RestartPolicy;
}

export interface HostReceipt {
  isolation: 'process';
  pid: number;
  protocol: number;
  layers: ConfinementLayer[];
  grants: AppliedGrants;
  ignored: Array<{ grant: string; reason: string }>;
  /** The permission tags the index declares for the package. */
  declared: Permission[];
}

/** The proxy of a driver in a host: the driver's contract, async, plus close() and per-call options. */
export type HostedProxy = (MCSDriver | MCSToolDriver) & {
  /** The mixins reach the driver's own when it has one, else fail with E_DRIVER_NOT_IMPLEMENTED. */
  healthcheck(): Promise<{ status: HealthStatus; [key: string]: unknown }>;
  get_driver_context(model_name?: string): Promise<DriverContext>;
  get_native_tool_context(model_name?: string): Promise<DriverContext>;
  /** The same driver, its calls bound to a signal (cancel: E_ABORTED, and the host is sent $/cancel) or a deadline of their own. */
  withCallOptions(options: CallOptions): HostedProxy;
  close(): Promise<void>;
};

/** A driver running in a host: the proxy, its receipt (pid follows a restart), and close(). */
export interface HostedDriver {
  driver: HostedProxy;
  receipt: HostReceipt;
  close(): Promise<void>;
}

export interface StartHostInput {
  spec: string;
  package: string;
  version: string;
  permissions: Permission[];
  /** What initialize carries: the Node host's parameters, or another host program's (see docs/host-protocol.md). */
  init: Omit<InitializeParams, 'protocol'> | Record<string, unknown>;
  /** How the child is started and confined; default: the Node host under the permission model. */
  plan?: (host: { workDir: string; maxMessageBytes: number; stderrCapBytes: number }) => Confinement;
  onEvent?: (event: HostEvent) => void;
}

function digest(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonical(value) ?? 'null').digest('hex')}`;
}

/** Spawns the confined host, initializes it (re-hash, import, construct, meta check) and returns the proxy. */
export async function startHost(input: StartHostInput, options: HostOptions = {}): Promise<HostedDriver> {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const stderrCapBytes = options.stderrCapBytes ?? 64 * 1024;
  const { childScript, files } = hostFiles();
  const base = { package: input.package, version: input.version };
  let ready!: Ready;
  let plan!: Confinement;
  // one host: a fresh working folder, the same grants and layers, spawned and initialized
  const launch = async (): Promise<HostClient> => {
    // a client killed outright cannot remove its hosts' folders: the next host does, by the dead client's pid in the name
    removeDeadLeftovers(tmpdir(), [HOST_FOLDER]);
    const workDir = mkdtempSync(join(tmpdir(), `mcs-host-${process.pid}-`));
    plan = input.plan?.({ workDir, maxMessageBytes, stderrCapBytes }) ?? planConfinement({
      permissions: input.permissions,
      grants: options.grants ?? {},
      entryDir: String(input.init.entryDir),
      hostFiles: files,
      childScript,
      workDir,
      nodePath: process.execPath,
      nodeMajor: Number(process.versions.node.split('.')[0]),
      environment: process.env,
      netns: probeNetworkNamespace(),
      parentDeath: probeParentDeathSignal(),
      stderrCapBytes,
      childArgs: [String(maxMessageBytes)],
    });
    const client: HostClient = new HostClient(plan, {
      maxMessageBytes,
      callTimeoutMs: options.callTimeoutMs ?? 30_000,
      stderrCapBytes,
      workDir,
      onExit: (exit) => input.onEvent?.({ phase: 'exit', ...base, pid: client.pid, exitCode: exit.code, signal: exit.signal }),
    });
    input.onEvent?.({ phase: 'spawn', ...base, pid: client.pid });
    try {
      ready = (await client.call('initialize', { protocol: PROTOCOL_VERSION, ...input.init }, { timeoutMs: options.startTimeoutMs ?? 30_000 })) as Ready;
      if (ready?.protocol !== PROTOCOL_VERSION) throw new McsError('E_HOST_PROTOCOL', `${input.spec}: the host speaks protocol ${String(ready?.protocol)}, the client ${PROTOCOL_VERSION}`, {});
    } catch (error) {
      await client.close();
      if (isMcsError(error) && error.code === 'E_HOST_CRASHED') {
        throw new McsError('E_HOST_PROTOCOL', `${input.spec}: the host process ended before the driver was ready: ${error.message}`, { cause: error, details: error.details });
      }
      throw error;
    }
    input.onEvent?.({ phase: 'ready', ...base, pid: client.pid });
    return client;
  };
  const supervisor = new HostSupervisor(launch, input.spec, options.restart, (attempt, code) => {
    input.onEvent?.({ phase: 'restart', ...base, pid: supervisor.client.pid, attempt, ...(code ? { code } : {}) });
  });
  await supervisor.start();
  const receipt: HostReceipt = {
    isolation: 'process',
    // the host now running: a restart changes it
    get pid() {
      return supervisor.client.pid;
    },
    protocol: PROTOCOL_VERSION,
    layers: plan.layers,
    grants: plan.grants,
    ignored: plan.ignored,
    declared: [...input.permissions],
  };

  const forward = async (method: ContractMethod, args: unknown[], callOptions: CallOptions): Promise<unknown> => {
    const started = performance.now();
    const event: HostEvent = { phase: 'call', ...base, pid: supervisor.client.pid, method, argumentsDigest: digest(args) };
    if (method === 'execute_tool') event.tool = String(args[0]);
    try {
      if (method === 'execute_tool' && options.onToolCall) {
        const call: ToolCallRequest = { driver: input.spec, tool: String(args[0]), arguments: (args[1] ?? {}) as Record<string, unknown> };
        if ((await options.onToolCall(call)) !== true) {
          throw new McsError('E_TOOL_REFUSED', `${input.spec}: the tool call ${call.tool} was refused by the consent callback; the tool did not run`, { details: { driver: input.spec, tool: call.tool } });
        }
      }
      const result = await supervisor.call(method, args, callOptions);
      event.resultBytes = Buffer.byteLength(JSON.stringify(result) ?? '');
      return result;
    } catch (error) {
      event.code = isMcsError(error) ? error.code : 'E_INTERNAL';
      throw error;
    } finally {
      event.durationMs = performance.now() - started;
      event.pid = supervisor.client.pid;
      input.onEvent?.(event);
    }
  };
  const close = () => supervisor.close();
  const proxyWith = (callOptions: CallOptions): HostedProxy => {
    const proxy: Record<string, unknown> = { meta: ready.meta, close, withCallOptions: proxyWith };
    for (const method of [...CORE_METHODS.filter((name) => ready.methods.includes(name)), ...MIXIN_METHODS]) {
      proxy[method] = (...args: unknown[]) => forward(method, args, callOptions);
    }
    return proxy as unknown as HostedProxy;
  };
  return { driver: proxyWith({}), receipt, close };
}
