import type { RateLimitAlgorithm } from './algorithm.js';
import { type Clock, systemClock } from './clock.js';
import { MemoryStore } from './memory-store.js';
import type { RateLimitConfig } from './rate-limit-config.js';
import type { RateLimitStore } from './rate-limit-store.js';
import { createRateLimitAlgorithm } from './registry.js';

/** Builds the store a limiter keeps its state in, for the limiter's algorithm and clock. */
export type RateLimitStoreFactory = (algorithm: RateLimitAlgorithm, now: Clock) => RateLimitStore;

/** How a {@link RateLimiter} is built besides its config. */
export interface RateLimiterOptions {
  /** Time source; tests pass a manual clock. Default {@link systemClock}. */
  now?: Clock;
  /** Default an in-memory store. */
  store?: RateLimitStoreFactory;
}

/** A decision spelled out, for callers off the hot path. */
export interface RateLimitDecision {
  /** True when the request was allowed and counted. */
  allowed: boolean;
  /** 0 when allowed, else whole ms until a retry can succeed. */
  retryAfter: number;
}

/** Decides per client id whether a request may go ahead, by one algorithm over one store. */
export class RateLimiter {
  /** The algorithm, built from the config by registry name. */
  readonly algorithm: RateLimitAlgorithm;
  /** Where the state lives. */
  readonly store: RateLimitStore;
  readonly #now: Clock;

  constructor(config: RateLimitConfig, options: RateLimiterOptions = {}) {
    this.algorithm = createRateLimitAlgorithm(config);
    this.#now = options.now ?? systemClock;
    this.store = (options.store ?? ((a, now) => new MemoryStore(a, { now })))(this.algorithm, this.#now);
  }

  /** 0 when `key` may go ahead now (and counts it), else whole ms until a retry can succeed. */
  take(key: string): number | Promise<number> {
    return this.store.take(key, this.#now());
  }

  /** {@link take} as an object, for callers that prefer one over a bare number. */
  async decide(key: string): Promise<RateLimitDecision> {
    const retryAfter = await this.store.take(key, this.#now());
    return { allowed: retryAfter === 0, retryAfter };
  }

  /** Forgets `key`'s history, e.g. after an operator lifts a block. */
  reset(key: string): void | Promise<void> {
    return this.store.reset(key);
  }

  /** Starts the store's upkeep (expiring idle clients). */
  start(): void {
    this.store.start();
  }

  /** Stops the store's upkeep so shutdown leaves no timer behind. */
  stop(): void | Promise<void> {
    return this.store.stop();
  }
}
