import { type Clock, systemClock } from '../time/clock.js';
import type { RateLimitAlgorithm } from './algorithm.js';
import { MemoryStore } from './memory-store.js';
import type { RateLimitConfig } from './rate-limit-config.js';
import type { RateLimitPeek } from './rate-limit-peek.js';
import type { AsyncRateLimitStore, RateLimitStore, SyncRateLimitStore } from './rate-limit-store.js';
import { createRateLimitAlgorithm } from './registry.js';

/** Builds the store a limiter keeps its state in, for the limiter's algorithm and clock. */
export type RateLimitStoreFactory<S extends RateLimitStore = RateLimitStore> = (
  algorithm: RateLimitAlgorithm,
  now: Clock,
) => S;

/** How a {@link RateLimiter} over store type `S` is built besides its config. */
export interface RateLimiterOptions<S extends RateLimitStore = MemoryStore> {
  /** Time source; tests pass a manual clock. Default {@link systemClock}. */
  now?: Clock;
  /** Default an in-memory store. */
  store?: RateLimitStoreFactory<S>;
}

/** A decision spelled out, for callers off the hot path. */
export interface RateLimitDecision {
  /** True when the request was allowed and counted. */
  allowed: boolean;
  /** 0 when allowed, else whole ms until a retry can succeed. */
  retryAfter: number;
}

/**
 * Decides per client id whether a request may go ahead, by one algorithm over one store. Typed by
 * its store `S`: over the default in-memory store (or any {@link SyncRateLimitStore}) `take`
 * returns a number, over an {@link AsyncRateLimitStore} a `Promise<number>`, so forgetting the
 * `await` (`limiter.take(k) === 0` on a promise) does not compile.
 */
export class RateLimiter<S extends RateLimitStore = MemoryStore> {
  /** The algorithm, built from the config by registry name. */
  readonly algorithm: RateLimitAlgorithm;
  /** Where the state lives. */
  readonly store: S;
  readonly #now: Clock;

  constructor(config: RateLimitConfig, options: RateLimiterOptions<S> = {}) {
    this.algorithm = createRateLimitAlgorithm(config);
    this.#now = options.now ?? systemClock;
    // Without `options.store` nothing infers S, so it is its default, MemoryStore: what is built here.
    const build = options.store ?? (memoryStore as RateLimitStoreFactory<S>);
    this.store = build(this.algorithm, this.#now);
  }

  /** 0 when `key` may go ahead now (and counts it), else whole ms until a retry can succeed. */
  take(key: string): ReturnType<S['take']> {
    return this.store.take(key, this.#now()) as ReturnType<S['take']>;
  }

  /** {@link take} as an object, for callers that prefer one over a bare number. */
  async decide(key: string): Promise<RateLimitDecision> {
    const retryAfter = await this.store.take(key, this.#now());
    return { allowed: retryAfter === 0, retryAfter };
  }

  /**
   * What `key` would be allowed now, counting nothing; undefined when the store cannot tell.
   * Rejects when a remote store fails (a view should say so rather than guess).
   */
  async peek(key: string): Promise<RateLimitPeek | undefined> {
    return this.store.peek?.(key, this.#now());
  }

  /** Forgets `key`'s history, e.g. after an operator lifts a block. */
  reset(key: string): ReturnType<S['reset']> {
    return this.store.reset(key) as ReturnType<S['reset']>;
  }

  /** Starts the store's upkeep (expiring idle clients). */
  start(): void {
    this.store.start();
  }

  /** Stops the store's upkeep so shutdown leaves no timer behind. */
  stop(): ReturnType<S['stop']> {
    return this.store.stop() as ReturnType<S['stop']>;
  }
}

const memoryStore: RateLimitStoreFactory = (algorithm, now) => new MemoryStore(algorithm, { now });
