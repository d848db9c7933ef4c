/** Options of {@link RestartBackoff}. */
export interface RestartBackoffOptions {
  /** Delay before restarting a worker that crashed soon after its last start, ms; doubles each time. */
  firstDelayMs?: number;
  /** Longest delay, ms. */
  maxDelayMs?: number;
  /** A worker that ran this long before it crashed is restarted at once and its delay starts over, ms. */
  stableMs?: number;
}

/**
 * When to restart a crashed worker. A worker that ran for a while is replaced at once; one that
 * crashes again soon after starting waits 100 ms, then 200, 400 … up to 30 s, so a worker that
 * cannot start (a bad file, a port taken) costs a few restarts a minute, not hundreds a second.
 */
export class RestartBackoff {
  readonly #firstMs: number;
  readonly #maxMs: number;
  readonly #stableMs: number;
  #nextMs = 0;

  constructor(options: RestartBackoffOptions = {}) {
    this.#firstMs = options.firstDelayMs ?? 100;
    this.#maxMs = options.maxDelayMs ?? 30_000;
    this.#stableMs = options.stableMs ?? 10_000;
  }

  /** The delay before restarting a worker that exited after running `ranMs`; records the crash. */
  delayAfter(ranMs: number): number {
    if (ranMs >= this.#stableMs) this.#nextMs = 0;
    const delay = this.#nextMs;
    this.#nextMs = delay === 0 ? this.#firstMs : Math.min(delay * 2, this.#maxMs);
    return delay;
  }
}
