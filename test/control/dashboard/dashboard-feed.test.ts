import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdminSource } from '../../../src/control/admin-views.js';
import { DashboardFeed } from '../../../src/control/dashboard/dashboard-feed.js';
import { refusalsFromEvents } from '../../../src/control/dashboard/refusal-source.js';
import { ServerHistory } from '../../../src/control/server-history.js';
import { ManualClock } from '../../../src/lib/time/clock.js';
import type { IntervalTimers } from '../../../src/lib/time/timers.js';
import { ProxyEvents } from '../../../src/proxy/events.js';
import type { ProxySnapshot } from '../../../src/proxy/snapshot.js';
import { MemoryLogger } from '../../helpers/proxy-harness.js';
import { picture, session, upstream } from './fixtures.js';

/** Interval timers that only count what is running; the test calls `tick()` itself. */
function fakeTimers(): IntervalTimers & { running: number } {
  const timers = {
    running: 0,
    setInterval: () => {
      timers.running++;
      return {};
    },
    clearInterval: () => {
      timers.running--;
    },
  };
  return timers;
}

function setup(options: { samples?: number; workers?: () => unknown[] } = {}) {
  const clock = new ManualClock(0);
  let snap: ProxySnapshot = picture();
  let snapshots = 0;
  const source: AdminSource = {
    snapshot: () => {
      snapshots++;
      return snap;
    },
    sessionSnapshots: () => [session('alice', 'acme', 10, 20)],
  };
  const timers = fakeTimers();
  const history = new ServerHistory({ version: '1.2.3', now: () => 1_000_000 + clock.now() });
  const events = new ProxyEvents();
  const feed = new DashboardFeed({
    source,
    history,
    logger: new MemoryLogger(),
    refusals: refusalsFromEvents(events),
    clock: clock.now,
    now: () => 1_000_000 + clock.now(),
    timers,
    samples: options.samples,
    workers: options.workers,
  });
  return {
    clock,
    feed,
    timers,
    history,
    events,
    set: (s: ProxySnapshot) => {
      snap = s;
    },
    snapshots: () => snapshots,
  };
}

/** The JSON of the one SSE event in `chunk`, with its name. */
function parse(chunk: string): { event: string; data: Record<string, unknown> } {
  const m = /^event: (\w+)\ndata: (.*)\n\n$/s.exec(chunk);
  assert.ok(m, `not one SSE event: ${chunk.slice(0, 80)}`);
  return { event: m[1], data: JSON.parse(m[2]) };
}

describe('DashboardFeed', () => {
  it('samples only while someone watches, and writes each tick once as the same string to all', async () => {
    const t = setup();
    assert.equal(t.feed.sampling, false);
    await t.feed.tick();
    const before = t.snapshots();
    assert.equal(t.events.sessionEnded.hasSubscribers, false);

    const a: string[] = [];
    const b: string[] = [];
    const offA = t.feed.subscribe((c) => a.push(c));
    const offB = t.feed.subscribe((c) => b.push(c));
    assert.equal(t.timers.running, 1, 'one sampler for every viewer');
    assert.equal(t.events.sessionEnded.hasSubscribers, true);
    await t.feed.tick();
    t.clock.advance(1000);
    t.set(picture({ accepted: 5, active: 2 }));
    await t.feed.tick();
    assert.equal(a.length, b.length);
    assert.ok(a.every((chunk, i) => chunk === b[i]));
    const last = parse(a[a.length - 1]);
    assert.equal(last.event, 'tick');
    assert.deepEqual((last.data.sample as { connections: number }).connections, 5);
    assert.deepEqual(
      (last.data.clients as { id: string }[]).map((c) => c.id),
      ['alice'],
    );
    assert.equal((last.data.status as { version: string }).version, '1.2.3');

    offA();
    assert.equal(t.feed.sampling, true);
    offB();
    assert.equal(t.feed.sampling, false);
    assert.equal(t.timers.running, 0);
    assert.equal(t.events.sessionEnded.hasSubscribers, false, 'no viewer: no subscription on the data plane');
    assert.ok(t.snapshots() > before);
  });

  it('keeps a bounded ring of samples and gives it whole to a new viewer', async () => {
    const t = setup({ samples: 3 });
    const off = t.feed.subscribe(() => {});
    for (let i = 1; i <= 6; i++) {
      t.clock.advance(1000);
      t.set(picture({ accepted: i * 10 }));
      await t.feed.tick();
    }
    assert.equal(t.feed.samples().length, 3);
    const state = parse(await t.feed.fullState());
    assert.equal(state.event, 'state');
    assert.equal((state.data.samples as unknown[]).length, 3);
    assert.equal(state.data.intervalMs, 1000);
    assert.ok(Array.isArray(state.data.events));
    off();
  });

  it('notes changes seen between pictures, a burst of refusals once, and worker restarts', async () => {
    let restarts = 0;
    const t = setup({ workers: () => [{ slot: 0, restarts }] });
    const chunks: string[] = [];
    const off = t.feed.subscribe((c) => chunks.push(c));
    await t.feed.tick();
    for (let i = 1; i <= 3; i++) {
      t.clock.advance(1000);
      t.set(
        picture({ rejections: { ERR_RATE_LIMITED: i * 50 } }, [
          upstream('a', { state: i > 1 ? 'draining' : 'up' }),
        ]),
      );
      await t.feed.tick();
    }
    restarts = 1;
    t.clock.advance(1000);
    await t.feed.tick();
    assert.deepEqual(
      t.history.events().map((e) => e.kind),
      ['worker', 'state', 'refusals'],
    );
    assert.match(t.history.events()[2].message, /burst of refusals: 50\/s \(ERR_RATE_LIMITED 50\/s\)/);
    // events travel only on the ticks where they changed
    const withEvents = chunks.map((c) => parse(c).data.events !== undefined);
    assert.deepEqual(withEvents, [true, true, true, false, true]);
    off();
  });

  it('counts refusals per client from the events while watched', async () => {
    const t = setup();
    const off = t.feed.subscribe(() => {});
    t.events.connectionRefused.publish({
      listener: 'edge',
      reason: 'ERR_CERT_UNTRUSTED',
      clientAddress: '10.1.1.1',
    });
    const d = await t.feed.client('10.1.1.1');
    assert.equal(d.refusals, 1);
    off();
  });
});
