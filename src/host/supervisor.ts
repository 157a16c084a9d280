/**
 * The host a proxy calls, kept by a restart policy: when the host has exited
 * (a crash, a call past its deadline, a protocol fault) the next call starts a
 * new one with the same verified files and the same confinement, until the
 * policy's limit, after which every call fails with E_HOST_RESTART_LIMIT.
 * Calls pending when a host dies are never repeated (a tool call is not known
 * to be safe to run twice): they fail with the host's own error.
 */
import { McsError } from '../errors.js';
import type { CallOptions, HostClient } from './client.js';

/** How often a host may be restarted: at most `max` restarts within any `windowMs` (default 60 s). */
export interface RestartPolicy {
  max: number;
  windowMs?: number;
}

export const DEFAULT_RESTART_WINDOW_MS = 60_000;

export class HostSupervisor {
  private restarting: Promise<HostClient> | undefined;
  /** When each restart within the window began (ms since the epoch). */
  private readonly restarts: number[] = [];
  private gaveUp: McsError | undefined;
  private closed = false;
  private current!: HostClient;

  constructor(
    /** Spawns and initializes a new host (the same plan, a fresh working folder). */
    private readonly launch: () => Promise<HostClient>,
    private readonly spec: string,
    private readonly policy: RestartPolicy | undefined,
    private readonly onRestart: (attempt: number, cause: string | undefined) => void,
  ) {
    if (policy && (!Number.isInteger(policy.max) || policy.max < 0 || (policy.windowMs !== undefined && !(policy.windowMs > 0)))) {
      throw new McsError('E_USAGE', `${spec}: restart needs a whole number max >= 0 and a windowMs > 0, got ${JSON.stringify(policy)}`, { details: { restart: policy } });
    }
  }

  /** Starts the first host. */
  async start(): Promise<void> {
    this.current = await this.launch();
  }

  /** The host now running (its pid and the like). */
  get client(): HostClient {
    return this.current;
  }

  /** One call to the running host, starting a new one first if the last has exited and the policy allows. */
  async call(method: string, params: unknown, options: CallOptions = {}): Promise<unknown> {
    const client = await this.host();
    return client.call(method, params, options);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.restarting?.catch(() => undefined);
    await this.current.close();
  }

  private async host(): Promise<HostClient> {
    if (this.current.running || this.closed || !this.policy) return this.current; // a call on an exited host fails with its exit error
    if (this.gaveUp) throw this.gaveUp;
    this.restarting ??= this.restart(this.policy).finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  private async restart(policy: RestartPolicy): Promise<HostClient> {
    const windowMs = policy.windowMs ?? DEFAULT_RESTART_WINDOW_MS;
    const now = Date.now();
    while (this.restarts.length > 0 && this.restarts[0]! <= now - windowMs) this.restarts.shift();
    const cause = this.current.exitError?.code;
    if (this.restarts.length >= policy.max) {
      this.gaveUp = new McsError('E_HOST_RESTART_LIMIT', `${this.spec}: the host exited (${cause ?? 'unknown cause'}) after ${this.restarts.length} restart(s) within ${windowMs} ms, the most its restart policy allows (max ${policy.max}); load the driver again once its failure is understood`, {
        cause: this.current.exitError,
        details: { restarts: this.restarts.length, max: policy.max, windowMs, cause: cause ?? null },
      });
      throw this.gaveUp;
    }
    this.restarts.push(now);
    this.onRestart(this.restarts.length, cause);
    // a failed start counts as a restart; the next call tries again while the policy allows
    this.current = await this.launch();
    if (this.closed) await this.current.close();
    return this.current;
  }
}
