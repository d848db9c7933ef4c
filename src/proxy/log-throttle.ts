/**
 * At most one log line per key (a refusal reason) per interval: a flood of refusals must not
 * become a flood of log lines. The lines not written are counted and the next line says how many.
 */
export class LogThrottle<K> {
  readonly #intervalMs: number;
  readonly #last = new Map<K, { at: number; suppressed: number }>();

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Undefined when a line for `key` was written within the interval (this one is counted); else how many were left out since. */
  pass(key: K, now = Date.now()): number | undefined {
    const last = this.#last.get(key);
    if (last !== undefined && now - last.at < this.#intervalMs) {
      last.suppressed++;
      return undefined;
    }
    this.#last.set(key, { at: now, suppressed: 0 });
    return last?.suppressed ?? 0;
  }
}
