import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCandidateArgs, workerArgv } from '../../../src/bench/accept/candidate-args.js';

describe('candidate arguments', () => {
  it('reads a root', () => {
    assert.deepEqual(parseCandidateArgs(['handle-send', '2', '8080']), {
      role: 'root',
      mode: 'handle-send',
      workers: 2,
      upstreamPort: 8080,
    });
    assert.equal(parseCandidateArgs(['single', '1', '1']).role, 'root');
  });

  it('reads back the worker arguments it writes', () => {
    assert.deepEqual(parseCandidateArgs(workerArgv('reuseport', 9000, 0)), {
      role: 'worker',
      mode: 'reuseport',
      upstreamPort: 9000,
      listenPort: 0,
    });
    assert.equal(parseCandidateArgs(workerArgv('reuseport', 9000, 41000)).role, 'worker');
  });

  it('refuses unknown modes, bad counts and bad ports', () => {
    assert.throws(() => parseCandidateArgs(['cluster', '2', '80']), /unknown accept mode/);
    assert.throws(() => parseCandidateArgs([]), /unknown accept mode/);
    assert.throws(() => parseCandidateArgs(['cluster-rr', '0', '80']), /workers/);
    assert.throws(() => parseCandidateArgs(['cluster-rr', '1.5', '80']), /workers/);
    assert.throws(() => parseCandidateArgs(['cluster-rr', '65', '80']), /workers/);
    assert.throws(() => parseCandidateArgs(['single', '2', '80']), /single runs one process/);
    assert.throws(() => parseCandidateArgs(['cluster-rr', '2', '0']), /upstream port/);
    assert.throws(() => parseCandidateArgs(['cluster-rr', '2', '70000']), /upstream port/);
    assert.throws(() => parseCandidateArgs(['cluster-rr', '2']), /upstream port/);
    assert.throws(() => parseCandidateArgs(['worker', 'reuseport', '80', '-1']), /listen port/);
    assert.throws(() => parseCandidateArgs(['worker', 'reuseport', '80']), /listen port/);
  });
});
