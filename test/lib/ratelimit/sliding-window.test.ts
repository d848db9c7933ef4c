import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SlidingWindow, slidingWindowIdleAt } from '../../../src/lib/ratelimit/sliding-window.js';

function fresh(alg: SlidingWindow, now = 0): Float64Array {
  const state = new Float64Array(alg.stride);
  alg.init(state, 0, now);
  return state;
}

/** Takes `n` requests at time `t` and returns how many were allowed. */
function burst(alg: SlidingWindow, state: Float64Array, t: number, n: number): number {
  let allowed = 0;
  for (let i = 0; i < n; i++) if (alg.take(state, 0, t) === 0) allowed++;
  return allowed;
}

describe('sliding-window', () => {
  const sw = new SlidingWindow({ limit: 10, window: 1000 });

  it('weighs the previous window by how much of it the sliding window still covers', () => {
    const state = fresh(sw);
    assert.equal(burst(sw, state, 500, 6), 6);
    // 25 % into the next window: estimate 6 × 0.75 = 4.5, so 4.5 + n ≤ 10 lets 5 more through
    assert.equal(burst(sw, state, 1250, 10), 5);
    assert.deepEqual(Array.from(state), [1000, 6, 5]);
    // halfway: 6 × 0.5 + 5 = 8, room for 2 more
    assert.equal(burst(sw, state, 1500, 10), 2);
  });

  it('refuses a double burst at a window edge and says when the estimate has room', () => {
    const state = fresh(sw);
    assert.equal(burst(sw, state, 999, 10), 10);
    // right after the edge the previous window still weighs fully: 10 × 1 + 0 + 1 > 10
    assert.equal(sw.take(state, 0, 1000), 100);
    assert.equal(sw.take(state, 0, 1099), 1);
    assert.equal(sw.take(state, 0, 1100), 0);
    // 10 × 0.9 + 1 + 1 > 10: the next slot opens once the weight is 0.8
    assert.equal(sw.take(state, 0, 1100), 100);
    assert.equal(sw.take(state, 0, 1200), 0);
  });

  it('waits into the next window when the current one is full', () => {
    const state = fresh(sw);
    assert.equal(burst(sw, state, 0, 10), 10);
    // nothing before, so the current window alone holds 10; in the next one it weighs 10 × (1 - x)
    // and a request fits once 10 × (1 - x) + 1 ≤ 10, i.e. x = 0.1
    assert.equal(sw.take(state, 0, 400), 600 + 100);
    assert.equal(sw.take(state, 0, 1099), 1);
    assert.equal(sw.take(state, 0, 1100), 0);
  });

  it('with a limit of 1 a full window means waiting two windows out', () => {
    const one = new SlidingWindow({ limit: 1, window: 1000 });
    const state = fresh(one);
    assert.equal(one.take(state, 0, 300), 0);
    assert.equal(one.take(state, 0, 300), 1700);
    assert.ok(one.take(state, 0, 1999) > 0);
    assert.equal(one.take(state, 0, 2000), 0);
  });

  it('forgets a window that is not adjacent', () => {
    const state = fresh(sw);
    burst(sw, state, 100, 10);
    assert.equal(burst(sw, state, 2100, 20), 10);
  });

  it('is idle two windows after its last count, one after a previous-only count', () => {
    const state = fresh(sw);
    assert.equal(slidingWindowIdleAt(state, 0, 1000), Number.NEGATIVE_INFINITY);
    sw.take(state, 0, 1500);
    assert.equal(slidingWindowIdleAt(state, 0, 1000), 3000);
    state.set([2000, 1, 0]);
    assert.equal(slidingWindowIdleAt(state, 0, 1000), 3000);
    assert.equal(sw.idleTtl, 2000);
  });

  it('property: the retry-after is the exact whole-ms wait', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(10, 100, 1000, 60_000),
        fc.array(fc.integer({ min: 0, max: 700 }), { minLength: 1, maxLength: 100 }),
        (limit, window, gaps) => {
          const alg = new SlidingWindow({ limit, window });
          const state = fresh(alg);
          let t = 0;
          for (const gap of gaps) {
            t += gap;
            const retry = alg.take(state, 0, t);
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
