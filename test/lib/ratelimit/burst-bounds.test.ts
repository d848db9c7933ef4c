import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { RateLimitAlgorithm } from '../../../src/lib/ratelimit/algorithm.js';
import { FixedWindow } from '../../../src/lib/ratelimit/fixed-window.js';
import { Gcra } from '../../../src/lib/ratelimit/gcra.js';
import { SlidingWindow } from '../../../src/lib/ratelimit/sliding-window.js';
import { TokenBucket } from '../../../src/lib/ratelimit/token-bucket.js';

// How these algorithms differ is how many requests they let through in a short span. What
// sliding-window, gcra and token-bucket promise is an arrival curve: in any span of Δ < window ms,
// at most burst + ⌊limit × Δ / window⌋ requests (sliding-window's burst being its limit). So a
// burst can be spent once, then only the steady rate follows; fixed-window breaks this at every
// window edge, where it allows 2 × limit within a millisecond.

/** Times of the allowed requests among `times`, for one fresh key. */
function allowedTimes(alg: RateLimitAlgorithm, times: readonly number[]): number[] {
  const state = new Float64Array(alg.stride);
  alg.init(state, 0, times[0] ?? 0);
  return times.filter((t) => alg.take(state, 0, t) === 0);
}

/** The first span that breaks the arrival curve, or undefined when none does. */
function excess(alg: RateLimitAlgorithm, allowed: readonly number[]): string | undefined {
  for (let i = 0; i < allowed.length; i++) {
    for (let j = i; j < allowed.length; j++) {
      const span = allowed[j] - allowed[i];
      if (span >= alg.window) break;
      const bound = alg.burst + Math.floor((alg.limit * span) / alg.window + 1e-9);
      if (j - i + 1 > bound) return `${j - i + 1} allowed in [${allowed[i]}, ${allowed[j]}], bound ${bound}`;
    }
  }
  return undefined;
}

/** Request times clustered the way that stresses window edges: bursts, short gaps and long ones. */
const requestTimes = (window: number) =>
  fc
    .tuple(
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.array(
        fc.oneof(
          fc.constant(0),
          fc.integer({ min: 0, max: Math.ceil(window / 20) }),
          fc.integer({ min: 0, max: window }),
        ),
        { minLength: 1, maxLength: 150 },
      ),
    )
    .map(([start, gaps]) => {
      let t = start * window + (gaps[0] ?? 0);
      return gaps.map((g) => (t += g));
    });

const algorithms = fc
  .constantFrom(100, 1000)
  .chain((window) =>
    fc
      .tuple(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 20 }))
      .chain(([limit, burst]) =>
        fc.tuple(
          fc.constantFrom<RateLimitAlgorithm>(
            new SlidingWindow({ limit, window }),
            new Gcra({ limit, window, burst }),
            new TokenBucket({ limit, window, burst }),
          ),
          requestTimes(window),
        ),
      ),
  );

describe('burst bounds', () => {
  it('property: sliding-window, gcra and token-bucket keep to burst + steady rate in any span', () => {
    fc.assert(
      fc.property(algorithms, ([alg, times]) => {
        assert.equal(excess(alg, allowedTimes(alg, times)), undefined, alg.name);
      }),
      { numRuns: 300 },
    );
  });

  it('property: with burst 1, gcra and token-bucket never allow more than limit in any window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.constantFrom(100, 1000).chain((w) => fc.tuple(fc.constant(w), requestTimes(w))),
        fc.boolean(),
        (limit, [window, times], useGcra) => {
          const alg = useGcra
            ? new Gcra({ limit, window, burst: 1 })
            : new TokenBucket({ limit, window, burst: 1 });
          const allowed = allowedTimes(alg, times);
          for (let i = 0; i + limit < allowed.length; i++)
            assert.ok(allowed[i + limit] - allowed[i] >= window);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('fixed-window breaks the same bound (fast-check finds the double burst)', () => {
    const result = fc.check(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.constantFrom(100, 1000).chain((w) => fc.tuple(fc.constant(w), requestTimes(w))),
        (limit, [window, times]) => {
          const alg = new FixedWindow({ limit, window });
          return excess(alg, allowedTimes(alg, times)) === undefined;
        },
      ),
      { seed: 42, numRuns: 300 },
    );
    assert.equal(result.failed, true);
  });

  it('sliding-window refuses the edge burst that fixed-window allows', () => {
    const limit = 10;
    const edge = [...Array(limit).fill(999), ...Array(limit).fill(1000), ...Array(limit).fill(1001)];
    assert.equal(allowedTimes(new FixedWindow({ limit, window: 1000 }), edge).length, 2 * limit);
    assert.equal(allowedTimes(new SlidingWindow({ limit, window: 1000 }), edge).length, limit);
    assert.equal(allowedTimes(new Gcra({ limit, window: 1000, burst: limit }), edge).length, limit);
  });

  it('sliding-window is an estimate: a late-clustered previous window lets the bound be reached', () => {
    // all 10 of the previous window came at its last ms, but the estimate assumes them spread out,
    // so near the end of the next window 9 more fit: 19 within 1 s, exactly the documented bound
    const alg = new SlidingWindow({ limit: 10, window: 1000 });
    const times = [...Array(10).fill(999), ...Array(12).fill(1998)];
    const allowed = allowedTimes(alg, times);
    assert.equal(allowed.length, 19);
    assert.equal(excess(alg, allowed), undefined);
  });
});
