/**
 * The host protocol (docs/host-protocol.md): JSON-RPC 2.0, one message per
 * line (JSON text never holds a raw newline), on file descriptor 3 of the
 * host child, so that nothing a driver writes to stdout or stderr can reach
 * the channel. Shared by the client and the host child.
 */
import type { Writable } from 'node:stream';
import { CAPABILITY_METHODS } from '../contract/index.js';
import { McsError, type McsErrorCode } from '../errors.js';

/** The protocol version; initialize fails with E_HOST_PROTOCOL when the two sides differ. */
export const PROTOCOL_VERSION = 1;
/** Default cap on one message, in bytes, both ways. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** The fd the channel uses in the child. */
export const CHANNEL_FD = 3;

/** The MCS contract's own methods: a proxy has exactly those its driver has, so `'list_tools' in driver` tells the kinds apart. */
export const CORE_METHODS = ['get_function_description', 'get_driver_system_message', 'process_llm_response', 'list_tools', 'execute_tool'] as const;
/** The capability mixins' methods (healthcheck, get_driver_context, get_native_tool_context, ...): every proxy has them. */
export const MIXIN_METHODS: readonly string[] = [...new Set(Object.values(CAPABILITY_METHODS).flat())];
/** Every method the host forwards to a driver; any other name is refused. */
export const CONTRACT_METHODS: readonly string[] = [...CORE_METHODS, ...MIXIN_METHODS];
export type ContractMethod = string;

/**
 * The driver method a call names: only contract methods are dispatched (so a
 * call can never reach `constructor`, `toString` or a driver's private
 * helpers); a contract method the driver lacks is E_DRIVER_NOT_IMPLEMENTED.
 * Both are JSON-RPC "method not found" (-32601).
 */
export function contractMethod(driver: Record<string, unknown>, name: string): (...args: unknown[]) => unknown {
  if (!CONTRACT_METHODS.includes(name)) {
    throw Object.assign(new McsError('E_HOST_PROTOCOL', `the host forwards only the MCS contract's methods (${CONTRACT_METHODS.join(', ')}), not ${name}`, { details: { method: name } }), { rpcCode: -32601 });
  }
  const method = driver[name];
  if (typeof method !== 'function') {
    throw Object.assign(new McsError('E_DRIVER_NOT_IMPLEMENTED', `the driver does not implement ${name}; its meta.capabilities say which mixins it has`, { details: { method: name } }), { rpcCode: -32601 });
  }
  return method as (...args: unknown[]) => unknown;
}

export interface RpcRequest {
  jsonrpc: '2.0';
  id?: number;
  method: string;
  params?: unknown;
}
export interface RpcError {
  /** JSON-RPC numeric code: -32700 parse, -32600 invalid request, -32601 no such method, -32000 a coded mcs-pkg error. */
  code: number;
  message: string;
  /** The stable mcs-pkg code and its details. */
  data?: { code: string; details?: Record<string, unknown> };
}
export interface RpcResponse {
  jsonrpc: '2.0';
  id: number | null;
  result?: unknown;
  error?: RpcError;
}
export type RpcMessage = RpcRequest | RpcResponse;

/** One line of the channel, refused when over the cap (the peer is told, the message is not sent). */
export function encodeMessage(message: RpcMessage, maxBytes: number): string {
  const text = `${JSON.stringify(message)}\n`;
  const size = Buffer.byteLength(text);
  if (size > maxBytes) {
    throw new McsError('E_HOST_MESSAGE_TOO_LARGE', `host message ${'method' in message ? message.method : `response ${message.id}`} is ${size} bytes, over the cap of ${maxBytes}; return less data, or raise maxMessageBytes`, { details: { size, cap: maxBytes } });
  }
  return text;
}

/**
 * Splits the byte stream into messages. A line longer than the cap is a
 * protocol fault (onFault), never buffered past the cap.
 */
export class LineDecoder {
  private parts: Buffer[] = [];
  private size = 0;
  private broken = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onMessage: (message: unknown) => void,
    private readonly onFault: (error: McsError) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.broken) return;
    let start = 0;
    for (let newline = chunk.indexOf(10, start); newline !== -1; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      start = newline + 1;
      if (!this.take(piece)) return;
      const line = Buffer.concat([...this.parts]).toString('utf8');
      this.parts = [];
      this.size = 0;
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        return this.fault(new McsError('E_HOST_PROTOCOL', `the host channel carried a line that is not JSON (${line.length} characters)`, {}));
      }
      this.onMessage(message);
      if (this.broken) return;
    }
    this.take(chunk.subarray(start));
  }

  private take(piece: Buffer): boolean {
    this.size += piece.length;
    if (this.size + 1 > this.maxBytes) {
      this.fault(new McsError('E_HOST_MESSAGE_TOO_LARGE', `a host message is over the cap of ${this.maxBytes} bytes; it was refused unread`, { details: { cap: this.maxBytes } }));
      return false;
    }
    if (piece.length > 0) this.parts.push(piece);
    return true;
  }

  private fault(error: McsError): void {
    this.broken = true;
    this.parts = [];
    this.onFault(error);
  }
}

/**
 * Writes the channel's lines, those written in one tick in one system call:
 * the stream is corked at the first write and uncorked when the tick's
 * callbacks and promise jobs have run, so a burst of pipelined calls (or of
 * their answers) goes out as one writev.
 */
export function batchedWriter(stream: Writable): (line: string) => void {
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork();
  };
  return (line) => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(uncork);
    }
    stream.write(line);
  };
}

/** A coded error as the protocol carries it. */
export function toRpcError(error: unknown, fallback: McsErrorCode): RpcError {
  const coded = error instanceof McsError ? error : undefined;
  return {
    code: -32000,
    message: error instanceof Error ? error.message : String(error),
    data: { code: coded?.code ?? fallback, ...(coded?.details ? { details: coded.details } : {}) },
  };
}
