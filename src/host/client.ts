/**
 * The client side of the host protocol: spawns the confined child, frames
 * messages on fd 3, gives every call a deadline and a size cap, and fails
 * pending calls with a coded error when the child dies. No child outlives its
 * client: close() ends it, and the client's exit kills any left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { McsError, type McsErrorCode } from '../errors.js';
import type { Confinement } from './confine.js';
import { LineDecoder, batchedWriter, encodeMessage, type RpcResponse } from './protocol.js';

export interface HostClientOptions {
  maxMessageBytes: number;
  /** Deadline of a call that names none, in ms. */
  callTimeoutMs: number;
  stderrCapBytes: number;
  workDir: string;
  onExit?: (exit: { code: number | null; signal: NodeJS.Signals | null }) => void;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
  cleanup: () => void;
}

const live = new Set<ChildProcess>();
let exitHook = false;

/** The client's exit (normal or by an uncaught error) kills every host child it still has. */
function killAllOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** A bounded log: the last `cap` bytes written. */
class TailLog {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly cap: number) {}
  write(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.cap && this.chunks.length > 0) {
      const first = this.chunks[0]!;
      const excess = this.size - this.cap;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export class HostClient {
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly channel: Duplex;
  private readonly write: (line: string) => void;
  private readonly pending = new Map<number, Pending>();
  private readonly log: TailLog;
  private nextId = 1;
  private exited: McsError | undefined;
  private closing = false;
  private readonly exitedPromise: Promise<void>;

  constructor(plan: Confinement, private readonly options: HostClientOptions) {
    killAllOnExit();
    this.log = new TailLog(options.stderrCapBytes);
    this.child = spawn(plan.command, plan.args, { env: plan.env, cwd: options.workDir, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    live.add(this.child);
    this.pid = this.child.pid ?? -1;
    // the driver's stdout goes to the log like its stderr: it never reaches the channel, and a flood is drained, not buffered
    this.child.stdout!.on('data', (chunk: Buffer) => this.log.write(chunk));
    this.child.stderr!.on('data', (chunk: Buffer) => this.log.write(chunk));
    this.channel = this.child.stdio[3] as Duplex;
    this.write = batchedWriter(this.channel);
    const decoder = new LineDecoder(options.maxMessageBytes, (message) => this.onMessage(message as RpcResponse), (error) => this.fault(error));
    this.channel.on('data', (chunk: Buffer) => decoder.push(chunk));
    this.channel.on('error', () => undefined);
    // an idle host does not keep its client alive (a pending call's deadline timer does); the client's exit kills it
    this.child.unref();
    for (const stream of [this.child.stdout, this.child.stderr, this.channel]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
    this.exitedPromise = new Promise((resolve) => {
      this.child.on('error', (error) => {
        this.exited ??= new McsError('E_HOST_PROTOCOL', `the host process could not start: ${error.message}`, { details: { command: plan.command } });
      });
      this.child.on('close', (code, signal) => {
        live.delete(this.child);
        this.exited ??= new McsError('E_HOST_CRASHED', `the host process exited (${signal ? `signal ${signal}` : `code ${code}`})${this.closing ? ' after close()' : ''}; its calls cannot be answered${this.stderr() ? `; its log ends: ${this.stderr().slice(-400)}` : ''}`, {
          details: { exitCode: code, signal, stderr: this.stderr().slice(-4096) },
        });
        this.failAll(this.exited);
        rmSync(options.workDir, { recursive: true, force: true });
        options.onExit?.({ code, signal });
        resolve();
      });
    });
  }

  /** The end of the child's stdout and stderr (bounded). */
  stderr(): string {
    return this.log.text();
  }

  get running(): boolean {
    return this.exited === undefined;
  }

  /** Why the host is gone (E_HOST_CRASHED, E_HOST_TIMEOUT, ...), once it is. */
  get exitError(): McsError | undefined {
    return this.exited;
  }

  /** One call, answered or failed with a coded error; past its deadline the child is killed (E_HOST_TIMEOUT). */
  call(method: string, params: unknown, options: CallOptions = {}): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    if (options.signal?.aborted) return Promise.reject(new McsError('E_ABORTED', `${method} was cancelled before it was sent`, {}));
    const id = this.nextId++;
    let text: string;
    try {
      text = encodeMessage({ jsonrpc: '2.0', id, method, params }, this.options.maxMessageBytes);
    } catch (error) {
      return Promise.reject(error);
    }
    const timeoutMs = options.timeoutMs ?? this.options.callTimeoutMs;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.settle(id);
        this.write(encodeMessage({ jsonrpc: '2.0', method: '$/cancel', params: { id } }, this.options.maxMessageBytes));
        reject(new McsError('E_ABORTED', `${method} was cancelled; the host drops its answer`, { details: { method } }));
      };
      const timer = setTimeout(() => {
        const error = new McsError('E_HOST_TIMEOUT', `${method} did not answer within ${timeoutMs} ms; the host process was killed`, { details: { method, timeoutMs } });
        this.exited ??= error;
        this.settle(id);
        reject(error);
        this.failAll(error);
        this.child.kill('SIGKILL');
      }, timeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, { method, resolve, reject, timer, cleanup: () => options.signal?.removeEventListener('abort', onAbort) });
      this.write(text);
    });
  }

  /** Asks the host to shut down, and kills it if it has not exited within a second. */
  async close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      if (!this.exited) {
        const kill = setTimeout(() => this.child.kill('SIGKILL'), 1000);
        this.call('shutdown', null, { timeoutMs: 1000 }).catch(() => undefined);
        await this.exitedPromise;
        clearTimeout(kill);
      }
    }
    await this.exitedPromise;
  }

  private settle(id: number): Pending | undefined {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    clearTimeout(entry.timer);
    entry.cleanup();
    return entry;
  }

  private failAll(error: McsError): void {
    for (const id of [...this.pending.keys()]) this.settle(id)!.reject(error);
  }

  private fault(error: McsError): void {
    this.exited ??= error;
    this.failAll(error);
    this.child.kill('SIGKILL');
  }

  private onMessage(message: RpcResponse): void {
    if (typeof message !== 'object' || message === null || message.jsonrpc !== '2.0' || typeof message.id !== 'number') {
      return this.fault(new McsError('E_HOST_PROTOCOL', 'the host sent a message that is not a JSON-RPC 2.0 response to a call', {}));
    }
    const entry = this.settle(message.id);
    if (!entry) return; // the answer to a call cancelled or timed out
    if (message.error) {
      const code = (message.error.data?.code ?? 'E_HOST_PROTOCOL') as McsErrorCode;
      entry.reject(new McsError(code, message.error.message, { details: { ...message.error.data?.details, method: entry.method } }));
    } else entry.resolve(message.result);
  }
}
