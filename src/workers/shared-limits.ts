/**
 * The per-client limits of a balancer with workers, kept in the primary: every worker asks it, so
 * "100 connections a minute" or "4 at a time" means that for the whole balancer, exactly as in one
 * process. The gates are the primary's own runtime's (a reload changes them there); the slots each
 * worker holds are remembered, so those of a worker that dies are given back.
 */
import type { ProxyRuntime } from '../proxy/runtime.js';

/** Per-client gates answered in the primary for its workers. */
export class SharedLimits {
  readonly #runtime: () => ProxyRuntime;
  // Slots held, by worker pid and key: what to give back when a worker goes.
  readonly #held = new Map<number, Map<string, number>>();

  constructor(runtime: () => ProxyRuntime) {
    this.#runtime = runtime;
  }

  /** The rate gate's answer for `key`: 0 to go ahead, else ms until a retry (0 without a limit). */
  take(key: string): number | Promise<number> {
    return this.#runtime().rateLimit?.take(key) ?? 0;
  }

  /** A concurrency slot for `key`, held by worker `pid`; true without a cap. */
  async acquire(pid: number, key: string): Promise<boolean> {
    const gate = this.#runtime().concurrency;
    if (gate === undefined) return true;
    const got = await gate.tryAcquire(key);
    if (got) {
      const held = this.#held.get(pid) ?? new Map<string, number>();
      held.set(key, (held.get(key) ?? 0) + 1);
      this.#held.set(pid, held);
    }
    return got;
  }

  /**
   * Both gates in one question, as one process asks them in turn: ms until a retry when the rate
   * refuses, else 0 with a slot held for worker `pid`, or -1 when the cap refuses.
   */
  async admit(pid: number, key: string): Promise<number> {
    const retryAfterMs = await this.take(key);
    if (retryAfterMs > 0) return retryAfterMs;
    return (await this.acquire(pid, key)) ? 0 : -1;
  }

  /** Gives back one slot of `key` that worker `pid` held. */
  release(pid: number, key: string): void {
    const held = this.#held.get(pid);
    const n = held?.get(key);
    if (held === undefined || n === undefined) return;
    if (n <= 1) held.delete(key);
    else held.set(key, n - 1);
    this.#runtime().concurrency?.release(key);
  }

  /** Gives back every slot worker `pid` held (it exited; its sessions are gone). */
  releaseAll(pid: number): void {
    const held = this.#held.get(pid);
    this.#held.delete(pid);
    if (held === undefined) return;
    const gate = this.#runtime().concurrency;
    for (const [key, n] of held) for (let i = 0; i < n; i++) gate?.release(key);
  }
}
