import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { LabelledHistogram } from '../../src/control/metrics/labelled-histogram.js';

describe('LabelledHistogram', () => {
  const buckets = [0.001, 0.01, 0.1, 1];
  const observations: [string, number][] = [
    ['edge', 0.0005],
    ['edge', 0.001], // on a bound: counted in it, as Prometheus' `le` says
    ['edge', 0.05],
    ['edge', 7], // above every bound: only in +Inf
    ['plain', 0.5],
    ['plain', 0.5],
    ['edge', 0],
  ];

  it('scrapes exactly as prom-client writes its own histogram for the same observations', async () => {
    const theirs = new Registry();
    const reference = new Histogram({
      name: 'h_seconds',
      help: 'help text',
      labelNames: ['listener'],
      buckets,
      registers: [theirs],
    });
    const ours = new Registry();
    const histogram = new LabelledHistogram({
      name: 'h_seconds',
      help: 'help text',
      label: 'listener',
      buckets,
      registry: ours,
    });
    for (const [listener, value] of observations) {
      reference.observe({ listener }, value);
      histogram.observe(listener, value);
    }
    const expected = await theirs.metrics();
    assert.match(expected, /h_seconds_bucket\{le="\+Inf",listener="edge"\} 5/);
    assert.equal(await ours.metrics(), expected);
  });

  it('drops values that are not finite and forgets everything on reset', async () => {
    const registry = new Registry();
    const histogram = new LabelledHistogram({ name: 'x', help: 'x', label: 'group', buckets, registry });
    histogram.observe('g', Number.NaN);
    histogram.observe('g', Number.POSITIVE_INFINITY);
    assert.doesNotMatch(await registry.metrics(), /x_count/);
    histogram.observe('g', 0.2);
    assert.match(await registry.metrics(), /x_count\{group="g"\} 1/);
    registry.resetMetrics();
    assert.doesNotMatch(await registry.metrics(), /x_count/);
  });
});
