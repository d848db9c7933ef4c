import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientRefusals } from '../../../src/control/dashboard/client-refusals.js';
import { clientDetail, topClients } from '../../../src/control/dashboard/client-table.js';
import { refusalOfConnection, refusalOfSession } from '../../../src/control/dashboard/refusal-source.js';
import { Ring } from '../../../src/control/dashboard/ring.js';
import { snapshotChanges } from '../../../src/control/dashboard/snapshot-changes.js';
import { refusalRate, sampleBetween, trafficTotals } from '../../../src/control/dashboard/traffic-sample.js';
import { ServerHistory } from '../../../src/control/server-history.js';
import type { SessionEndedEvent } from '../../../src/proxy/events.js';
import { picture, session, upstream } from './fixtures.js';

/** Counts a session's end in `refusals` when it was a refusal, as a watched source does. */
function recordEnd(refusals: ClientRefusals, e: SessionEndedEvent): void {
  const refusal = refusalOfSession(e);
  if (refusal !== undefined) refusals.record(refusal);
}

function ended(clientId: string, termination: SessionEndedEvent['termination']): SessionEndedEvent {
  return {
    listener: 'edge',
    clientAddress: '127.0.0.9',
    clientPort: 1,
    clientId,
    org: clientId === '' ? '' : 'acme',
    group: 'web',
    upstream: '',
    upstreamAddress: '',
    bytesFromClient: 0,
    bytesToClient: 0,
    durationMs: 0,
    handshakeMs: 0,
    connectMs: 0,
    connectAttempts: 0,
    tlsVersion: '',
    tlsCipher: '',
    serverName: '',
    alpn: '',
    termination,
  };
}

describe('Ring', () => {
  it('keeps the newest items up to its capacity, oldest first or newest first', () => {
    const ring = new Ring<number>(3);
    assert.deepEqual(ring.toArray(), []);
    assert.equal(ring.newest(), undefined);
    for (let i = 1; i <= 5; i++) ring.push(i);
    assert.equal(ring.size, 3);
    assert.equal(ring.pushed, 5);
    assert.deepEqual(ring.toArray(), [3, 4, 5]);
    assert.deepEqual(ring.newestFirst(), [5, 4, 3]);
    assert.equal(ring.newest(), 5);
  });

  it('refuses a capacity that is not a positive integer', () => {
    assert.throws(() => new Ring(0), RangeError);
    assert.throws(() => new Ring(1.5), RangeError);
  });
});

describe('traffic samples', () => {
  it('are rates per second between two totals, the bytes of live sessions included', () => {
    const before = trafficTotals(picture({ accepted: 10, bytesIn: 1000, bytesOut: 5000 }), [], 0);
    const after = trafficTotals(
      picture({
        accepted: 30,
        active: 4,
        bytesIn: 2000,
        bytesOut: 9000,
        rejections: { ERR_RATE_LIMITED: 6 },
      }),
      [session('a', 'x', 1000, 2000)],
      2000,
    );
    const s = sampleBetween(before, after, 1_700_000_000_000);
    assert.deepEqual(s, {
      at: 1_700_000_000_000,
      connections: 10,
      active: 4,
      bytesIn: 1000,
      bytesOut: 3000,
      refusals: { ERR_RATE_LIMITED: 3 },
    });
    assert.equal(refusalRate(s), 3);
  });

  it('never go negative when a total steps back (a listener removed, a worker replaced)', () => {
    const before = trafficTotals(
      picture({ accepted: 50, bytesIn: 100, rejections: { ERR_LISTENER_FULL: 9 } }),
      [],
      0,
    );
    const after = trafficTotals(
      picture({ accepted: 5, bytesIn: 10, rejections: { ERR_LISTENER_FULL: 1 } }),
      [],
      1000,
    );
    const s = sampleBetween(before, after, 0);
    assert.equal(s.connections, 0);
    assert.equal(s.bytesIn, 0);
    assert.deepEqual(s.refusals, {});
  });
});

