import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LineWriter } from '../../src/control/line-writer.js';
import { createMetrics } from '../../src/control/metrics.js';
import { ErrorCodes } from '../../src/lib/errors.js';
import type { SessionRecord } from '../../src/proxy/stats.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTcp, connectTls, httpGet, tcpGet, tlsGet, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';
import { request, type Sample, sample, scrape, startTestAdmin, type TestAdmin } from './admin-harness.js';

describe('Prometheus metrics at /metrics', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let ups: TestUpstream[];
  let plainUp: TestUpstream;
  let t: TestProxy;
  let admin: TestAdmin;
  let held: Socket | undefined;

  before(async () => {
    pki = await getTestPki();
    ups = await Promise.all(['a-1', 'a-2'].map((n) => startNamedHttpUpstream(n)));
    plainUp = await startNamedHttpUpstream('plain-1');
    t = await startTestProxy({
      listeners: [
        {
          name: 'edge',
          bind: '127.0.0.1:0',
          tls: await testTlsBlock(),
          routes: [{ org: 'groupA', group: 'groupA' }],
        },
        { name: 'plain', bind: '127.0.0.1:0', group: 'plain' },
      ],
      groups: {
        groupA: { balancer: 'round-robin', upstreams: ups.map((u) => ({ address: u.address, id: u.name })) },
        plain: { balancer: 'least-connections', upstreams: [{ address: plainUp.address, id: 'plain-1' }] },
      },
      rateLimit: { algorithm: 'fixed-window', limit: 5, window: '1h' },
      concurrency: { perClient: 10 },
    });
    admin = await startTestAdmin(t);
  });

  after(async () => {
    held?.destroy();
    await admin.close();
    await t.stop();
    await Promise.all([...ups, plainUp].map((u) => u.close()));
  });

  const tls = (client: keyof TestPki) =>
    tlsGet({ port: t.port('edge'), ca: pki.ca.cert, client: pki[client] });
  const ended = (n: number) => until(() => t.records.length >= n, `${n} session records`);
  let samples: Sample[];

  it('serves the Prometheus text format', async () => {
    const res = await fetch(`${admin.base}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    assert.match(text, /^# HELP switchyard_listener_connections_total /m);
    assert.match(text, /^# TYPE switchyard_listener_connections_total counter$/m);
    assert.match(text, /^# TYPE switchyard_session_duration_seconds histogram$/m);
  });

  it('counts connections, refusals by reason, upstream picks and histogram observations exactly', async () => {
    assert.equal(await tls('groupA'), 'a-1');
    assert.equal(await tls('groupA'), 'a-2');
    assert.equal(await tls('groupA'), 'a-1');
    assert.equal(await tls('intruder'), '');
    assert.equal(await tcpGet(t.port('plain')), 'plain-1');
    assert.equal(await tcpGet(t.port('plain')), 'plain-1');
    await ended(6);
    samples = await scrape(admin);

    assert.equal(sample(samples, 'switchyard_listener_connections_total', { listener: 'edge' }), 4);
    assert.equal(sample(samples, 'switchyard_listener_connections_total', { listener: 'plain' }), 2);
    assert.equal(sample(samples, 'switchyard_listener_connections_active', { listener: 'edge' }), 0);
    assert.equal(sample(samples, 'switchyard_listener_sessions_proxied_total', { listener: 'edge' }), 3);
    assert.equal(
      sample(samples, 'switchyard_rejections_total', {
        listener: 'edge',
        reason: ErrorCodes.ERR_UNAUTHORIZED_ORG,
      }),
      1,
    );
    assert.equal(
      samples.filter((s) => s.name === 'switchyard_rejections_total').length,
      1,
      'no other refusal was counted',
    );
    assert.equal(
      sample(samples, 'switchyard_upstream_connections_total', { group: 'groupA', upstream: 'a-1' }),
      2,
    );
    assert.equal(
      sample(samples, 'switchyard_upstream_connections_total', { group: 'groupA', upstream: 'a-2' }),
      1,
    );
    assert.equal(
      sample(samples, 'switchyard_upstream_connections_total', { group: 'plain', upstream: 'plain-1' }),
      2,
    );
    assert.equal(sample(samples, 'switchyard_group_connections_total', { group: 'groupA' }), 3);
    assert.equal(
      sample(samples, 'switchyard_upstream_connections_active', { group: 'groupA', upstream: 'a-1' }),
      0,
    );
    assert.equal(
      sample(samples, 'switchyard_upstream_failures_total', { group: 'groupA', upstream: 'a-1' }),
      0,
    );

    assert.equal(sample(samples, 'switchyard_session_duration_seconds_count', { listener: 'edge' }), 4);
    assert.equal(sample(samples, 'switchyard_session_duration_seconds_count', { listener: 'plain' }), 2);
    assert.equal(
      sample(samples, 'switchyard_session_duration_seconds_bucket', { listener: 'edge', le: '+Inf' }),
      4,
    );
    assert.equal(sample(samples, 'switchyard_upstream_connect_seconds_count', { group: 'groupA' }), 3);
    assert.equal(sample(samples, 'switchyard_upstream_connect_seconds_count', { group: 'plain' }), 2);
    // every handshake that succeeded, the intruder's included (it is refused after the handshake)
    assert.equal(sample(samples, 'switchyard_handshake_seconds_count', { listener: 'edge' }), 4);
    assert.ok((sample(samples, 'switchyard_handshake_seconds_sum', { listener: 'edge' }) ?? 0) > 0);

    const edgeRecords = t.records.filter((r: SessionRecord) => r.listener === 'edge');
    const fromClients = edgeRecords.reduce((n, r) => n + r.bytesFromClient, 0);
    const toClients = edgeRecords.reduce((n, r) => n + r.bytesToClient, 0);
    assert.ok(fromClients > 0);
    assert.equal(
      sample(samples, 'switchyard_listener_bytes_total', { listener: 'edge', direction: 'in' }),
      fromClients,
    );
    assert.equal(
      sample(samples, 'switchyard_listener_bytes_total', { listener: 'edge', direction: 'out' }),
      toClients,
    );
    const a1 = t.proxy.runtime.groups.get('groupA')!.get('a-1')!;
    assert.equal(
      sample(samples, 'switchyard_upstream_bytes_total', {
        group: 'groupA',
        upstream: 'a-1',
        direction: 'in',
      }),
      a1.bytesIn,
    );
    assert.equal(
      sample(samples, 'switchyard_upstream_bytes_total', {
        group: 'groupA',
        upstream: 'a-1',
        direction: 'out',
      }),
      a1.bytesOut,
    );
  });

  it('shows health and administrative state per upstream', async () => {
    assert.equal(sample(samples, 'switchyard_upstream_up', { group: 'groupA', upstream: 'a-1' }), 1);
    assert.equal(sample(samples, 'switchyard_upstream_healthy', { group: 'groupA', upstream: 'a-1' }), 1);
    assert.equal(
      sample(samples, 'switchyard_upstream_state', { group: 'groupA', upstream: 'a-1', state: 'up' }),
      1,
    );
    assert.equal(
      sample(samples, 'switchyard_upstream_state', { group: 'groupA', upstream: 'a-1', state: 'draining' }),
      0,
    );
    assert.equal(sample(samples, 'switchyard_group_upstreams_up', { group: 'groupA' }), 2);
    await request(admin, 'POST', '/api/groups/groupA/upstreams/a-1/drain');
    t.proxy.runtime.groups.get('groupA')!.setHealthy('a-2', false);
    const after = await scrape(admin);
    assert.equal(sample(after, 'switchyard_upstream_up', { group: 'groupA', upstream: 'a-1' }), 0);
    assert.equal(
      sample(after, 'switchyard_upstream_state', { group: 'groupA', upstream: 'a-1', state: 'up' }),
      0,
    );
    assert.equal(
      sample(after, 'switchyard_upstream_state', { group: 'groupA', upstream: 'a-1', state: 'draining' }),
      1,
    );
    assert.equal(sample(after, 'switchyard_upstream_healthy', { group: 'groupA', upstream: 'a-2' }), 0);
    assert.equal(sample(after, 'switchyard_group_upstreams_up', { group: 'groupA' }), 0);
    t.proxy.runtime.groups.get('groupA')!.setHealthy('a-2', true);
    await request(admin, 'POST', '/api/groups/groupA/upstreams/a-1/ready');
    t.proxy.runtime.groups.get('groupA')!.setEjected('a-2', true);
    const ejected = await scrape(admin);
    assert.equal(sample(ejected, 'switchyard_upstream_ejected', { group: 'groupA', upstream: 'a-2' }), 1);
    assert.equal(sample(ejected, 'switchyard_upstream_up', { group: 'groupA', upstream: 'a-2' }), 0);
    assert.equal(sample(ejected, 'switchyard_upstream_up', { group: 'groupA', upstream: 'a-1' }), 1);
    t.proxy.runtime.groups.get('groupA')!.setEjected('a-2', false);
  });

  it('keeps a group total when an upstream is removed', async () => {
    const group = t.proxy.runtime.groups.get('groupA')!;
    await scrape(admin);
    await request(admin, 'DELETE', '/api/groups/groupA/upstreams/a-2');
    const after = await scrape(admin);
    assert.equal(sample(after, 'switchyard_group_connections_total', { group: 'groupA' }), 3);
    assert.equal(
      sample(after, 'switchyard_upstream_connections_total', { group: 'groupA', upstream: 'a-2' }),
      undefined,
    );
    group.add({ address: ups[1].address, id: 'a-2' });
  });

  it('derives rate-limit and concurrency decisions, counting a live session once', async () => {
    let s = await scrape(admin);
    // Five routed sessions passed both gates; the intruder was refused before them.
    assert.equal(sample(s, 'switchyard_ratelimit_decisions_total', { result: 'allowed' }), 5);
    assert.equal(sample(s, 'switchyard_ratelimit_decisions_total', { result: 'limited' }), 0);
    assert.equal(sample(s, 'switchyard_concurrency_decisions_total', { result: 'allowed' }), 5);
    held = await connectTcp(t.port('plain'));
    await until(
      () => t.proxy.sessionSnapshots().some((x) => x.phase === 'relaying'),
      'held session relaying',
    );
    s = await scrape(admin);
    assert.equal(sample(s, 'switchyard_ratelimit_decisions_total', { result: 'allowed' }), 6);
    assert.equal(sample(s, 'switchyard_listener_connections_active', { listener: 'plain' }), 1);
    const from = t.records.length;
    // The held session asks its question now and ends normally.
    assert.equal(await httpGet(held), 'plain-1');
    await t.record(() => true, from);
    s = await scrape(admin);
    assert.equal(sample(s, 'switchyard_ratelimit_decisions_total', { result: 'allowed' }), 6);
    assert.equal(sample(s, 'switchyard_concurrency_decisions_total', { result: 'allowed' }), 6);
    // 127.0.0.50 gets five admissions an hour: the sixth is limited.
    for (let i = 0; i < 6; i++) await tcpGet(t.port('plain'), '127.0.0.1', '127.0.0.50');
    await until(() => t.proxy.stats('plain').rejected(ErrorCodes.ERR_RATE_LIMITED) === 1, 'one rate refusal');
    await until(() => t.proxy.stats('plain').active === 0, 'plain sessions ended');
    s = await scrape(admin);
    assert.equal(sample(s, 'switchyard_ratelimit_decisions_total', { result: 'allowed' }), 11);
    assert.equal(sample(s, 'switchyard_ratelimit_decisions_total', { result: 'limited' }), 1);
    assert.equal(sample(s, 'switchyard_concurrency_decisions_total', { result: 'allowed' }), 11);
    assert.equal(sample(s, 'switchyard_concurrency_decisions_total', { result: 'limited' }), 0);
    assert.equal(
      sample(s, 'switchyard_rejections_total', { listener: 'plain', reason: ErrorCodes.ERR_RATE_LIMITED }),
      1,
    );
  });

  it('counts the log lines this process dropped', async () => {
    const before = sample(await scrape(admin), 'switchyard_log_lines_dropped_total', {});
    assert.equal(before, 0);
    // a bound smaller than one line: each line is dropped, nothing is written
    const w = new LineWriter({
      path: join(mkdtempSync(join(tmpdir(), 'switchyard-drop-')), 'x.log'),
      maxBufferedBytes: 8,
    });
    for (let i = 0; i < 3; i++) w.write('{"msg":"a line longer than the bound"}\n');
    assert.equal(w.dropped, 3);
    assert.equal(sample(await scrape(admin), 'switchyard_log_lines_dropped_total', {}), 3);
    await new Promise<void>((resolve) => w.close(resolve));
  });

  it('counts reloads, health transitions and handshakes told by their owners', async () => {
    let s = await scrape(admin);
    const handshakes = sample(s, 'switchyard_handshake_seconds_count', { listener: 'edge' }) ?? 0;
    const fast = sample(s, 'switchyard_handshake_seconds_bucket', { listener: 'edge', le: '0.0025' });
    assert.equal(sample(s, 'switchyard_reloads_total', { result: 'success' }), 0);
    assert.equal(sample(s, 'switchyard_reloads_total', { result: 'failure' }), 0);
    admin.metrics.countReload(true);
    admin.metrics.countReload(true);
    admin.metrics.countReload(false);
    admin.metrics.countHealthTransition('groupA', 'a-1', 'unhealthy');
    admin.metrics.observeHandshake('edge', 0.004);
    s = await scrape(admin);
    assert.equal(sample(s, 'switchyard_reloads_total', { result: 'success' }), 2);
    assert.equal(sample(s, 'switchyard_reloads_total', { result: 'failure' }), 1);
    assert.equal(
      sample(s, 'switchyard_health_transitions_total', { group: 'groupA', upstream: 'a-1', to: 'unhealthy' }),
      1,
    );
    assert.equal(sample(s, 'switchyard_handshake_seconds_count', { listener: 'edge' }), handshakes + 1);
    assert.equal(sample(s, 'switchyard_handshake_seconds_bucket', { listener: 'edge', le: '0.0025' }), fast);
  });

  it('counts connections still open on a removed upstream in the group gauge until they end', async () => {
    const group = t.proxy.runtime.groups.get('plain')!;
    const upstream = group.get('plain-1')!;
    // from an address of its own: earlier tests used up the rate limit of 127.0.0.1
    const client = await connectTcp(t.port('plain'), '127.0.0.1', '127.0.0.9');
    await until(() => upstream.active === 1, 'the plain session connected upstream');
    await request(admin, 'DELETE', '/api/groups/plain/upstreams/plain-1');
    const during = await scrape(admin);
    assert.equal(sample(during, 'switchyard_group_connections_active', { group: 'plain' }), 1);
    // the HTTP upstream answers and closes, which ends the session from its side
    client.end('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    client.resume();
    await until(() => upstream.active === 0, 'the removed upstream released');
    const afterEnd = await scrape(admin);
    assert.equal(sample(afterEnd, 'switchyard_group_connections_active', { group: 'plain' }), 0);
    group.add({ address: plainUp.address, id: 'plain-1' });
  });

  it('exports process metrics', async () => {
    const s = await scrape(admin);
    assert.ok(s.some((x) => x.name === 'process_cpu_user_seconds_total'));
    assert.ok(s.some((x) => x.name === 'nodejs_eventloop_lag_seconds'));
  });

  it('lists mTLS clients by certificate id with their org', async () => {
    const a = await connectTls({ port: t.port('edge'), ca: pki.ca.cert, client: pki.groupA });
    const b = await connectTls({ port: t.port('edge'), ca: pki.ca.cert, client: pki.groupA });
    try {
      await until(
        () => t.proxy.sessionSnapshots().filter((x) => x.clientId === 'client-a').length === 2,
        'two client-a sessions',
      );
      const res = await request(admin, 'GET', '/api/clients');
      assert.deepEqual(
        (res.body.clients as { id: string; org: string; connections: number }[]).map((c) => [
          c.id,
          c.org,
          c.connections,
        ]),
        [['client-a', 'groupA', 2]],
      );
    } finally {
      a.destroy();
      b.destroy();
    }
  });
});

describe('createMetrics without a proxy', () => {
  it('keeps registries apart, so several can live in one process', async () => {
    const one = createMetrics(undefined, { processMetrics: false });
    const two = createMetrics(undefined, { processMetrics: false });
    one.countReload(true);
    assert.match(await one.render(), /switchyard_reloads_total\{result="success"\} 1/);
    assert.match(await two.render(), /switchyard_reloads_total\{result="success"\} 0/);
    assert.doesNotMatch(await two.render(), /process_cpu/);
  });
});
