import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import { MemoryStore } from '../../../src/lib/ratelimit/memory-store.js';
import { RateLimiter } from '../../../src/lib/ratelimit/rate-limiter.js';
import { ManualClock, systemClock } from '../../../src/lib/time/clock.js';
import { AsyncStore } from './async-store.js';

describe('RateLimiter', () => {
  it('decides per client on the injected clock', () => {
    const clock = new ManualClock(10_000);
    const limiter = new RateLimiter(
      { algorithm: 'token-bucket', limit: 2, window: 1000 },
      { now: clock.now },
    );
    assert.deepEqual(
      ['a', 'a', 'a', 'b'].map((k) => limiter.take(k)),
      [0, 0, 500, 0],
    );
    clock.advance(500);
    assert.equal(limiter.take('a'), 0);
    assert.equal(limiter.take('a'), 500);
    assert.equal(limiter.algorithm.name, 'token-bucket');
  });

  it('spells a decision out on request', async () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter(
      { algorithm: 'fixed-window', limit: 1, window: 1000 },
      { now: clock.now },
    );
    assert.deepEqual(await limiter.decide('a'), { allowed: true, retryAfter: 0 });
    clock.set(250);
    assert.deepEqual(await limiter.decide('a'), { allowed: false, retryAfter: 750 });
  });

  it('forgets a client on reset', () => {
    const limiter = new RateLimiter({ algorithm: 'gcra', limit: 1, window: 60_000 }, { now: () => 0 });
    limiter.take('a');
    assert.ok((limiter.take('a') as number) > 0);
    limiter.reset('a');
    assert.equal(limiter.take('a'), 0);
  });

  it('runs over any store, async ones included, and hands it the lifecycle', async () => {
    let built: AsyncStore | undefined;
    const limiter = new RateLimiter(
      { algorithm: 'sliding-window', limit: 1, window: 1000 },
      { now: () => 0, store: (algorithm) => (built = new AsyncStore(algorithm)) },
    );
    assert.equal(await limiter.take('a'), 0);
    assert.deepEqual(await limiter.decide('a'), { allowed: false, retryAfter: 2000 });
    await limiter.reset('a');
    assert.equal(await limiter.take('a'), 0);
    limiter.start();
    await limiter.stop();
    assert.equal(built?.started, 1);
    assert.equal(built?.stopped, 1);
    assert.equal(limiter.store, built);
  });

  it('builds its default store on its own clock and stops it cleanly', () => {
    const limiter = new RateLimiter({ algorithm: 'gcra', limit: 5, window: 1000 });
    assert.ok(limiter.store instanceof MemoryStore);
    limiter.start();
    assert.equal((limiter.store as MemoryStore).running, true);
    limiter.stop();
    assert.equal((limiter.store as MemoryStore).running, false);
  });

  it('fails on configs it cannot run', () => {
    assert.throws(
      () => new RateLimiter({ algorithm: 'nope', limit: 1, window: 1 }),
      (e) => hasCode(e, ErrorCodes.ERR_UNKNOWN_RATE_LIMIT_ALGORITHM),
    );
    assert.throws(
      () => new RateLimiter({ algorithm: 'gcra', limit: 0, window: 1 }),
      (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
    );
  });
});

describe('clocks', () => {
  it('the system clock is on the epoch scale and never goes back', () => {
    const a = systemClock();
    const b = systemClock();
    assert.ok(b >= a);
    assert.ok(Math.abs(a - Date.now()) < 1000);
  });

  it('a manual clock moves only when told', () => {
    const clock = new ManualClock(5);
    const now = clock.now;
    assert.equal(now(), 5);
    clock.advance(10);
    assert.equal(now(), 15);
    clock.set(1);
    assert.equal(now(), 1);
  });
});
