import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  countsBetween,
  cpuMicrosPerUnit,
  formatSpread,
  median,
  type RunSample,
  ratePerSecond,
  sharePercents,
  sumCounts,
  summarize,
  turnOrder,
} from '../../../src/bench/accept/summary.js';

function sample(overrides: Partial<RunSample> = {}): RunSample {
  return { units: 1000, errors: 0, elapsedMs: 1000, cpuMs: 500, accepted: [500, 500], ...overrides };
}

describe('accept bench summary', () => {
  it('takes the middle value, or the mean of the middle two, whatever the input order', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([7]), 7);
    assert.ok(Number.isNaN(median([])));
  });

  it('gives rates per second and CPU per unit in µs, NaN when nothing completed', () => {
    assert.equal(ratePerSecond(sample({ units: 3500, elapsedMs: 5000 })), 700);
    assert.equal(ratePerSecond(sample({ elapsedMs: 0 })), 0);
    assert.equal(cpuMicrosPerUnit(sample({ units: 4000, cpuMs: 1400 })), 350);
    assert.ok(Number.isNaN(cpuMicrosPerUnit(sample({ units: 0 }))));
  });

  it('subtracts counts per worker and refuses lists that changed length', () => {
    assert.deepEqual(countsBetween([10, 20], [15, 40]), [5, 20]);
    assert.throws(() => countsBetween([1], [1, 2]), /changed length/);
    assert.deepEqual(
      sumCounts([
        [1, 2],
        [3, 4],
      ]),
      [4, 6],
    );
    assert.deepEqual(sumCounts([]), []);
    assert.throws(() => sumCounts([[1], [1, 2]]), /different lengths/);
  });

  it('rounds shares to whole percentages that add up to 100', () => {
    assert.deepEqual(sharePercents([1, 1]), [50, 50]);
    assert.deepEqual(sharePercents([1, 1, 1]), [34, 33, 33]);
    assert.deepEqual(sharePercents([505, 495]), [51, 49]);
    assert.deepEqual(sharePercents([2, 0]), [100, 0]);
    assert.deepEqual(sharePercents([0, 0]), []);
    for (const counts of [
      [7, 11, 13],
      [1, 2, 3, 4, 5, 6],
      [999, 1],
    ]) {
      assert.equal(
        sharePercents(counts).reduce((a, b) => a + b, 0),
        100,
        `${counts}`,
      );
    }
    assert.equal(formatSpread([505, 495]), '51/49 %');
    assert.equal(formatSpread([42]), '100 %');
    assert.equal(formatSpread([0, 0]), '—');
  });

  it('reduces repetitions to medians, sums the counts and errors, and keeps every run', () => {
    const summary = summarize([
      sample({ units: 3000, cpuMs: 1500, primaryCpuMs: 300, accepted: [1500, 1500], errors: 1 }),
      sample({ units: 1000, cpuMs: 400, primaryCpuMs: 100, accepted: [600, 400] }),
      sample({ units: 2000, cpuMs: 1000, primaryCpuMs: 100, accepted: [900, 1100], errors: 2 }),
    ]);
    assert.equal(summary.rate, 2000);
    assert.equal(summary.cpuMicrosPerUnit, 500);
    assert.equal(summary.primaryCpuShare, 0.2);
    assert.deepEqual(summary.accepted, [3000, 3000]);
    assert.equal(summary.errors, 3);
    assert.deepEqual(summary.rates, [3000, 1000, 2000]);
    assert.deepEqual(summary.cpuMicros, [500, 400, 500]);
  });

  it('has no root share when the root is the only worker, and skips runs without units for CPU', () => {
    const summary = summarize([sample({ units: 0 }), sample({ units: 1000, cpuMs: 300 })]);
    assert.equal(summary.primaryCpuShare, undefined);
    assert.equal(summary.cpuMicrosPerUnit, 300);
  });

  it('rotates the turn order by one each repetition', () => {
    assert.deepEqual(turnOrder(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
    assert.deepEqual(turnOrder(['a', 'b', 'c'], 1), ['b', 'c', 'a']);
    assert.deepEqual(turnOrder(['a', 'b', 'c'], 5), ['c', 'a', 'b']);
    assert.deepEqual(turnOrder([], 3), []);
  });
});
