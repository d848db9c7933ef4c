import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RestartBackoff } from '../../src/workers/restart-backoff.js';

describe('RestartBackoff', () => {
  it('restarts at once, then doubles the wait while the worker keeps crashing soon after starting', () => {
    const b = new RestartBackoff({ firstDelayMs: 100, maxDelayMs: 1000, stableMs: 10_000 });
    assert.deepEqual(
      [50, 50, 50, 50, 50, 50].map((ran) => b.delayAfter(ran)),
      [0, 100, 200, 400, 800, 1000],
    );
  });

  it('starts over after a worker that ran for a while', () => {
    const b = new RestartBackoff({ firstDelayMs: 100, maxDelayMs: 1000, stableMs: 10_000 });
    b.delayAfter(10);
    b.delayAfter(10);
    assert.equal(b.delayAfter(10), 200);
    assert.equal(b.delayAfter(10_000), 0);
    assert.equal(b.delayAfter(10), 100);
  });
});
