import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import type { RateLimitAlgorithm } from '../../../src/lib/ratelimit/algorithm.js';
import { FixedWindow } from '../../../src/lib/ratelimit/fixed-window.js';
import { Gcra } from '../../../src/lib/ratelimit/gcra.js';
import { MemoryStore } from '../../../src/lib/ratelimit/memory-store.js';
import { SlidingWindow } from '../../../src/lib/ratelimit/sliding-window.js';
import { TokenBucket } from '../../../src/lib/ratelimit/token-bucket.js';
import { ManualClock } from '../../../src/lib/time/clock.js';
import type { IntervalTimers, TimerHandle } from '../../../src/lib/time/timers.js';

/** Interval timers that run only when told, and show which are still scheduled. */
class FakeTimers implements IntervalTimers {
  readonly active = new Map<TimerHandle, { fn: () => void; ms: number }>();
  unrefs = 0;

  setInterval(fn: () => void, ms: number): TimerHandle {
    const handle: TimerHandle = { unref: () => this.unrefs++ };
    this.active.set(handle, { fn, ms });
    return handle;
  }

  clearInterval(handle: TimerHandle): void {
    this.active.delete(handle);
  }

  fire(): void {
    for (const { fn } of this.active.values()) fn();
  }
}

// one request per second, no burst: a key is idle exactly 1000 ms after its last allowed request
const perSecond = () => new Gcra({ limit: 1, window: 1000, burst: 1 });

