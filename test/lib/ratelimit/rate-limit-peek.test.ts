import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../../src/lib/ratelimit/memory-store.js';
import { PEEK_CAP, peekRateLimit } from '../../../src/lib/ratelimit/rate-limit-peek.js';
import { createRateLimitAlgorithm } from '../../../src/lib/ratelimit/registry.js';

const ALGORITHMS = ['fixed-window', 'token-bucket', 'sliding-window', 'gcra'] as const;
// a time well inside a fixed window, so no window edge falls during a test
const T0 = 1_000_000_500;

describe('peeking at a rate limit', () => {
  for (const name of ALGORITHMS) {
    it(`${name}: says how many would pass now, counts nothing, and agrees with take`, () => {
      const algorithm = createRateLimitAlgorithm({ algorithm: name, limit: 5, window: 1000 });
      const store = new MemoryStore(algorithm);
      const fresh = store.peek('a', T0);
      assert.equal(fresh.remaining, 5);
      assert.equal(fresh.retryAfter, 0);
      assert.equal(store.size, 0, 'a peek tracks no key');
      for (let i = 0; i < 3; i++) assert.equal(store.take('a', T0), 0);
      assert.equal(store.peek('a', T0).remaining, 2);
      assert.equal(store.peek('a', T0).remaining, 2, 'peeking twice changes nothing');
      assert.deepEqual(
        { ...store.peek('a', T0), remaining: 2 },
        { algorithm: name, limit: 5, window: 1000, burst: algorithm.burst, remaining: 2, retryAfter: 0 },
      );
      // exactly as many as the peek said pass, then take refuses with the peek's wait
      assert.equal(store.take('a', T0), 0);
      assert.equal(store.take('a', T0), 0);
      const spent = store.peek('a', T0);
      assert.equal(spent.remaining, 0);
      assert.equal(spent.retryAfter, store.take('a', T0));
      assert.ok(spent.retryAfter > 0);
    });
  }

  it('reads a fresh key for missing or malformed state', () => {
    const algorithm = createRateLimitAlgorithm({ algorithm: 'token-bucket', limit: 4, window: 1000 });
    assert.equal(peekRateLimit(algorithm, undefined, T0).remaining, 4);
    assert.equal(peekRateLimit(algorithm, [1], T0).remaining, 4, 'a state of the wrong length');
    assert.equal(peekRateLimit(algorithm, [1, T0], T0).remaining, 1);
  });

  it('stops counting at PEEK_CAP for a very large limit', () => {
    const algorithm = createRateLimitAlgorithm({ algorithm: 'gcra', limit: 10 * PEEK_CAP, window: 1000 });
    assert.equal(peekRateLimit(algorithm, undefined, T0).remaining, PEEK_CAP);
  });
});
