import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import {
  HealthChecker,
  type HealthCheckerOptions,
  jittered,
} from '../../../src/lib/health/health-checker.js';
import type { HealthChangeEvent } from '../../../src/lib/health/health-event.js';
import { ProbeError } from '../../../src/lib/health/health-probe.js';
import { UpstreamGroup } from '../../../src/lib/upstreams/upstream-group.js';
import { FakeProbe, FakeTimers, seededRandom } from './fakes.js';

function setup(ports: number[], options: Partial<HealthCheckerOptions> = {}) {
  const timers = new FakeTimers();
  const probe = new FakeProbe(timers.now);
  const group = new UpstreamGroup('g', {
    balancer: 'round-robin',
    upstreams: ports.map((p) => ({ address: `127.0.0.1:${p}`, id: `u${p}` })),
  });
  const checker = new HealthChecker(group, {
    probe,
    interval: 1000,
    timeout: 100,
    rise: 2,
    fall: 3,
    jitter: 0,
    now: timers.now,
    timers,
    ...options,
  });
  const events: HealthChangeEvent[] = [];
  checker.on('change', (e) => events.push(e));
  return { timers, probe, group, checker, events };
}

describe('HealthChecker state machine', () => {
  it('goes down after exactly `fall` failures in a row and up after exactly `rise` passes', async () => {
    const { timers, probe, group, checker, events } = setup([1]);
    checker.start();
    await timers.advance(0); // first check at 0 passes: stays healthy, no event
    assert.equal(events.length, 0);
    probe.set(1, 'fail');
    await timers.advance(2000); // failures at 1000 and 2000
    assert.equal(group.get('u1')!.healthy, true);
    assert.equal(checker.status('u1')!.consecutiveFailures, 2);
    await timers.advance(1000); // third failure at 3000
    assert.equal(group.get('u1')!.healthy, false);
    assert.equal(events.length, 1);
    assert.deepEqual(
      { ...events[0], reason: undefined },
      {
        group: 'g',
        upstream: 'u1',
        address: '127.0.0.1:1',
        check: 'active',
        from: 'healthy',
        to: 'unhealthy',
        reason: undefined,
        failure: 'connect',
        at: 3000,
        inRotation: false,
      },
    );
    assert.match(events[0].reason, /3 checks failed in a row: ECONNREFUSED/);
    probe.set(1, 'pass');
    await timers.advance(1000); // one pass at 4000
    assert.equal(group.get('u1')!.healthy, false);
    await timers.advance(1000); // second pass at 5000
    assert.equal(group.get('u1')!.healthy, true);
    assert.deepEqual(
      events.map((e) => [e.from, e.to, e.at]),
      [
        ['healthy', 'unhealthy', 3000],
        ['unhealthy', 'healthy', 5000],
      ],
    );
    assert.equal(events[1].inRotation, true);
    checker.stop();
  });

  it('a pass breaks a run of failures and a failure a run of passes', async () => {
    const { timers, probe, group, checker } = setup([1], { fall: 2, rise: 2 });
    checker.start();
    await timers.advance(0);
    for (const outcome of ['fail', 'pass', 'fail', 'pass'] as const) {
      probe.set(1, outcome);
      await timers.advance(1000);
    }
    assert.equal(group.get('u1')!.healthy, true);
    const s = checker.status('u1')!;
    assert.deepEqual([s.checks, s.consecutiveSuccesses, s.consecutiveFailures], [5, 1, 0]);
    checker.stop();
  });

  it('lets the first check decide: a failed first check takes a healthy upstream down at once', async () => {
    const { timers, probe, group, checker, events } = setup([1]);
    probe.set(1, 'fail');
    checker.start();
    assert.equal(group.get('u1')!.healthy, true);
    await timers.advance(0);
    assert.equal(group.get('u1')!.healthy, false);
    assert.match(events[0].reason, /^first check failed/);
    checker.stop();
  });

  it('with initialState unhealthy gives no connections until the first check passes', async () => {
    const { timers, group, checker, events } = setup([1, 2], { initialState: 'unhealthy', interval: 1000 });
    checker.start();
    assert.equal(group.get('u1')!.healthy, false);
    assert.throws(
      () => group.pick(),
      (e) => hasCode(e, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM),
    );
    await timers.advance(0); // u1 checked at 0
    assert.equal(group.get('u1')!.healthy, true);
    assert.equal(group.get('u2')!.healthy, false);
    assert.equal(group.pick().id, 'u1');
    await timers.advance(500); // u2 staggered to 500
    assert.equal(group.get('u2')!.healthy, true);
    assert.deepEqual(
      events.map((e) => [e.upstream, e.to, e.reason]),
      [
        ['u1', 'healthy', 'first check passed'],
        ['u2', 'healthy', 'first check passed'],
      ],
    );
    checker.stop();
  });

  it('keeps an upstream found unhealthy (a replaced checker’s verdict) out until its first check', async () => {
    const { timers, group, checker, events } = setup([1, 2]);
    group.setHealthy('u2', false);
    checker.start();
    assert.deepEqual([group.get('u1')!.healthy, group.get('u2')!.healthy], [true, false]);
    await timers.advance(500);
    assert.equal(group.get('u2')!.healthy, true);
    assert.deepEqual(
      events.map((e) => [e.upstream, e.to, e.reason]),
      [['u2', 'healthy', 'first check passed']],
    );
    checker.stop();
  });

  it('checks at downInterval while unhealthy and at interval while healthy', async () => {
    const { timers, probe, checker } = setup([1], { downInterval: 250, fall: 1, rise: 1 });
    probe.set(1, 'fail');
    checker.start();
    await timers.advance(1000); // down at 0, then checks every 250
    probe.set(1, 'pass');
    await timers.advance(250); // up at 1250, then every 1000
    await timers.advance(2000);
    assert.deepEqual(probe.times(1), [0, 250, 500, 750, 1000, 1250, 2250, 3250]);
    checker.stop();
  });

  it('spreads first checks evenly over the interval in group order', async () => {
    const { timers, probe, checker } = setup([1, 2, 3, 4]);
    checker.start();
    assert.deepEqual(timers.dueTimes(), [0, 250, 500, 750]);
    await timers.advance(999);
    assert.deepEqual(
      probe.calls.map((c) => [c.port, c.at]),
      [
        [1, 0],
        [2, 250],
        [3, 500],
        [4, 750],
      ],
    );
    checker.stop();
  });

  it('jitters each wait within interval × (1 ± jitter), reproducibly for a seed', async () => {
    const gaps = async (seed: number) => {
      const { timers, probe, checker } = setup([1], { jitter: 0.2, random: seededRandom(seed) });
      checker.start();
      await timers.advance(100_000);
      checker.stop();
      const t = probe.times(1);
      return t.slice(1).map((at, i) => at - t[i]);
    };
    const a = await gaps(42);
    assert.ok(a.length > 70, `only ${a.length} checks`);
    for (const g of a) assert.ok(g >= 800 && g <= 1200, `gap ${g} outside 800..1200`);
    assert.ok(new Set(a).size > 20, 'waits should differ');
    assert.ok(Math.min(...a) < 850 && Math.max(...a) > 1150, 'waits should cover the range');
    assert.deepEqual(await gaps(42), a);
    assert.notDeepEqual(await gaps(7), a);
  });

  it('jittered() stays within bounds at the random source’s extremes', () => {
    assert.equal(
      jittered(1000, 0.1, () => 0),
      900,
    );
    assert.equal(
      jittered(1000, 0.1, () => 0.5),
      1000,
    );
    assert.equal(
      jittered(1000, 0.1, () => 0.999999999),
      1100,
    );
    assert.equal(
      jittered(1000, 0, () => 0.3),
      1000,
    );
  });

  it('fails a check that outlasts its timeout and aborts the probe', async () => {
    const { timers, probe, group, checker, events } = setup([1], { timeout: 100, fall: 1 });
    probe.set(1, 'hang');
    checker.start();
    await timers.advance(99);
    assert.equal(group.get('u1')!.healthy, true);
    assert.equal(probe.calls[0].signal.aborted, false);
    await timers.advance(1);
    assert.equal(probe.calls[0].signal.aborted, true);
    assert.equal(group.get('u1')!.healthy, false);
    assert.equal(events[0].failure, 'timeout');
    const s = checker.status('u1')!;
    assert.equal(s.lastResult, 'failure');
    assert.equal(s.lastFailure, 'timeout');
    assert.match(s.lastError!, /no answer within 100 ms/);
    assert.equal(s.lastDurationMs, 100);
    // the next check is scheduled from the end of this one
    assert.deepEqual(timers.dueTimes(), [1100]);
    checker.stop();
  });

  it('treats a probe that throws synchronously as a failed check', async () => {
    const timers = new FakeTimers();
    const group = new UpstreamGroup('g', { upstreams: [{ address: '127.0.0.1:1' }] });
    const checker = new HealthChecker(group, {
      probe: {
        type: 'broken',
        check: () => {
          throw new Error('boom');
        },
      },
      fall: 1,
      jitter: 0,
      now: timers.now,
      timers,
    });
    checker.start();
    await timers.advance(0);
    assert.equal(group.upstreams[0].healthy, false);
    assert.deepEqual(
      [checker.status('127.0.0.1:1')!.lastError, checker.status('127.0.0.1:1')!.lastFailure],
      ['boom', 'error'],
    );
    checker.stop();
  });

  it('records status for the API', async () => {
    const { timers, checker } = setup([1]);
    assert.equal(checker.status('u1'), undefined, 'nothing before start');
    checker.start();
    assert.deepEqual(checker.status('u1'), {
      healthy: true,
      consecutiveSuccesses: 0,
      consecutiveFailures: 0,
      checks: 0,
      changes: 0,
      lastCheckAt: undefined,
      lastResult: undefined,
      lastError: undefined,
      lastFailure: undefined,
      lastDurationMs: undefined,
      lastChangeAt: undefined,
      nextCheckAt: 0,
    });
    await timers.advance(0);
    const s = checker.status('u1')!;
    assert.deepEqual(
      [s.checks, s.consecutiveSuccesses, s.lastCheckAt, s.lastResult, s.lastDurationMs, s.nextCheckAt],
      [1, 1, 0, 'success', 0, 1000],
    );
    checker.stop();
    assert.equal(checker.status('u1'), undefined);
  });

  it('stop() clears every timer and aborts running probes; start() again resumes', async () => {
    const { timers, probe, checker } = setup([1, 2, 3]);
    probe.set(1, 'hang');
    checker.start();
    await timers.advance(0); // u1's probe is running with its timeout; u2, u3 wait
    assert.equal(timers.pending, 3);
    checker.stop();
    assert.equal(timers.pending, 0);
    assert.equal(probe.calls[0].signal.aborted, true);
    assert.ok(probe.calls[0].signal.reason instanceof ProbeError);
    assert.equal(checker.running, false);
    await timers.advance(10_000);
    assert.equal(probe.calls.length, 1, 'nothing checked after stop');
    checker.start();
    assert.equal(timers.pending, 3);
    checker.stop();
    assert.equal(timers.pending, 0);
  });

  it('sync() starts checking added upstreams and stops checking removed ones', async () => {
    const { timers, probe, group, checker } = setup([1, 2], { initialState: 'unhealthy' });
    checker.start();
    await timers.advance(0);
    group.remove('u2');
    group.add({ address: '127.0.0.1:3', id: 'u3' });
    checker.sync();
    assert.equal(group.get('u3')!.healthy, false, 'initial state applied to the new upstream');
    assert.equal(checker.status('u2'), undefined);
    await timers.advance(3000);
    assert.deepEqual(probe.times(2), [], 'u2 was removed before its first check at 500');
    assert.deepEqual(probe.times(3), [0, 1000, 2000, 3000]);
    assert.equal(group.get('u3')!.healthy, true);
    checker.stop();
    assert.equal(timers.pending, 0);
  });

  it('drops a removed upstream whose check was running even without sync()', async () => {
    const { timers, probe, group, checker, events } = setup([1, 2], { timeout: 100, fall: 1 });
    probe.set(1, 'hang');
    checker.start();
    await timers.advance(0);
    group.remove('u1');
    await timers.advance(100); // the timeout fires on a removed upstream
    assert.equal(events.length, 0);
    assert.equal(checker.status('u1'), undefined);
    await timers.advance(5000);
    assert.equal(probe.times(1).length, 1);
    checker.stop();
    assert.equal(timers.pending, 0);
  });

  it('applies per-upstream overrides: port, interval, thresholds, disabling', async () => {
    const { timers, probe, group, checker } = setup([1, 2, 3], {
      overrides: {
        u1: { port: 9999, fall: 1 },
        u2: { interval: 300 },
        u3: { enabled: false },
      },
    });
    group.setHealthy('u3', false); // as an earlier checker may have left it
    probe.set(9999, 'fail');
    checker.start();
    await timers.advance(1000);
    assert.deepEqual(probe.times(9999), [0, 1000], 'u1 checked on its health port');
    assert.equal(group.get('u1')!.healthy, false, 'fall 1');
    // the two checked upstreams split their intervals: u2 starts half of its 300 ms in
    assert.deepEqual(probe.times(2), [150, 450, 750], 'u2 at its own interval');
    assert.deepEqual(probe.times(3), []);
    assert.equal(group.get('u3')!.healthy, true, 'an unchecked upstream is trusted');
    assert.equal(checker.status('u3'), undefined);
    assert.equal(checker.settings('u2')!.downInterval, 300, 'downInterval follows the overridden interval');
    checker.stop();
  });

  it('marked-down upstreams are not picked', async () => {
    const { timers, probe, group, checker } = setup([1, 2], { fall: 1 });
    probe.set(2, 'fail');
    checker.start();
    await timers.advance(1000);
    for (let i = 0; i < 10; i++) assert.equal(group.pick().id, 'u1');
    checker.stop();
  });

  it('rejects bad options with ERR_INVALID_ARGUMENT', () => {
    const group = new UpstreamGroup('g', { upstreams: [{ address: '127.0.0.1:1' }] });
    const probe = new FakeProbe(() => 0);
    const bad: Partial<HealthCheckerOptions>[] = [
      { interval: 0 },
      { downInterval: -1 },
      { timeout: Number.NaN },
      { rise: 0 },
      { fall: 1.5 },
      { jitter: 1 },
      { jitter: -0.1 },
      { port: 70000 },
      { initialState: 'maybe' as 'healthy' },
      { overrides: { x: { rise: 0 } } },
    ];
    for (const b of bad) {
      assert.throws(
        () => new HealthChecker(group, { probe, ...b }),
        (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
        JSON.stringify(b),
      );
    }
  });
});
