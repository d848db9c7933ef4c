import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isCandidateReport,
  isCountsRequest,
  isWorkerCommand,
  isWorkerReport,
} from '../../../src/bench/accept/control-messages.js';

describe('candidate control messages', () => {
  it('accepts the reports a root sends', () => {
    assert.equal(
      isCandidateReport({ type: 'ready', mode: 'cluster-rr', port: 4000, workerPids: [10, 11] }),
      true,
    );
    assert.equal(isCandidateReport({ type: 'counts', id: 3, accepted: [0, 12] }), true);
    assert.equal(isCandidateReport({ type: 'unavailable', reason: 'old Node' }), true);
  });

  it('rejects malformed reports', () => {
    for (const bad of [
      null,
      'ready',
      { type: 'ready', mode: 'cluster', port: 4000, workerPids: [1] },
      { type: 'ready', mode: 'single', port: 0, workerPids: [1] },
      { type: 'ready', mode: 'single', port: 4000, workerPids: [] },
      { type: 'counts', id: 1, accepted: [-1] },
      { type: 'counts', id: 1, accepted: 'many' },
      { type: 'unavailable' },
      { type: 'other' },
    ]) {
      assert.equal(isCandidateReport(bad), false, JSON.stringify(bad));
    }
  });

  it('checks requests, worker reports and worker commands', () => {
    assert.equal(isCountsRequest({ type: 'counts', id: 1 }), true);
    assert.equal(isCountsRequest({ type: 'counts' }), false);
    assert.equal(isWorkerReport({ type: 'listening', port: 4000 }), true);
    assert.equal(isWorkerReport({ type: 'counted', id: 2, accepted: 7 }), true);
    assert.equal(isWorkerReport({ type: 'counted', id: 2 }), false);
    assert.equal(isWorkerReport({ type: 'listening', port: 70_000 }), false);
    assert.equal(isWorkerCommand({ type: 'count', id: 2 }), true);
    assert.equal(isWorkerCommand({ type: 'take-server' }), true);
    assert.equal(isWorkerCommand({ type: 'count' }), false);
    assert.equal(isWorkerCommand({ cmd: 'NODE_CLUSTER' }), false);
  });
});
