import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { balancerNames } from '../../../src/lib/balancers/registry.js';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import type { HealthChangeEvent } from '../../../src/lib/health/health-event.js';
import { PassiveHealth, type PassiveHealthOptions } from '../../../src/lib/health/passive-health.js';
import { UpstreamGroup } from '../../../src/lib/upstreams/upstream-group.js';
import { FakeTimers } from './fakes.js';

function setup(n: number, options: PassiveHealthOptions = {}, balancer = 'round-robin') {
  const timers = new FakeTimers();
  const group = new UpstreamGroup('g', {
    balancer,
    upstreams: Array.from({ length: n }, (_, i) => ({ address: `127.0.0.1:${i + 1}`, id: `u${i + 1}` })),
  });
  const passive = new PassiveHealth(group, {
    consecutiveFailures: 3,
    baseEjectionTime: 1000,
    maxEjectionTime: 2500,
    maxEjectionPercent: 50,
    now: timers.now,
    timers,
    ...options,
  });
  const events: HealthChangeEvent[] = [];
  passive.on('change', (e) => events.push(e));
  const u = (i: number) => group.get(`u${i}`)!;
  const failTimes = (i: number, times: number) => {
    let ejected = false;
    for (let k = 0; k < times; k++) ejected = passive.recordFailure(u(i), 'ECONNREFUSED');
    return ejected;
  };
  return { timers, group, passive, events, u, failTimes };
}

