import { checkPositiveInteger } from './rate-limit-config.js';

/**
 * Caps simultaneous connections per key. Only keys holding at least one connection are stored, so
 * memory follows live connections, not every client ever seen.
 */
export class ConcurrencyLimiter {
  #limit: number;
  #counts = new Map<string, number>();

  constructor(limit: number) {
    this.#limit = checkPositiveInteger('concurrency limit', limit);
  }

  /** Connections one key may hold at once. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * Changes the cap at runtime. Keys above a lowered cap keep what they hold and get no more until
   * they drop below it, so live connections are never cut by a reload.
   */
  set limit(limit: number) {
    this.#limit = checkPositiveInteger('concurrency limit', limit);
  }

  /** Keys holding at least one connection. */
  get size(): number {
    return this.#counts.size;
  }

  /** Counts one more connection for `key` and returns true, or returns false when it is at the cap. */
  tryAcquire(key: string): boolean {
    const held = this.#counts.get(key) ?? 0;
    if (held >= this.#limit) return false;
    this.#counts.set(key, held + 1);
    return true;
  }

  /** Counts one connection of `key` as ended; a key holding none is left alone, so counts never go negative. */
  release(key: string): void {
    const held = this.#counts.get(key);
    if (held === undefined) return;
    if (held <= 1) this.#counts.delete(key);
    else this.#counts.set(key, held - 1);
  }

  /** Connections `key` holds now. */
  count(key: string): number {
    return this.#counts.get(key) ?? 0;
  }
}
