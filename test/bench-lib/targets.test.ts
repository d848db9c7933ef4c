import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchRow } from '../../bench/lib/report.js';
import { checkTargets } from '../../bench/lib/targets.js';

const row = (suite: string, name: string, size: number, opsPerSec: number, extra?: Record<string, number>) =>
  ({ suite, name, size, opsPerSec, extra }) satisfies BenchRow;

// a machine that runs the baselines at half speed
const HALF_SPEED: BenchRow[] = [
  row('balancer', 'least-connections pick+release', 10, 12e6),
  row('balancer', 'least-connections pick+release', 100_000, 9e6),
  row('balancer', 'linear-scan baseline pick+release (least-connections)', 10, 14e6),
  row('ratelimit', 'naive Map of window objects (baseline), sweep', 1_000_000, 1.9e6, {
    bytesPerClient: 125,
  }),
  row('ratelimit', 'gcra MemoryStore.take, sweep', 1_000_000, 4e6, { bytesPerClient: 86 }),
  // paired with its baseline round for round: 1.25x, below the 5 / 3.8 the target asks for
  row('ratelimit', 'gcra MemoryStore.take, random', 1_000_000, 1e6, { bytesPerClient: 86, vsNaive: 1.25 }),
  row('ratelimit', 'naive Map of window objects (baseline), random', 1_000_000, 0.9e6, {
    bytesPerClient: 125,
  }),
  row('ratelimit', 'token-bucket MemoryStore.take, sweep', 1_000_000, 6e6, { bytesPerClient: 130 }),
];

describe('library benchmark targets', () => {
  const checks = checkTargets(HALF_SPEED);
  const byName = (target: string) => {
    const c = checks.find((x) => x.target === target);
    assert.ok(c, `no check named ${target}`);
    return c;
  };

  it('scales the least-connections targets by the linear scan measured in the same run', () => {
    const at10 = byName('least-connections pick+release at 10 upstreams');
    assert.equal(at10.requiredHere, 10e6);
    assert.equal(at10.metAbsolute, false);
    assert.equal(at10.metHere, true);
    const atLarge = byName('least-connections pick+release at 100,000 upstreams');
    assert.equal(atLarge.requiredHere, 2.5e6);
    assert.equal(atLarge.metAbsolute, true);
  });

  it('scales the rate-limit target by the naive Map in the same order of clients', () => {
    const sweep = byName('gcra MemoryStore.take, sweep at 1 M clients');
    assert.equal(sweep.baselineHere, 1.9e6);
    assert.equal(sweep.requiredHere, 2.5e6);
    assert.deepEqual([sweep.metAbsolute, sweep.metHere], [false, true]);
    const random = byName('gcra MemoryStore.take, random at 1 M clients');
    assert.equal(random.baselineHere, 0.8e6, 'the paired ratio wins over the separately timed row');
    assert.ok(Math.abs((random.requiredHere ?? 0) - 0.8e6 * (5 / 3.8)) < 1);
    assert.deepEqual([random.metAbsolute, random.metHere], [false, false]);
    assert.equal(byName('token-bucket MemoryStore.take, sweep at 1 M clients').metAbsolute, true);
  });

  it('holds memory per client to the absolute 128 bytes, once per algorithm', () => {
    assert.equal(byName('gcra bytes per tracked client').metHere, true);
    assert.equal(byName('token-bucket bytes per tracked client').metHere, false);
    assert.equal(checks.filter((c) => c.unit === 'bytes').length, 2);
  });

  it('checks nothing it has no rows for', () => {
    assert.deepEqual(checkTargets([]), []);
  });
});
