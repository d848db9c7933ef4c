import type { RateLimitPeek } from './rate-limit-peek.js';

/**
 * Where rate-limit state lives: one algorithm's state for many keys. Sync or async alike, so an
 * in-memory store answers at once and a Redis store later answers with a promise. A
 * `RateLimiter` is typed by its store, so its `take` returns what the store's does.
 */
export interface RateLimitStore {
  /**
   * Decides one request for `key` at `now`: 0 when allowed (and counted), otherwise the whole ms
   * until a retry can succeed. A plain number rather than an object, so a decision allocates nothing.
   */
  take(key: string, now: number): number | Promise<number>;
  /** Forgets `key`, so its next request is decided as a fresh key's. */
  reset(key: string): void | Promise<void>;
  /**
   * What `key` would be allowed at `now`, counting nothing: for views such as the dashboard's.
   * Optional, so a store written before it still compiles; both stores here have it.
   */
  peek?(key: string, now: number): RateLimitPeek | Promise<RateLimitPeek>;
  /** Starts background upkeep (expiring idle keys); calling it again changes nothing. */
  start(): void;
  /** Stops background upkeep and leaves no timer or connection behind; state is kept. */
  stop(): void | Promise<void>;
}

/** A store that answers at once, such as the in-memory one: a limiter over it returns numbers. */
export interface SyncRateLimitStore extends RateLimitStore {
  /** {@link RateLimitStore.take}, answered at once. */
  take(key: string, now: number): number;
  /** {@link RateLimitStore.reset}, done at once. */
  reset(key: string): void;
  /** {@link RateLimitStore.stop}, done at once. */
  stop(): void;
}

/** A store that answers over the network, such as one on Redis: a limiter over it returns promises. */
export interface AsyncRateLimitStore extends RateLimitStore {
  /** {@link RateLimitStore.take}, answered by a promise. */
  take(key: string, now: number): Promise<number>;
}