describe('PassiveHealth', () => {
  it('ejects after exactly `consecutiveFailures` failures in a row', () => {
    const { passive, events, u, failTimes } = setup(4);
    assert.equal(failTimes(1, 2), false);
    assert.equal(u(1).ejected, false);
    assert.equal(passive.recordFailure(u(1), 'connect timeout'), true);
    assert.equal(u(1).ejected, true);
    assert.equal(u(1).available(), false);
    assert.equal(events.length, 1);
    assert.deepEqual(
      { ...events[0], reason: undefined },
      {
        group: 'g',
        upstream: 'u1',
        address: '127.0.0.1:1',
        check: 'passive',
        from: 'healthy',
        to: 'ejected',
        reason: undefined,
        ejectionMs: 1000,
        at: 0,
        inRotation: false,
      },
    );
    assert.match(events[0].reason, /3 connect failures in a row, last: connect timeout/);
    passive.stop();
  });

  it('a success resets the count', () => {
    const { passive, u, failTimes } = setup(4);
    failTimes(1, 2);
    passive.recordSuccess(u(1));
    assert.equal(failTimes(1, 2), false);
    assert.equal(passive.status('u1')!.consecutiveFailures, 2);
    assert.equal(failTimes(1, 1), true);
    passive.stop();
  });

  it('returns the upstream when the ejection expires', async () => {
    const { timers, passive, events, u, failTimes } = setup(4);
    failTimes(1, 3);
    assert.deepEqual(timers.dueTimes(), [1000]);
    await timers.advance(999);
    assert.equal(u(1).ejected, true);
    await timers.advance(1);
    assert.equal(u(1).ejected, false);
    assert.equal(u(1).available(), true);
    assert.deepEqual(
      events.map((e) => [e.from, e.to, e.at, e.inRotation]),
      [
        ['healthy', 'ejected', 0, false],
        ['ejected', 'healthy', 1000, true],
      ],
    );
    assert.equal(passive.status('u1')!.consecutiveFailures, 0, 'a returned upstream starts afresh');
    assert.equal(timers.pending, 0);
    passive.stop();
  });

  it('ejects for longer on each repeat, up to maxEjectionTime, and forgives time back in rotation', async () => {
    const { timers, passive, events, failTimes } = setup(4);
    const lengths: number[] = [];
    for (let k = 0; k < 4; k++) {
      failTimes(1, 3); // fails again right after returning
      lengths.push(events.at(-1)!.ejectionMs!);
      await timers.advance(events.at(-1)!.ejectionMs!);
    }
    assert.deepEqual(lengths, [1000, 2000, 2500, 2500]);
    // 2500 ms in rotation forgives two of the three steps (the level is capped at ceil(2500 / 1000))
    await timers.advance(2500);
    failTimes(1, 3);
    assert.equal(events.at(-1)!.ejectionMs, 2000);
    await timers.advance(2000);
    await timers.advance(10_000);
    failTimes(1, 3);
    assert.equal(events.at(-1)!.ejectionMs, 1000);
    assert.equal(passive.status('u1')!.ejections, 6);
    passive.stop();
  });

  it('never ejects more than maxEjectionPercent of the group', async () => {
    const { timers, passive, u, failTimes } = setup(5); // 50 % of 5 rounds down to 2
    assert.equal(failTimes(1, 3), true);
    assert.equal(failTimes(2, 3), true);
    assert.equal(failTimes(3, 3), false);
    assert.equal(u(3).ejected, false);
    assert.equal(passive.ejectedCount, 2);
    assert.equal(passive.status('u3')!.skippedEjections, 1);
    await timers.advance(1000); // u1 and u2 return
    assert.equal(passive.recordFailure(u(3), 'ECONNREFUSED'), true, 'the next failure finds room');
    passive.stop();
  });

  it('never ejects the only upstream at 50 %, and does at 100 %', () => {
    const half = setup(1);
    assert.equal(half.failTimes(1, 10), false);
    half.passive.stop();
    const all = setup(1, { maxEjectionPercent: 100 });
    assert.equal(all.failTimes(1, 3), true);
    all.passive.stop();
  });

  it('ignores failures while ejected', async () => {
    const { timers, passive, events, u, failTimes } = setup(4);
    failTimes(1, 3);
    failTimes(1, 10);
    assert.equal(events.length, 1);
    assert.deepEqual(timers.dueTimes(), [1000], 'the ejection was not extended');
    await timers.advance(1000);
    assert.equal(u(1).ejected, false);
    passive.stop();
  });

  for (const balancer of balancerNames()) {
    it(`ejected upstreams are never picked (${balancer})`, () => {
      const { group, passive, failTimes } = setup(4, {}, balancer);
      failTimes(2, 3);
      failTimes(3, 3);
      const picked = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const u = group.pick(`client-${i}`);
        picked.add(u.id);
        group.cancelled(u);
      }
      assert.ok(picked.size > 0 && [...picked].every((id) => id === 'u1' || id === 'u4'), [...picked].join());
      passive.stop();
    });
  }

  it('stop() returns every ejected upstream and leaves no timer', () => {
    const { timers, passive, events, u, failTimes } = setup(4);
    failTimes(1, 3);
    failTimes(2, 3);
    passive.stop();
    assert.equal(timers.pending, 0);
    assert.equal(u(1).ejected || u(2).ejected, false);
    assert.deepEqual(
      events.slice(2).map((e) => [e.upstream, e.to, e.reason]),
      [
        ['u1', 'healthy', 'passive health checking stopped'],
        ['u2', 'healthy', 'passive health checking stopped'],
      ],
    );
    assert.equal(failTimes(3, 5), false, 'records are ignored once stopped');
  });

  it('sync() forgets removed upstreams and their timers; failures of removed upstreams are ignored', () => {
    const { timers, group, passive, u, failTimes } = setup(4);
    const removed = u(1);
    failTimes(1, 3);
    group.remove('u1');
    passive.sync();
    assert.equal(timers.pending, 0);
    assert.equal(removed.ejected, false, 'comes back clean if re-added');
    assert.equal(passive.recordFailure(removed, 'late'), false);
    group.add(removed);
    assert.equal(passive.status('u1'), undefined);
    passive.stop();
  });

  it('rejects bad options with ERR_INVALID_ARGUMENT', () => {
    const group = new UpstreamGroup('g');
    for (const bad of [
      { consecutiveFailures: 0 },
      { baseEjectionTime: 0 },
      { maxEjectionTime: -5 },
      { baseEjectionTime: 2000, maxEjectionTime: 1000 },
      { maxEjectionPercent: 101 },
    ]) {
      assert.throws(
        () => new PassiveHealth(group, bad),
        (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
        JSON.stringify(bad),
      );
    }
  });
});
