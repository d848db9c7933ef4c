import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createMetrics, type Metrics, type MetricsSource } from '../../src/control/metrics.js';
import { ErrorCodes } from '../../src/lib/errors.js';
import { ProxyEvents } from '../../src/proxy/events.js';
import { connectTcp, httpGet, tcpGet, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-harness.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';
import { parseMetrics, type Sample, sample } from './admin-harness.js';

/**
 * The metrics' counters are fed by the proxy's events and their gauges read from one snapshot per
 * scrape: the source handed to them has nothing else (no sessions, no listeners, no runtime).
 */
describe('metrics fed by events, read from one snapshot per scrape', { timeout: 30_000 }, () => {
  let up: TestUpstream;
  let t: TestProxy;
  let snapshots = 0;
  let metrics: Metrics;
  /** Metrics that see the proxy's snapshots but none of its events. */
  let deaf: Metrics;
  let held: Socket | undefined;
  const admitted: string[] = [];

  before(async () => {
    up = await startNamedHttpUpstream('up-1');
    t = await startTestProxy({
      listeners: [{ name: 'plain', bind: '127.0.0.1:0', group: 'g' }],
      groups: { g: { upstreams: [{ address: up.address, id: 'up-1' }] } },
      rateLimit: { algorithm: 'fixed-window', limit: 2, window: '1h' },
      concurrency: { perClient: 5 },
    });
    const source: MetricsSource = {
      events: t.proxy.events,
      snapshot: () => {
        snapshots++;
        return t.proxy.snapshot();
      },
    };
    metrics = createMetrics(source, { processMetrics: false });
    deaf = createMetrics(
      { events: new ProxyEvents(), snapshot: () => t.proxy.snapshot() },
      { processMetrics: false },
    );
    t.proxy.events.sessionAdmitted.subscribe((e) => admitted.push(e.clientAddress));
  });

  after(async () => {
    held?.destroy();
    await t.stop();
    await up.close();
  });

  const scrape = async (m: Metrics = metrics): Promise<Sample[]> => parseMetrics(await m.render());
  const decisions = (s: Sample[], name: string, result: 'allowed' | 'limited') =>
    sample(s, `switchyard_${name}_decisions_total`, { result });

  it('counts an admission when the event comes, while the session still lives', async () => {
    held = await connectTcp(t.port(), '127.0.0.1', '127.0.0.61');
    await until(() => admitted.length === 1, 'one admission');
    const before = snapshots;
    const s = await scrape();
    assert.equal(snapshots - before, 1, 'one snapshot for the whole scrape');
    assert.equal(decisions(s, 'ratelimit', 'allowed'), 1);
    assert.equal(decisions(s, 'concurrency', 'allowed'), 1);
    assert.equal(sample(s, 'switchyard_listener_connections_active', { listener: 'plain' }), 1);
    assert.equal(sample(s, 'switchyard_group_connections_total', { group: 'g' }), 1);
    assert.equal(sample(s, 'switchyard_session_duration_seconds_count', { listener: 'plain' }), undefined);
  });

  it('does not count it again when it ends, and observes the end', async () => {
    const from = t.records.length;
    assert.equal(await httpGet(held!), 'up-1');
    await t.record(() => true, from);
    const s = await scrape();
    assert.equal(decisions(s, 'ratelimit', 'allowed'), 1);
    assert.equal(sample(s, 'switchyard_session_duration_seconds_count', { listener: 'plain' }), 1);
    assert.equal(sample(s, 'switchyard_upstream_connect_seconds_count', { group: 'g' }), 1);
  });

  it('counts refusals by reason: the rate limit refuses the third session of a client', async () => {
    assert.equal(await tcpGet(t.port(), '127.0.0.1', '127.0.0.61'), 'up-1');
    assert.equal(await tcpGet(t.port(), '127.0.0.1', '127.0.0.61'), '');
    await until(() => t.records.length === 3, 'three sessions ended');
    const s = await scrape();
    assert.equal(decisions(s, 'ratelimit', 'allowed'), 2);
    assert.equal(decisions(s, 'ratelimit', 'limited'), 1);
    assert.equal(decisions(s, 'concurrency', 'allowed'), 2);
    assert.equal(
      sample(s, 'switchyard_rejections_total', { listener: 'plain', reason: ErrorCodes.ERR_RATE_LIMITED }),
      1,
    );
    assert.equal(sample(s, 'switchyard_session_duration_seconds_count', { listener: 'plain' }), 3);
    assert.equal(sample(s, 'switchyard_group_connections_total', { group: 'g' }), 2);
  });

  it('without the events, the same snapshots give no admissions and no histograms', async () => {
    const s = await scrape(deaf);
    assert.equal(decisions(s, 'ratelimit', 'allowed'), 0);
    assert.equal(decisions(s, 'concurrency', 'allowed'), 0);
    assert.equal(sample(s, 'switchyard_session_duration_seconds_count', { listener: 'plain' }), undefined);
    // What the snapshot carries is the same for both.
    assert.equal(decisions(s, 'ratelimit', 'limited'), 1);
    assert.equal(sample(s, 'switchyard_listener_connections_total', { listener: 'plain' }), 3);
  });

  it('stops listening to a source it no longer watches', async () => {
    metrics.watch({ events: new ProxyEvents(), snapshot: () => t.proxy.snapshot() });
    assert.equal(await tcpGet(t.port(), '127.0.0.1', '127.0.0.62'), 'up-1');
    await until(() => t.records.length === 4, 'four sessions ended');
    const s = await scrape();
    assert.equal(decisions(s, 'ratelimit', 'allowed'), 2);
    assert.equal(sample(s, 'switchyard_listener_connections_total', { listener: 'plain' }), 4);
  });
});
