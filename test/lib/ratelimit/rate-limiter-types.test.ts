// What `RateLimiter.take` returns follows its store. These lines are checked by the compiler when
// the tests are built: a `@ts-expect-error` whose line compiles is itself an error, so both what
// must compile and what must not are held here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../../src/lib/ratelimit/memory-store.js';
import type { RateLimitStore } from '../../../src/lib/ratelimit/rate-limit-store.js';
import { RateLimiter } from '../../../src/lib/ratelimit/rate-limiter.js';
import { AsyncStore } from './async-store.js';

const config = { algorithm: 'fixed-window', limit: 1, window: 60_000 };

describe('RateLimiter types follow the store', () => {
  it('over the default in-memory store, take is a number', () => {
    const limiter = new RateLimiter(config, { now: () => 0 });
    const n: number = limiter.take('k');
    assert.equal(n, 0);
    assert.equal(limiter.take('k') === 0, false);
    const store: MemoryStore = limiter.store;
    assert.ok(store instanceof MemoryStore);
    limiter.reset('k');
    assert.equal(limiter.take('k') === 0, true);
  });

  it('over an async store, take is a promise that does not compare with a number', async () => {
    const limiter = new RateLimiter(config, { now: () => 0, store: (a) => new AsyncStore(a) });
    // @ts-expect-error: a promise is never 0, so this check would refuse everyone; await it first
    const forgotAwait = limiter.take('k') === 0;
    assert.equal(forgotAwait, false);
    const verdict: Promise<number> = limiter.take('k');
    // @ts-expect-error: nor is it a number
    const n: number = verdict;
    assert.equal(await n, 60_000);
    await limiter.reset('k');
    assert.equal(await limiter.take('k'), 0);
  });

  it('over a store known only as RateLimitStore, take may be either, and await covers both', async () => {
    const store: RateLimitStore = new AsyncStore(new RateLimiter(config).algorithm);
    const limiter = new RateLimiter(config, { now: () => 0, store: () => store });
    const verdict = limiter.take('k');
    // @ts-expect-error: it may be a promise
    const n: number = verdict;
    assert.equal(await n, 0);
  });
});
