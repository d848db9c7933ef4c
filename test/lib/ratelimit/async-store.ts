/**
 * A rate-limit store that answers with promises, as a networked one (Redis) will, over an in-memory
 * store so its answers are known. Not a test file itself (no `.test.` in the name).
 */
import type { RateLimitAlgorithm } from '../../../src/lib/ratelimit/algorithm.js';
import { MemoryStore } from '../../../src/lib/ratelimit/memory-store.js';
import type { AsyncRateLimitStore } from '../../../src/lib/ratelimit/rate-limit-store.js';

/** Every answer a promise; counts the lifecycle calls it gets. */
export class AsyncStore implements AsyncRateLimitStore {
  /** The store that decides. */
  readonly inner: MemoryStore;
  /** Calls to `start`. */
  started = 0;
  /** Calls to `stop`. */
  stopped = 0;

  constructor(algorithm: RateLimitAlgorithm) {
    this.inner = new MemoryStore(algorithm);
  }

  async take(key: string, now: number): Promise<number> {
    return this.inner.take(key, now);
  }

  async reset(key: string): Promise<void> {
    this.inner.reset(key);
  }

  start(): void {
    this.started++;
  }

  async stop(): Promise<void> {
    this.stopped++;
  }
}
