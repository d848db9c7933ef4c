import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Gcra, gcraIdleAt } from '../../../src/lib/ratelimit/gcra.js';

describe('gcra', () => {
  // 10 per second: one request per 100 ms once the burst of 3 is spent
  const g = new Gcra({ limit: 10, window: 1000, burst: 3 });

  function fresh(now = 0): Float64Array {
    const state = new Float64Array(g.stride);
    g.init(state, 0, now);
    return state;
  }

  it('allows the burst at once, then one request per emission interval', () => {
    const state = fresh();
    assert.deepEqual(
      [0, 0, 0, 0].map(() => g.take(state, 0, 0)),
      [0, 0, 0, 100],
    );
    assert.equal(g.take(state, 0, 60), 40);
    assert.equal(g.take(state, 0, 99), 1);
    assert.equal(g.take(state, 0, 100), 0);
    assert.equal(g.take(state, 0, 100), 100);
    assert.equal(g.take(state, 0, 200), 0);
  });

  it('does not move the arrival time for a refused request', () => {
    const state = fresh();
    for (let i = 0; i < 3; i++) g.take(state, 0, 0);
    const tat = state[0];
    for (let i = 0; i < 5; i++) g.take(state, 0, 10);
    assert.equal(state[0], tat);
  });

  it('earns the burst back after idling, never more', () => {
    const state = fresh();
    for (let i = 0; i < 3; i++) g.take(state, 0, 0);
    let allowed = 0;
    for (let i = 0; i < 10; i++) if (g.take(state, 0, 10_000) === 0) allowed++;
    assert.equal(allowed, 3);
  });

  it('rounds an uneven interval up', () => {
    const third = new Gcra({ limit: 3, window: 1000, burst: 1 });
    const state = new Float64Array(1);
    third.init(state, 0, 0);
    assert.equal(third.take(state, 0, 0), 0);
    assert.equal(third.take(state, 0, 0), 334);
    assert.equal(third.take(state, 0, 334), 0);
  });

  it('defaults the burst to the limit and is idle once the arrival time has passed', () => {
    const d = new Gcra({ limit: 4, window: 1000 });
    assert.equal(d.burst, 4);
    assert.equal(d.interval, 250);
    assert.equal(d.idleTtl, 1000);
    const state = fresh();
    g.take(state, 0, 0);
    g.take(state, 0, 0);
    assert.equal(gcraIdleAt(state, 0), 200);
  });

  it('property: the retry-after is the exact whole-ms wait', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.constantFrom(7, 100, 1000, 60_000),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 1e12 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 100 }),
        (limit, window, burst, start, gaps) => {
          const alg = new Gcra({ limit, window, burst });
          const state = new Float64Array(1);
          alg.init(state, 0, start);
          let t = start;
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
