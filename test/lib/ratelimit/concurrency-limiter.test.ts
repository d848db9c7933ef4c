import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import { ConcurrencyLimiter } from '../../../src/lib/ratelimit/concurrency-limiter.js';

describe('ConcurrencyLimiter', () => {
  it('admits up to the cap per key and refuses past it', () => {
    const c = new ConcurrencyLimiter(2);
    assert.deepEqual(
      [c.tryAcquire('a'), c.tryAcquire('a'), c.tryAcquire('a'), c.tryAcquire('b')],
      [true, true, false, true],
    );
    assert.deepEqual([c.count('a'), c.count('b'), c.count('z'), c.size], [2, 1, 0, 2]);
  });

  it('frees a place on release', () => {
    const c = new ConcurrencyLimiter(1);
    c.tryAcquire('a');
    assert.equal(c.tryAcquire('a'), false);
    c.release('a');
    assert.equal(c.tryAcquire('a'), true);
  });

  it('never goes negative and forgets keys at zero', () => {
    const c = new ConcurrencyLimiter(3);
    c.release('ghost');
    assert.equal(c.count('ghost'), 0);
    c.tryAcquire('a');
    c.tryAcquire('a');
    c.release('a');
    c.release('a');
    c.release('a');
    assert.equal(c.count('a'), 0);
    assert.equal(c.size, 0);
    assert.equal(c.tryAcquire('a'), true);
  });

  it('applies a changed cap to new acquisitions and keeps what is held', () => {
    const c = new ConcurrencyLimiter(3);
    for (let i = 0; i < 3; i++) c.tryAcquire('a');
    c.limit = 1;
    assert.equal(c.limit, 1);
    assert.equal(c.count('a'), 3);
    assert.equal(c.tryAcquire('a'), false);
    c.release('a');
    c.release('a');
    assert.equal(c.tryAcquire('a'), false);
    c.release('a');
    assert.equal(c.tryAcquire('a'), true);
    c.limit = 5;
    assert.equal(c.tryAcquire('a'), true);
  });

  it('rejects a cap that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => new ConcurrencyLimiter(bad),
        (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
      );
      assert.throws(
        () => {
          new ConcurrencyLimiter(1).limit = bad;
        },
        (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
      );
    }
  });

  it('property: matches a plain counting model and ends empty', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('acquire' as const), key: fc.integer({ min: 0, max: 4 }) }),
      fc.record({ kind: fc.constant('release' as const), key: fc.integer({ min: 0, max: 4 }) }),
      fc.record({ kind: fc.constant('limit' as const), key: fc.integer({ min: 1, max: 4 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 200 }), (limit, ops) => {
        const c = new ConcurrencyLimiter(limit);
        const model = new Map<number, number>();
        let cap = limit;
        for (const { kind, key } of ops) {
          const held = model.get(key) ?? 0;
          if (kind === 'acquire') {
            const ok = held < cap;
            assert.equal(c.tryAcquire(`k${key}`), ok);
            if (ok) model.set(key, held + 1);
          } else if (kind === 'release') {
            c.release(`k${key}`);
            if (held > 0) model.set(key, held - 1);
          } else {
            cap = key;
            c.limit = key;
          }
          for (const [k, n] of model) assert.equal(c.count(`k${k}`), n);
          assert.equal(c.size, [...model.values()].filter((n) => n > 0).length);
        }
        for (const [k, n] of model) for (let i = 0; i < n + 1; i++) c.release(`k${k}`);
        assert.equal(c.size, 0);
      }),
    );
  });
});
