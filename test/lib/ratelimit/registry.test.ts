import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, hasCode, SwitchyardError } from '../../../src/lib/errors.js';
import { FixedWindow } from '../../../src/lib/ratelimit/fixed-window.js';
import {
  createRateLimitAlgorithm,
  rateLimitAlgorithmNames,
  registerRateLimitAlgorithm,
} from '../../../src/lib/ratelimit/registry.js';

describe('rate limit algorithm registry', () => {
  it('builds each algorithm by its config name', () => {
    assert.deepEqual(rateLimitAlgorithmNames().slice(0, 4), [
      'fixed-window',
      'token-bucket',
      'sliding-window',
      'gcra',
    ]);
    for (const name of ['fixed-window', 'token-bucket', 'sliding-window', 'gcra']) {
      const alg = createRateLimitAlgorithm({ algorithm: name, limit: 5, window: 1000 });
      assert.equal(alg.name, name);
      assert.deepEqual([alg.limit, alg.window, alg.burst], [5, 1000, 5]);
    }
    const g = createRateLimitAlgorithm({ algorithm: 'gcra', limit: 5, window: 1000, burst: 2 });
    assert.equal(g.burst, 2);
  });

  it('names the valid algorithms when asked for an unknown one', () => {
    assert.throws(
      () => createRateLimitAlgorithm({ algorithm: 'leaky-bucket', limit: 5, window: 1000 }),
      (e) =>
        e instanceof SwitchyardError &&
        e.code === ErrorCodes.ERR_UNKNOWN_RATE_LIMIT_ALGORITHM &&
        /leaky-bucket/.test(e.message) &&
        /fixed-window, token-bucket, sliding-window, gcra/.test(e.message),
    );
  });

  it('rejects limits, windows and bursts it cannot honour', () => {
    const bad: Record<string, unknown>[] = [
      { algorithm: 'gcra', limit: 0, window: 1000 },
      { algorithm: 'gcra', limit: -1, window: 1000 },
      { algorithm: 'token-bucket', limit: 1.5, window: 1000 },
      { algorithm: 'fixed-window', limit: Number.NaN, window: 1000 },
      { algorithm: 'fixed-window', limit: '10', window: 1000 },
      { algorithm: 'sliding-window', limit: 10, window: 0 },
      { algorithm: 'sliding-window', limit: 10, window: 0.5 },
      { algorithm: 'gcra', limit: 10, window: Number.POSITIVE_INFINITY },
      { algorithm: 'gcra', limit: 10, window: 1000, burst: 0 },
      { algorithm: 'token-bucket', limit: 10, window: 1000, burst: 2.5 },
      // a burst given where it has no meaning is a mistake worth hearing about
      { algorithm: 'fixed-window', limit: 10, window: 1000, burst: 5 },
      { algorithm: 'sliding-window', limit: 10, window: 1000, burst: 5 },
    ];
    for (const config of bad) {
      assert.throws(
        () => createRateLimitAlgorithm(config as never),
        (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
        JSON.stringify(config),
      );
    }
  });

  it('takes user algorithms under new names', () => {
    registerRateLimitAlgorithm('test-strict', (p) => new FixedWindow({ limit: 1, window: p.window }));
    const alg = createRateLimitAlgorithm({ algorithm: 'test-strict', limit: 99, window: 1000 });
    assert.equal(alg.limit, 1);
    assert.ok(rateLimitAlgorithmNames().includes('test-strict'));
  });
});
