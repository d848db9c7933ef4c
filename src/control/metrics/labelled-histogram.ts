import type { Registry } from 'prom-client';

/** The counts of one label value. */
interface Series {
  /** Observations per bucket, not cumulative; the last slot counts those above every bound. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** One line of a scrape, in the shape prom-client's registry formats. */
interface SampleLine {
  metricName: string;
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
}

/**
 * A histogram with one label, observed once per session. prom-client's own `Histogram.observe`
 * validates the labels, hashes them into a key and looks the bound up in an object on every call
 * (about 1.5 % of the proxy's CPU per new connection); this keeps a typed array per label value and
 * builds prom-client's sample lines only when scraped. The lines are the ones prom-client writes for
 * its own histograms (`le` first, then the label), so the exposition is unchanged.
 */
export class LabelledHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #label: string;
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Series>();

  constructor(options: { name: string; help: string; label: string; buckets: number[]; registry: Registry }) {
    this.name = options.name;
    this.help = options.help;
    this.#label = options.label;
    this.#bounds = [...options.buckets].sort((a, b) => a - b);
    options.registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** Counts `value` for the series of `labelValue`; values that are not finite are dropped. */
  observe(labelValue: string, value: number): void {
    if (!Number.isFinite(value)) return;
    let series = this.#series.get(labelValue);
    if (series === undefined) {
      series = { counts: new Float64Array(this.#bounds.length + 1), sum: 0, count: 0 };
      this.#series.set(labelValue, series);
    }
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    series.counts[i]++;
    series.sum += value;
    series.count++;
  }

  /** Forgets every observation (the registry's `resetMetrics`). */
  reset(): void {
    this.#series.clear();
  }

  /** What a scrape shows: cumulative buckets, `+Inf`, sum and count per label value. */
  get(): { name: string; help: string; type: string; aggregator: string; values: SampleLine[] } {
    const values: SampleLine[] = [];
    const bucket = `${this.name}_bucket`;
    for (const [labelValue, series] of this.#series) {
      const shared = { [this.#label]: labelValue };
      let cumulative = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        cumulative += series.counts[i];
        values.push({
          metricName: bucket,
          labels: { le: this.#bounds[i] },
          sharedLabels: shared,
          value: cumulative,
        });
      }
      values.push({ metricName: bucket, labels: { le: '+Inf' }, sharedLabels: shared, value: series.count });
      values.push({ metricName: `${this.name}_sum`, labels: {}, sharedLabels: shared, value: series.sum });
      values.push({
        metricName: `${this.name}_count`,
        labels: {},
        sharedLabels: shared,
        value: series.count,
      });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
