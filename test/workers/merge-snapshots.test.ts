import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProxySnapshot } from '../../src/proxy/snapshot.js';
import { mergeSnapshots } from '../../src/workers/merge-snapshots.js';

function picture(active: number, total: number, upstreams: string[] = ['a'], ejected = false): ProxySnapshot {
  return {
    stopping: false,
    sessionCount: active,
    limits: { rate: true, concurrency: false },
    listeners: [
      {
        name: 'web',
        kind: 'tcp',
        bind: '127.0.0.1:80',
        address: '127.0.0.1',
        port: 80,
        listening: true,
        group: 'g',
        stats: {
          accepted: total,
          active,
          handshaking: 0,
          proxied: total,
          bytesFromClients: 10 * total,
          bytesToClients: 20 * total,
          rejections: { ERR_RATE_LIMITED: 1 },
        },
      },
    ],
    groups: [
      {
        name: 'g',
        balancer: 'least-connections',
        retiredActive: 0,
        upstreams: upstreams.map((id) => ({
          id,
          address: '127.0.0.1:1',
          state: 'up' as const,
          weight: 3,
          maxConnections: 0,
          up: true,
          healthy: true,
          ejected,
          active,
          connecting: 0,
          total,
          bytesIn: 1,
          bytesOut: 2,
          failures: 0,
        })),
      },
    ],
  };
}

describe('mergeSnapshots', () => {
  it("shows a listener at a listening worker's address when the others are dormant (UDP)", () => {
    const dormant = picture(0, 0);
    dormant.listeners[0] = { ...dormant.listeners[0], address: null, port: null, listening: false };
    const m = mergeSnapshots([dormant, picture(1, 4)]);
    assert.equal(m.listeners[0].listening, true);
    assert.equal(m.listeners[0].address, '127.0.0.1');
    assert.equal(m.listeners[0].port, 80);
    assert.equal(mergeSnapshots([dormant, dormant]).listeners[0].listening, false);
  });

  it('sums counters and gauges of live workers and keeps settings as they are', () => {
    const m = mergeSnapshots([picture(2, 10), picture(3, 5, ['a'], true)]);
    assert.equal(m.sessionCount, 5);
    assert.equal(m.listeners.length, 1);
    assert.deepEqual(m.listeners[0].stats, {
      accepted: 15,
      active: 5,
      handshaking: 0,
      proxied: 15,
      bytesFromClients: 150,
      bytesToClients: 300,
      rejections: { ERR_RATE_LIMITED: 2 },
    });
    assert.equal(m.listeners[0].port, 80);
    const u = m.groups[0].upstreams[0];
    assert.equal(u.active, 5);
    assert.equal(u.total, 15);
    assert.equal(u.weight, 3);
    assert.equal(u.ejected, true);
    assert.deepEqual(m.limits, { rate: true, concurrency: false });
  });

  it('counts the totals of exited workers but not their connections', () => {
    const m = mergeSnapshots([picture(1, 4)], [picture(7, 100)]);
    assert.equal(m.sessionCount, 1);
    assert.equal(m.listeners[0].stats.accepted, 104);
    assert.equal(m.listeners[0].stats.active, 1);
    assert.equal(m.groups[0].upstreams[0].total, 104);
    assert.equal(m.groups[0].upstreams[0].active, 1);
  });

  it('leaves out what the live workers no longer have', () => {
    const m = mergeSnapshots([picture(0, 1, ['a'])], [picture(0, 9, ['a', 'removed'])]);
    assert.deepEqual(
      m.groups[0].upstreams.map((u) => u.id),
      ['a'],
    );
  });

  it('is an empty picture without workers', () => {
    assert.deepEqual(mergeSnapshots([]).listeners, []);
  });
});
