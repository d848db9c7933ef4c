import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Gauge, Registry } from 'prom-client';
import { type MetricsJson, mergeMetrics } from '../../src/workers/metrics-merge.js';

async function workerMetrics(connections: number, active: number, up: number): Promise<MetricsJson> {
  const r = new Registry();
  new Counter({
    name: 'switchyard_listener_connections_total',
    help: 'h',
    labelNames: ['listener'],
    registers: [r],
  }).inc({ listener: 'web' }, connections);
  new Gauge({
    name: 'switchyard_listener_connections_active',
    help: 'h',
    labelNames: ['listener'],
    registers: [r],
  }).set({ listener: 'web' }, active);
  new Gauge({ name: 'switchyard_upstream_up', help: 'h', labelNames: ['upstream'], registers: [r] }).set(
    { upstream: 'a' },
    up,
  );
  new Counter({ name: 'switchyard_reloads_total', help: 'h', registers: [r] }).inc(1);
  new Gauge({ name: 'process_resident_memory_bytes', help: 'h', registers: [r] }).set(1000 * connections);
  return (await r.getMetricsAsJSON()) as MetricsJson;
}

const value = (text: string, series: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(`${series} `))
      ?.slice(series.length + 1),
  );

describe('mergeMetrics', () => {
  it('sums connections, keeps states, counts exited workers, labels process metrics', async () => {
    const primary = new Registry();
    new Counter({ name: 'switchyard_reloads_total', help: 'h', registers: [primary] }).inc(2);
    const workers = [
      { label: '1', json: await workerMetrics(10, 2, 1) },
      { label: '2', json: await workerMetrics(5, 1, 1) },
    ];
    const text = await (await mergeMetrics(primary, workers, [await workerMetrics(100, 50, 1)])).metrics();
    assert.equal(value(text, 'switchyard_listener_connections_total{listener="web"}'), 115);
    assert.equal(value(text, 'switchyard_listener_connections_active{listener="web"}'), 3);
    assert.equal(value(text, 'switchyard_upstream_up{upstream="a"}'), 1);
    // the primary's own reload count, not the workers' copies
    assert.equal(value(text, 'switchyard_reloads_total'), 2);
    assert.equal(value(text, 'process_resident_memory_bytes{worker="1"}'), 10_000);
    assert.equal(value(text, 'process_resident_memory_bytes{worker="2"}'), 5000);
  });
});
