/**
 * One rate limit's math over a key's state: a fixed number (`stride`) of float64 values at an
 * offset in a shared Float64Array, with time passed in. Plain numbers in and out keep a decision
 * free of allocation and let the same function be written as a Lua script for a Redis store.
 */
export interface RateLimitAlgorithm {
  /** Registry name, e.g. `gcra`. */
  readonly name: string;
  /** Requests allowed per window. */
  readonly limit: number;
  /** Window length in ms. */
  readonly window: number;
  /** Requests allowed back to back from a fresh key. */
  readonly burst: number;
  /** Float64 values one key's state takes. */
  readonly stride: number;
  /**
   * The longest a key's state can take, after its last decision, to decide exactly like a fresh
   * key's; stores size their expiry horizon by it.
   */
  readonly idleTtl: number;
  /** Writes a fresh key's state at `at`. */
  init(state: Float64Array, at: number, now: number): void;
  /**
   * Decides one request. Returns 0 when it is allowed (and counts it), otherwise the whole ms
   * (at least 1, rounded up) until a retry can succeed if nothing else is taken meanwhile; a
   * refused request is not counted.
   */
  take(state: Float64Array, at: number, now: number): number;
  /**
   * The time from which the state at `at` decides exactly like a fresh key's, so a store may
   * forget the key then without changing any answer (a Redis store sets it as the key's expiry).
   * Never earlier than `init` + `take` left it as time moves forward.
   */
  idleAt(state: Float64Array, at: number): number;
}
