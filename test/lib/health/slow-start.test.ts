import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import { SlowStart, type SlowStartOptions, slowStartFraction } from '../../../src/lib/health/slow-start.js';
import { UpstreamGroup } from '../../../src/lib/upstreams/upstream-group.js';
import { FakeTimers } from './fakes.js';

function setup(options: Partial<SlowStartOptions> = {}) {
  const timers = new FakeTimers();
  const group = new UpstreamGroup('g', {
    balancer: 'weighted-round-robin',
    upstreams: [
      { address: '127.0.0.1:1', id: 'a', weight: 10 },
      { address: '127.0.0.1:2', id: 'b', weight: 10 },
    ],
  });
  const slow = new SlowStart(group, { window: 1000, now: timers.now, timers, ...options });
  return { timers, group, slow, a: group.get('a')! };
}

const round = (w: number) => Math.round(w * 1e9) / 1e9;

describe('SlowStart', () => {
  it('ramps from minFraction to the configured weight in even steps, then restores it exactly', async () => {
    const { timers, slow, a } = setup({ steps: 4, minFraction: 0.2 });
    slow.begin('a');
    const seen = [a.weight];
    for (let i = 0; i < 4; i++) {
      await timers.advance(250);
      seen.push(round(a.weight));
    }
    assert.deepEqual(seen, [2, 4, 6, 8, 10]);
    assert.equal(a.weight, 10);
    assert.equal(slow.ramping('a'), false);
    assert.equal(timers.pending, 0);
  });

  it('defaults to 10 steps from 10 %', async () => {
    const { timers, slow, a } = setup();
    slow.begin('a');
    assert.equal(a.weight, 1);
    await timers.advance(100);
    assert.equal(round(a.weight), 1.9);
    await timers.advance(800);
    assert.equal(round(a.weight), 9.1);
    await timers.advance(100);
    assert.equal(a.weight, 10);
    assert.equal(timers.pending, 0);
  });

  it('shifts traffic while ramping: the balancer sees the effective weight', () => {
    const { group, slow } = setup();
    slow.begin('a');
    const counts = new Map<string, number>();
    for (let i = 0; i < 110; i++) {
      const u = group.pick();
      counts.set(u.id, (counts.get(u.id) ?? 0) + 1);
      group.cancelled(u);
    }
    assert.deepEqual([counts.get('a'), counts.get('b')], [10, 100]);
    slow.stop();
  });

  it('reports its status with the configured weight', async () => {
    const { timers, slow } = setup({ steps: 2 });
    slow.begin('a');
    await timers.advance(500);
    assert.deepEqual(slow.status('a'), { configuredWeight: 10, weight: 5.5, since: 0, until: 1000 });
    assert.equal(slow.status('b'), undefined);
    slow.stop();
  });

  it('a begin() during a ramp restarts it towards the same configured weight', async () => {
    const { timers, slow, a } = setup({ steps: 2 });
    slow.begin('a');
    await timers.advance(500);
    slow.begin('a');
    assert.equal(a.weight, 1);
    assert.deepEqual(timers.dueTimes(), [1000]);
    await timers.advance(1000);
    assert.equal(a.weight, 10);
  });

  it('cancel() and stop() restore configured weights at once and leave no timer', () => {
    const { timers, slow, group } = setup();
    slow.begin('a');
    slow.begin('b');
    slow.cancel('a');
    assert.deepEqual([group.get('a')!.weight, group.get('b')!.weight], [10, 1]);
    slow.stop();
    assert.deepEqual([group.get('a')!.weight, group.get('b')!.weight], [10, 10]);
    assert.equal(timers.pending, 0);
  });

  it('adopts a weight set from outside mid-ramp as the new configured weight', async () => {
    const { timers, slow, group, a } = setup({ steps: 2 });
    slow.begin('a');
    group.setWeight('a', 40); // a config reload
    await timers.advance(500);
    assert.equal(a.weight, 22); // 40 × (0.1 + 0.9 / 2)
    assert.equal(slow.status('a')!.configuredWeight, 40);
    await timers.advance(500);
    assert.equal(a.weight, 40);
  });

  it('drops ramps of removed upstreams', async () => {
    const { timers, slow, group } = setup();
    slow.begin('a');
    const removed = group.remove('a');
    slow.sync();
    assert.equal(timers.pending, 0);
    assert.equal(removed.weight, 1, 'a removed upstream is left as it was');
    slow.begin('nope');
    assert.equal(timers.pending, 0);
  });

  it('slowStartFraction is linear from minFraction to 1', () => {
    assert.equal(slowStartFraction(0, 10, 0.1), 0.1);
    assert.equal(slowStartFraction(5, 10, 0.1), 0.55);
    assert.equal(slowStartFraction(10, 10, 0.1), 1);
    assert.equal(slowStartFraction(12, 10, 0.1), 1);
  });

  it('rejects bad options with ERR_INVALID_ARGUMENT', () => {
    const group = new UpstreamGroup('g');
    for (const bad of [
      { window: 0 },
      { window: 10, steps: 0 },
      { window: 10, minFraction: 0 },
      { window: 10, minFraction: 2 },
    ]) {
      assert.throws(
        () => new SlowStart(group, bad),
        (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
        JSON.stringify(bad),
      );
    }
  });
});
