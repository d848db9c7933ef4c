import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TokenBucket, tokenBucketIdleAt } from '../../../src/lib/ratelimit/token-bucket.js';

describe('token-bucket', () => {
  // 10 per second is one token per 100 ms
  const tb = new TokenBucket({ limit: 10, window: 1000, burst: 5 });

  function fresh(now = 0): Float64Array {
    const state = new Float64Array(tb.stride);
    tb.init(state, 0, now);
    return state;
  }

  it('starts full, spends the burst, then says when the next token is whole', () => {
    const state = fresh();
    for (let i = 0; i < 5; i++) assert.equal(tb.take(state, 0, 0), 0);
    assert.equal(tb.take(state, 0, 0), 100);
  });

  it('refills fractionally and names the exact wait for the rest of a token', () => {
    const state = fresh();
    for (let i = 0; i < 5; i++) tb.take(state, 0, 0);
    assert.equal(tb.take(state, 0, 50), 50);
    assert.equal(state[0], 0.5);
    assert.equal(tb.take(state, 0, 75), 25);
    assert.equal(state[0], 0.75);
    assert.equal(tb.take(state, 0, 99), 1);
    assert.equal(tb.take(state, 0, 100), 0);
    assert.equal(state[0], 0);
    // a third of a token takes 33.3 ms: rounded up, so waiting that long is enough
    assert.equal(tb.take(state, 0, 100 + 100 / 3), 67);
  });

  it('caps the refill at the burst', () => {
    const state = fresh();
    tb.take(state, 0, 0);
    let allowed = 0;
    for (let i = 0; i < 20; i++) if (tb.take(state, 0, 60_000) === 0) allowed++;
    assert.equal(allowed, 5);
  });

  it('defaults the burst to the limit', () => {
    const d = new TokenBucket({ limit: 7, window: 1000 });
    assert.equal(d.burst, 7);
    assert.equal(d.idleTtl, 1000);
    const state = new Float64Array(2);
    d.init(state, 0, 0);
    let allowed = 0;
    for (let i = 0; i < 10; i++) if (d.take(state, 0, 0) === 0) allowed++;
    assert.equal(allowed, 7);
  });

  it('refills nothing when the clock steps back', () => {
    const state = fresh(1000);
    for (let i = 0; i < 5; i++) tb.take(state, 0, 1000);
    assert.equal(tb.take(state, 0, 500), 100);
    assert.deepEqual(Array.from(state), [0, 1000]);
  });

  it('is idle once refilled to the burst', () => {
    const state = fresh();
    tb.take(state, 0, 0);
    tb.take(state, 0, 0);
    assert.equal(tokenBucketIdleAt(state, 0, 10, 1000, 5), 200);
    assert.equal(tb.idleTtl, 500);
  });

  it('property: the retry-after is the exact whole-ms wait, with uneven rates too', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom(7, 100, 1000, 60_000),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 100 }),
        (limit, window, burst, gaps) => {
          const alg = new TokenBucket({ limit, window, burst });
          const state = new Float64Array(2);
          alg.init(state, 0, 0);
          let t = 0;
          for (const gap of gaps) {
            t += gap;
            const retry = alg.take(state, 0, t);
            assert.ok(state[0] >= 0 && state[0] <= burst);
            if (retry === 0) continue;
            assert.ok(Number.isInteger(retry) && retry >= 1);
            assert.equal(alg.take(Float64Array.from(state), 0, t + retry), 0);
            if (retry > 1) assert.ok(alg.take(Float64Array.from(state), 0, t + retry - 1) > 0);
          }
        },
      ),
    );
  });
});
