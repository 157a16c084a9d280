/**
 * The host child: runs one verified driver under the confinement its client
 * chose (the Node permission model and the rest are applied from outside, on
 * the command line that starts this file), and answers the host protocol on
 * fd 3. Before any driver code runs it re-hashes the cache entry against the
 * pin with the loader's own verifyCacheEntry, and it constructs and checks the
 * driver with the loader's own instantiate.
 */
import { Socket } from 'node:net';
import { sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { McsError } from '../errors.js';
import type { DeclaredDriver } from '../manifest/types.js';
import { verifyCacheEntry } from '../loader/cache.js';
import { instantiate } from '../loader/instantiate.js';
import { CHANNEL_FD, CONTRACT_METHODS, DEFAULT_MAX_MESSAGE_BYTES, LineDecoder, PROTOCOL_VERSION, batchedWriter, contractMethod, encodeMessage, toRpcError, type RpcRequest, type RpcResponse } from './protocol.js';

export interface InitializeParams {
  protocol: number;
  spec: string;
  entryDir: string;
  integrity: string;
  manifestDigest: string;
  file: string;
  declared: DeclaredDriver;
  config: Record<string, unknown>;
}

const channel = new Socket({ fd: CHANNEL_FD, readable: true, writable: true });
const write = batchedWriter(channel);
// the message cap, both ways: the client passes it on the command line
let maxBytes = Number(process.argv[2]) > 0 ? Number(process.argv[2]) : DEFAULT_MAX_MESSAGE_BYTES;
let driver: Record<string, unknown> | undefined;
const cancelled = new Set<number>();

function send(message: RpcResponse): void {
  let text: string;
  try {
    text = encodeMessage(message, maxBytes);
  } catch (error) {
    text = encodeMessage({ jsonrpc: '2.0', id: message.id, error: toRpcError(error, 'E_HOST_MESSAGE_TOO_LARGE') }, maxBytes);
  }
  write(text);
}

/** A driver's failure as a coded error: the permission model's refusals are E_HOST_DENIED, the rest E_DRIVER_CALL. */
function driverError(error: unknown): McsError {
  if (error instanceof McsError) return error;
  const e = error as { code?: unknown; name?: unknown; message?: unknown; permission?: unknown; resource?: unknown } | undefined;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  if (e?.code === 'ERR_ACCESS_DENIED') {
    const what = [e.permission, e.resource].filter((part) => typeof part === 'string' && part !== '').join(' on ');
    return new McsError('E_HOST_DENIED', `the driver tried something its confinement does not allow${what ? ` (${what})` : ''}: ${message}; grant it (grants / --grant-*) if the index declares the permission`, { details: { permission: e.permission ?? null, resource: e.resource ?? null } });
  }
  return new McsError('E_DRIVER_CALL', `the driver failed: ${message}`, { details: { name: typeof e?.name === 'string' ? e.name : null, errno: typeof e?.code === 'string' ? e.code : null } });
}

async function initialize(params: InitializeParams): Promise<unknown> {
  if (params.protocol !== PROTOCOL_VERSION) {
    throw new McsError('E_HOST_PROTOCOL', `the client speaks host protocol ${params.protocol}, this host ${PROTOCOL_VERSION}`, { details: { client: params.protocol, host: PROTOCOL_VERSION } });
  }
  // the last look before code runs, as in process: every file re-hashed against the pinned manifest
  const checked = verifyCacheEntry(params.entryDir, { integrity: params.integrity, manifestDigest: params.manifestDigest, driversDirChecked: true });
  if (!params.file.startsWith(checked.packageDir + sep)) {
    throw new McsError('E_DRIVER_ENTRY', `${params.spec}: the entry point ${params.file} is not inside the verified package`, { details: { spec: params.spec } });
  }
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(params.file).href)) as Record<string, unknown>;
  } catch (cause) {
    const denied = driverError(cause);
    if (denied.code === 'E_HOST_DENIED') throw denied;
    throw new McsError('E_DRIVER_IMPORT', `${params.spec}: importing ${params.file} failed: ${(cause as Error)?.message ?? String(cause)}`, { details: { spec: params.spec } });
  }
  driver = instantiate(module, params.declared, params.config, params.spec) as unknown as Record<string, unknown>;
  return { protocol: PROTOCOL_VERSION, meta: driver.meta, methods: CONTRACT_METHODS.filter((name) => typeof driver![name] === 'function') };
}

async function handle(request: RpcRequest): Promise<unknown> {
  if (request.method === 'initialize') return initialize(request.params as InitializeParams);
  if (!driver) throw new McsError('E_HOST_PROTOCOL', `${request.method} before initialize`, {});
  if (request.method === 'meta') return driver.meta;
  const method = contractMethod(driver, request.method);
  const args = Array.isArray(request.params) ? request.params : [];
  try {
    return await method.apply(driver, args);
  } catch (error) {
    throw driverError(error);
  }
}

function onMessage(message: unknown): void {
  const request = message as RpcRequest;
  if (typeof request !== 'object' || request === null || request.jsonrpc !== '2.0' || typeof request.method !== 'string') {
    send({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request' } });
    return;
  }
  if (request.method === '$/cancel') {
    // a call already running cannot be stopped in JavaScript; its answer is dropped
    const id = (request.params as { id?: unknown } | undefined)?.id;
    if (typeof id === 'number') cancelled.add(id);
    return;
  }
  if (request.method === 'shutdown') {
    if (typeof request.id === 'number') send({ jsonrpc: '2.0', id: request.id, result: null });
    channel.end(() => process.exit(0));
    return;
  }
  const id = typeof request.id === 'number' ? request.id : null;
  handle(request).then(
    (result) => {
      if (id === null || cancelled.delete(id)) return;
      send({ jsonrpc: '2.0', id, result: result === undefined ? null : result });
    },
    (error: unknown) => {
      if (id === null || cancelled.delete(id)) return;
      const rpc = toRpcError(error, 'E_DRIVER_CALL');
      const rpcCode = (error as { rpcCode?: number }).rpcCode;
      send({ jsonrpc: '2.0', id, error: rpcCode ? { ...rpc, code: rpcCode } : rpc });
    },
  );
}

const decoder = new LineDecoder(
  maxBytes,
  onMessage,
  () => process.exit(70),
);
channel.on('data', (chunk: Buffer) => decoder.push(chunk));
// the client went away (closed, or its process died): so does the host
channel.on('close', () => process.exit(0));
channel.on('error', () => process.exit(0));