describe('client refusals and the client table', () => {
  it('counts refusals per client, ignores ordinary endings, and stays bounded', () => {
    let now = 100;
    const refusals = new ClientRefusals({ maxClients: 2, recentPerClient: 2, now: () => now });
    recordEnd(refusals, ended('alice', 'OK'));
    recordEnd(refusals, ended('alice', 'ERR_IDLE_TIMEOUT'));
    assert.equal(refusals.size, 0);
    for (const code of ['ERR_RATE_LIMITED', 'ERR_CONCURRENCY_LIMIT', 'ERR_RATE_LIMITED'] as const) {
      now++;
      recordEnd(refusals, ended('alice', code));
    }
    const alice = refusals.get('alice');
    assert.equal(alice?.count, 3);
    assert.equal(alice?.org, 'acme');
    assert.deepEqual(
      alice?.recent.map((r) => [r.at, r.code]),
      [
        [102, 'ERR_CONCURRENCY_LIMIT'],
        [103, 'ERR_RATE_LIMITED'],
      ],
    );
    refusals.record(
      refusalOfConnection({ listener: 'edge', reason: 'ERR_CERT_UNTRUSTED', clientAddress: '10.0.0.1' }),
    );
    recordEnd(refusals, ended('bob', 'ERR_UNAUTHORIZED_ORG'));
    // alice was refused longest ago: she goes first
    assert.equal(refusals.size, 2);
    assert.equal(refusals.get('alice'), undefined);
    assert.equal(refusals.get('10.0.0.1')?.count, 1);
  });

  it('lists the top clients by connections, then bytes, then refusals, cut to the limit', () => {
    const refusals = new ClientRefusals();
    recordEnd(refusals, ended('carol', 'ERR_RATE_LIMITED'));
    recordEnd(refusals, ended('carol', 'ERR_RATE_LIMITED'));
    const sessions = [
      session('alice', 'acme', 10, 10),
      session('bob', 'beta', 500, 500),
      session('bob', 'beta'),
    ];
    const rows = topClients(sessions, refusals, 10);
    assert.deepEqual(
      rows.map((r) => [r.id, r.org, r.connections, r.refusals]),
      [
        ['bob', 'beta', 2, 0],
        ['alice', 'acme', 1, 0],
        ['carol', 'acme', 0, 2],
      ],
    );
    assert.equal(topClients(sessions, refusals, 1).length, 1);
    assert.deepEqual(
      topClients(sessions, null, 10).map((r) => r.refusals),
      [null, null],
    );
  });

  it('details one client: its live sessions and recent refusals', () => {
    const refusals = new ClientRefusals({ now: () => 5 });
    recordEnd(refusals, ended('bob', 'ERR_RATE_LIMITED'));
    const d = clientDetail('bob', [session('bob', 'beta', 3, 4), session('alice', 'acme')], refusals);
    assert.equal(d.connections, 1);
    assert.equal(d.org, 'beta');
    assert.equal(d.sessions.length, 1);
    assert.deepEqual(d.recentRefusals, [{ at: 5, code: 'ERR_RATE_LIMITED', listener: 'edge' }]);
    assert.equal(clientDetail('nobody', [], null).recentRefusals, null);
  });
});

describe('snapshot changes', () => {
  it('names state, weight, ejection, balancer and membership changes', () => {
    const before = picture({}, [upstream('a'), upstream('b'), upstream('c')]);
    const after = picture(
      {},
      [upstream('a', { state: 'draining', weight: 3 }), upstream('b', { ejected: true }), upstream('d')],
      'least-connections',
    );
    assert.deepEqual(
      snapshotChanges(before, after).map((c) => [c.kind, c.message, c.bad ?? false]),
      [
        ['balancer', 'web balancer round-robin → least-connections', false],
        ['state', 'web/a is now draining', true],
        ['weight', 'web/a weight 1 → 3', false],
        ['ejection', 'web/b ejected by passive health checks', true],
        ['upstream', 'web/d added (127.0.0.1:1001)', false],
        ['upstream', 'web/c removed', false],
      ],
    );
    assert.deepEqual(snapshotChanges(after, after), []);
  });
});

describe('ServerHistory', () => {
  it('tells uptime, the last reload and events newest first, bounded', () => {
    let now = 1_700_000_000_000;
    const history = new ServerHistory({ version: '9.9.9', now: () => now, maxEvents: 2 });
    assert.equal(history.lastReload(), null);
    now += 61_500;
    assert.equal(history.uptimeSeconds(), 61);
    history.reloaded({ ok: true, changes: ['group web: upstream a weight 1 -> 2'] });
    assert.deepEqual(history.lastReload(), {
      at: new Date(now).toISOString(),
      ok: true,
      changes: ['group web: upstream a weight 1 -> 2'],
    });
    history.reloaded({ ok: false, error: 'bad file' });
    assert.deepEqual(history.lastReload(), { at: new Date(now).toISOString(), ok: false, error: 'bad file' });
    const health = {
      group: 'web',
      upstream: 'a',
      address: '127.0.0.1:1',
      from: 'healthy',
      to: 'unhealthy',
      reason: 'connection refused',
      at: 0,
      inRotation: false,
    } as const;
    history.healthChanged({ ...health, check: 'passive' });
    assert.equal(history.events().length, 2);
    history.healthChanged({ ...health, check: 'active' });
    assert.deepEqual(
      history.events().map((e) => [e.kind, e.message]),
      [
        ['health', 'web/a is unhealthy: connection refused'],
        ['reload', 'reload refused: bad file'],
      ],
    );
    assert.equal(history.eventsVersion, 3);
  });
});
