import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientLimitState } from '../../../src/control/dashboard/client-limits.js';
import { ConcurrencyLimiter } from '../../../src/lib/ratelimit/concurrency-limiter.js';
import { RateLimiter } from '../../../src/lib/ratelimit/rate-limiter.js';

describe("a client's limit state", () => {
  it('reads the rate left and the slots held from the gates that decide', async () => {
    let now = 5000;
    const rateLimit = new RateLimiter(
      { algorithm: 'fixed-window', limit: 4, window: 60_000 },
      { now: () => now },
    );
    const concurrency = new ConcurrencyLimiter(3);
    rateLimit.take('alice');
    concurrency.tryAcquire('alice');
    concurrency.tryAcquire('alice');
    const alice = await clientLimitState({ rateLimit, concurrency }, 'alice');
    assert.equal(alice.rate?.remaining, 3);
    assert.equal(alice.rate?.algorithm, 'fixed-window');
    assert.deepEqual(alice.concurrency, { used: 2, limit: 3 });
    assert.equal(alice.error, undefined);
    const bob = await clientLimitState({ rateLimit, concurrency }, 'bob');
    assert.equal(bob.rate?.remaining, 4);
    assert.deepEqual(bob.concurrency, { used: 0, limit: 3 });
    // the view counted nothing
    now += 1;
    assert.equal((await clientLimitState({ rateLimit, concurrency }, 'alice')).rate?.remaining, 3);
  });

  it('says there are no limits when none are configured', async () => {
    assert.deepEqual(await clientLimitState({}, 'alice'), { rate: null, concurrency: null });
  });

  it('says what failed when the store cannot be read', async () => {
    const state = await clientLimitState(
      {
        rateLimit: {
          take: () => 0,
          peek: () => Promise.reject(new Error('Redis is down')),
        },
      },
      'alice',
    );
    assert.equal(state.rate, null);
    assert.equal(state.error, 'Redis is down');
  });
});
