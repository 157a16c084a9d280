/**
 * Starting a host child for a verified driver, and the proxy a client holds:
 * an object with the driver's meta and async versions of exactly the contract
 * methods the driver has, each a call through the host. execute_tool asks the
 * consent callback first; every call is reported on onEvent.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonical, type DriverMeta, type MCSDriver, type MCSToolDriver } from '../contract/index.js';
import { McsError, isMcsError } from '../errors.js';
import type { Permission } from '../manifest/types.js';
import type { InitializeParams } from './child.js';
import { HostClient } from './client.js';
import { hostFiles, planConfinement, probeNetworkNamespace, type AppliedGrants, type Confinement, type ConfinementLayer, type HostGrants } from './confine.js';
import { DEFAULT_MAX_MESSAGE_BYTES, PROTOCOL_VERSION, type ContractMethod } from './protocol.js';

export interface ToolCallRequest {
  /** The driver, as package@version. */
  driver: string;
  tool: string;
  arguments: Record<string, unknown>;
}

export interface HostEvent {
  phase: 'spawn' | 'ready' | 'call' | 'exit';
  package: string;
  version: string;
  pid?: number;
  /** call: the contract method, the tool (execute_tool), a sha256 of the canonical arguments, how long it took, the answer's size in bytes (JSON), its error code. */
  method?: string;
  tool?: string;
  argumentsDigest?: string;
  durationMs?: number;
  resultBytes?: number;
  code?: string;
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

/** A driver running in a host: the proxy, its receipt, and close(). */
export interface HostedDriver {
  driver: (MCSDriver | MCSToolDriver) & { close(): Promise<void> };
  receipt: HostReceipt;
  client: HostClient;
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
  const workDir = mkdtempSync(join(tmpdir(), 'mcs-host-'));
  const { childScript, files } = hostFiles();
  const plan = input.plan?.({ workDir, maxMessageBytes, stderrCapBytes }) ?? planConfinement({
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
    stderrCapBytes,
    childArgs: [String(maxMessageBytes)],
  });
  const base = { package: input.package, version: input.version };
  const client = new HostClient(plan, {
    maxMessageBytes,
    callTimeoutMs: options.callTimeoutMs ?? 30_000,
    stderrCapBytes,
    workDir,
    onExit: (exit) => input.onEvent?.({ phase: 'exit', ...base, pid: client.pid, exitCode: exit.code, signal: exit.signal }),
  });
  input.onEvent?.({ phase: 'spawn', ...base, pid: client.pid });
  let ready: { protocol: number; meta: DriverMeta; methods: ContractMethod[] };
  try {
    ready = (await client.call('initialize', { protocol: PROTOCOL_VERSION, ...input.init }, { timeoutMs: options.startTimeoutMs ?? 30_000 })) as typeof ready;
    if (ready?.protocol !== PROTOCOL_VERSION) throw new McsError('E_HOST_PROTOCOL', `${input.spec}: the host speaks protocol ${String(ready?.protocol)}, the client ${PROTOCOL_VERSION}`, {});
  } catch (error) {
    await client.close();
    if (isMcsError(error) && error.code === 'E_HOST_CRASHED') {
      throw new McsError('E_HOST_PROTOCOL', `${input.spec}: the host process ended before the driver was ready: ${error.message}`, { cause: error, details: error.details });
    }
    throw error;
  }
  input.onEvent?.({ phase: 'ready', ...base, pid: client.pid });

  const forward = async (method: ContractMethod, args: unknown[]): Promise<unknown> => {
    const started = performance.now();
    const event: HostEvent = { phase: 'call', ...base, pid: client.pid, method, argumentsDigest: digest(args) };
    if (method === 'execute_tool') event.tool = String(args[0]);
    try {
      if (method === 'execute_tool' && options.onToolCall) {
        const call: ToolCallRequest = { driver: input.spec, tool: String(args[0]), arguments: (args[1] ?? {}) as Record<string, unknown> };
        if ((await options.onToolCall(call)) !== true) {
          throw new McsError('E_TOOL_REFUSED', `${input.spec}: the tool call ${call.tool} was refused by the consent callback; the tool did not run`, { details: { driver: input.spec, tool: call.tool } });
        }
      }
      const result = await client.call(method, args);
      event.resultBytes = Buffer.byteLength(JSON.stringify(result) ?? '');
      return result;
    } catch (error) {
      event.code = isMcsError(error) ? error.code : 'E_INTERNAL';
      throw error;
    } finally {
      event.durationMs = performance.now() - started;
      input.onEvent?.(event);
    }
  };
  const proxy: Record<string, unknown> = { meta: ready.meta, close: () => client.close() };
  for (const method of ready.methods) proxy[method] = (...args: unknown[]) => forward(method, args);
  return {
    driver: proxy as unknown as HostedDriver['driver'],
    client,
    receipt: { isolation: 'process', pid: client.pid, protocol: PROTOCOL_VERSION, layers: plan.layers, grants: plan.grants, ignored: plan.ignored, declared: [...input.permissions] },
  };
}