describe('MemoryStore', () => {
  it('decides like the algorithm on its own and tracks each key once', () => {
    const store = new MemoryStore(new FixedWindow({ limit: 2, window: 1000 }));
    assert.deepEqual(
      ['a', 'a', 'a', 'b'].map((k) => store.take(k, 100)),
      [0, 0, 900, 0],
    );
    assert.equal(store.size, 2);
    assert.ok(store.has('a') && !store.has('c'));
  });

  it('forgets exactly the keys whose state is a fresh key’s again', () => {
    const store = new MemoryStore(new FixedWindow({ limit: 5, window: 1000 }));
    store.take('a', 100);
    store.take('b', 999);
    store.take('c', 1500);
    assert.equal(store.sweep(999), 0);
    assert.equal(store.sweep(1000), 2);
    assert.deepEqual(
      ['a', 'b', 'c'].map((k) => store.has(k)),
      [false, false, true],
    );
    assert.equal(store.sweep(1999), 0);
    assert.equal(store.sweep(2000), 1);
    assert.equal(store.size, 0);
  });

  it('keeps a key alive while it is decided on', () => {
    const store = new MemoryStore(perSecond());
    const clock = new ManualClock(0);
    for (let i = 0; i < 10; i++) {
      store.take('busy', clock.now());
      store.sweep(clock.now());
      assert.ok(store.has('busy'), `gone at ${clock.now()}`);
      clock.advance(900);
    }
    store.sweep(clock.now() + 1000);
    assert.equal(store.has('busy'), false);
  });

  it('sweeps in proportion to what expired, not to what is tracked', () => {
    const store = new MemoryStore(perSecond());
    for (let i = 0; i < 10; i++) store.take(`old-${i}`, 0);
    for (let i = 0; i < 50_000; i++) store.take(`live-${i}`, 900);
    assert.equal(store.sweep(500), 0);
    assert.equal(store.sweep(1000), 10);
    assert.equal(store.sweep(1500), 0);
    // every key looked at so far was one that expired: the 50 000 live ones were never touched
    assert.equal(store.sweepVisits, 10);
    assert.equal(store.size, 50_000);
    assert.equal(store.sweep(1900), 50_000);
    assert.equal(store.sweepVisits, 50_010);
  });

  it('refiles a key decided on since it was filed, once, instead of moving it on every decision', () => {
    // 10 per second with a burst of 10: each request moves the key's idle time 100 ms on
    const store = new MemoryStore(new Gcra({ limit: 10, window: 1000 }));
    for (let t = 0; t <= 1000; t += 100) assert.equal(store.take('k', t), 0);
    assert.equal(store.sweep(1000), 0);
    assert.equal(store.sweepVisits, 1);
    assert.equal(store.sweep(1100), 1);
    assert.equal(store.sweepVisits, 2);
  });

  it('reuses the slots of forgotten keys instead of growing', () => {
    const store = new MemoryStore(perSecond(), { initialCapacity: 64 });
    for (let i = 0; i < 64; i++) store.take(`a${i}`, 0);
    assert.equal(store.capacity, 64);
    store.sweep(1000);
    assert.equal(store.size, 0);
    for (let i = 0; i < 64; i++) assert.equal(store.take(`b${i}`, 1000), 0);
    assert.equal(store.capacity, 64);
    // reused slots start fresh: a reused slot does not inherit its last owner's arrival time
    assert.ok(store.take('b0', 1000) > 0);
    store.take('c', 1000);
    assert.equal(store.capacity, 128);
  });

  it('reset forgets one key at once', () => {
    const store = new MemoryStore(new FixedWindow({ limit: 1, window: 1000 }));
    store.take('x', 0);
    store.take('y', 0);
    assert.ok(store.take('x', 10) > 0);
    store.reset('x');
    store.reset('nope');
    assert.equal(store.has('x'), false);
    assert.equal(store.take('x', 10), 0);
    assert.equal(store.sweep(1000), 2);
  });

  it('copes with a clock that steps backwards and with sweeps long overdue', () => {
    const store = new MemoryStore(new SlidingWindow({ limit: 3, window: 100 }));
    store.take('a', 5000);
    store.take('b', 4000);
    assert.equal(store.sweep(4500), 1);
    assert.ok(store.has('a'));
    assert.equal(store.sweep(1e9), 1);
    store.take('c', 10);
    assert.equal(store.sweep(210), 1);
  });

  it('sweeps on a timer once started and leaves no timer behind when stopped', () => {
    const timers = new FakeTimers();
    const clock = new ManualClock(0);
    const store = new MemoryStore(perSecond(), { now: clock.now, timers, sweepInterval: 250 });
    store.take('k', 0);
    assert.equal(store.running, false);
    store.start();
    store.start();
    assert.equal(timers.active.size, 1);
    assert.equal([...timers.active.values()][0].ms, 250);
    assert.equal(timers.unrefs, 1);
    assert.equal(store.running, true);
    clock.set(1000);
    timers.fire();
    assert.equal(store.size, 0);
    store.stop();
    store.stop();
    assert.equal(timers.active.size, 0);
    assert.equal(store.running, false);
  });

  it('with real timers, a started store holds no reference that keeps the process alive', () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const store = new MemoryStore(perSecond(), { sweepInterval: 10 });
    store.start();
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before);
    store.stop();
    assert.equal(store.running, false);
  });

  it('rejects bad options', () => {
    for (const options of [
      { sweepInterval: 0 },
      { sweepInterval: Number.NaN },
      { expiryResolution: -1 },
      { initialCapacity: 0 },
      { initialCapacity: 1.5 },
    ]) {
      assert.throws(
        () => new MemoryStore(perSecond(), options),
        (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
      );
    }
  });

  it('tracks a million keys', () => {
    const n = 1_000_000;
    const store = new MemoryStore(new FixedWindow({ limit: 1, window: 1000 }));
    let allowed = 0;
    for (let i = 0; i < n; i++) if (store.take(`client-${i}`, 0) === 0) allowed++;
    assert.equal(allowed, n);
    assert.equal(store.size, n);
    for (let i = 0; i < n; i += 1000) assert.equal(store.take(`client-${i}`, 10), 990);
    assert.equal(store.take('client-1000000', 10), 0);
    assert.equal(store.sweep(1000), n + 1);
    assert.equal(store.size, 0);
  });

  it('property: forgetting never changes an answer, and each sweep leaves exactly the live keys', () => {
    const algorithms: RateLimitAlgorithm[] = [
      new FixedWindow({ limit: 2, window: 100 }),
      new SlidingWindow({ limit: 3, window: 100 }),
      new TokenBucket({ limit: 2, window: 100, burst: 3 }),
      new Gcra({ limit: 3, window: 100, burst: 2 }),
    ];
    const op = fc.record({
      gap: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 300 })),
      key: fc.integer({ min: 0, max: 7 }),
      sweep: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.constantFrom(...algorithms),
        fc.constantFrom(1, 7, 25, 100),
        fc.constantFrom(10, 50, 1000),
        fc.array(op, { minLength: 1, maxLength: 120 }),
        (alg, expiryResolution, sweepInterval, ops) => {
          const store = new MemoryStore(alg, { expiryResolution, sweepInterval, initialCapacity: 2 });
          // the model never forgets: one state per key, created on first sight
          const model = new Map<number, Float64Array>();
          let t = 0;
          for (const { gap, key, sweep } of ops) {
            t += gap;
            if (sweep) {
              store.sweep(t);
              for (const [k, state] of model) {
                assert.equal(store.has(`k${k}`), alg.idleAt(state, 0) > t, `key ${k} at ${t}`);
              }
            }
            let state = model.get(key);
            if (state === undefined) {
              state = new Float64Array(alg.stride);
              alg.init(state, 0, t);
              model.set(key, state);
            }
            assert.equal(store.take(`k${key}`, t), alg.take(state, 0, t));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
