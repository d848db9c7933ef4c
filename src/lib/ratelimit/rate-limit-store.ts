/**
 * Where rate-limit state lives: one algorithm's state for many keys. Sync or async alike, so an
 * in-memory store answers at once and a Redis store later answers with a promise.
 */
export interface RateLimitStore {
  /**
   * Decides one request for `key` at `now`: 0 when allowed (and counted), otherwise the whole ms
   * until a retry can succeed. A plain number rather than an object, so a decision allocates nothing.
   */
  take(key: string, now: number): number | Promise<number>;
  /** Forgets `key`, so its next request is decided as a fresh key's. */
  reset(key: string): void | Promise<void>;
  /** Starts background upkeep (expiring idle keys); calling it again changes nothing. */
  start(): void;
  /** Stops background upkeep and leaves no timer or connection behind; state is kept. */
  stop(): void | Promise<void>;
}
