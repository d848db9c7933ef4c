import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupHealth } from '../../../src/lib/health/group-health.js';
import type { HealthChangeEvent } from '../../../src/lib/health/health-event.js';
import { UpstreamGroup } from '../../../src/lib/upstreams/upstream-group.js';
import { FakeProbe, FakeTimers } from './fakes.js';

function setup() {
  const timers = new FakeTimers();
  const probe = new FakeProbe(timers.now);
  const group = new UpstreamGroup('g', {
    balancer: 'least-connections',
    upstreams: [1, 2, 3, 4].map((p) => ({ address: `127.0.0.1:${p}`, id: `u${p}`, weight: 4 })),
  });
  const health = new GroupHealth(group, {
    active: { probe, interval: 1000, timeout: 100, rise: 1, fall: 1, jitter: 0 },
    passive: { consecutiveFailures: 2, baseEjectionTime: 5000 },
    slowStart: { window: 1000, steps: 4, minFraction: 0.25 },
    now: timers.now,
    timers,
  });
  const events: HealthChangeEvent[] = [];
  health.on('change', (e) => events.push(e));
  return { timers, probe, group, health, events };
}

describe('GroupHealth', () => {
  it('re-emits active and passive changes as one stream', async () => {
    const { timers, probe, group, health, events } = setup();
    probe.set(1, 'fail');
    health.start();
    await timers.advance(0);
    health.recordFailure(group.get('u2')!, 'ECONNREFUSED');
    assert.equal(health.recordFailure(group.get('u2')!, 'ECONNREFUSED'), true);
    assert.deepEqual(
      events.map((e) => [e.check, e.upstream, e.to]),
      [
        ['active', 'u1', 'unhealthy'],
        ['passive', 'u2', 'ejected'],
      ],
    );
    health.stop();
  });

  it('begins slow start when an upstream recovers and shows it in the status', async () => {
    const { timers, probe, group, health } = setup();
    probe.set(1, 'fail');
    health.start();
    await timers.advance(0);
    assert.equal(group.get('u1')!.weight, 4, 'going down does not touch the weight');
    probe.set(1, 'pass');
    await timers.advance(1000); // recovers at 1000
    assert.equal(group.get('u1')!.weight, 1);
    const status = health.status('u1');
    assert.equal(status.active!.healthy, true);
    assert.deepEqual(status.slowStart, { configuredWeight: 4, weight: 1, since: 1000, until: 2000 });
    assert.equal(status.passive, undefined);
    await timers.advance(1000);
    assert.equal(group.get('u1')!.weight, 4);
    assert.equal(health.status('u1').slowStart, undefined);
    health.stop();
  });

  it('begins slow start when an ejection ends, and not while active checks still hold it out', async () => {
    const { timers, probe, group, health, events } = setup();
    health.start();
    await timers.advance(0);
    const u2 = group.get('u2')!;
    const u3 = group.get('u3')!;
    health.recordFailure(u2, 'x');
    health.recordFailure(u2, 'x');
    health.recordFailure(u3, 'x');
    health.recordFailure(u3, 'x');
    probe.set(3, 'fail');
    await timers.advance(5000); // both ejections end at 5000; u3 failed its active check at 1000
    assert.deepEqual([u2.ejected, u3.ejected, u3.healthy], [false, false, false]);
    assert.equal(u2.weight, 1, 'u2 ramps');
    assert.equal(u3.weight, 4, 'u3 is still unhealthy: nothing to ramp yet');
    const u3return = events.find((e) => e.upstream === 'u3' && e.from === 'ejected')!;
    assert.equal(u3return.inRotation, false);
    health.stop();
  });

  it('stop() leaves no timer, returns ejected upstreams and restores ramped weights', async () => {
    const { timers, probe, group, health } = setup();
    probe.fallback = 'hang';
    health.start();
    await timers.advance(0);
    health.recordFailure(group.get('u2')!, 'x');
    health.recordFailure(group.get('u2')!, 'x');
    health.slowStart!.begin('u4');
    health.stop();
    assert.equal(timers.pending, 0);
    assert.equal(group.get('u2')!.ejected, false);
    assert.equal(group.get('u4')!.weight, 4);
  });

  it('sync() reaches every part', async () => {
    const { timers, probe, group, health } = setup();
    health.start();
    group.add({ address: '127.0.0.1:5', id: 'u5' });
    health.sync();
    await timers.advance(0);
    assert.deepEqual(probe.times(5), [0]);
    health.stop();
  });

  it('builds only the configured parts', () => {
    const group = new UpstreamGroup('g', { upstreams: [{ address: '127.0.0.1:1' }] });
    const health = new GroupHealth(group, { slowStart: 0 });
    assert.deepEqual([health.checker, health.passive, health.slowStart], [undefined, undefined, undefined]);
    assert.equal(health.recordFailure(group.upstreams[0], 'x'), false);
    assert.deepEqual(health.status('127.0.0.1:1'), {});
    health.start();
    health.stop();
  });
});
