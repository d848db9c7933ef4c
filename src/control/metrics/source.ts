import { Counter, Gauge, type Registry } from 'prom-client';
import type { ProxyEvents } from '../../proxy/events.js';
import type { ProxySnapshot } from '../../proxy/snapshot.js';

/** What the metrics read: a few event channels and a snapshot per scrape; a {@link ProxyServer} is one. */
export interface MetricsSource {
  /** The channels that feed the counters and histograms. */
  readonly events: Pick<ProxyEvents, 'sessionAdmitted' | 'upstreamPicked' | 'sessionEnded' | 'handshake'>;
  /** Listeners, groups and their counters as plain data. */
  snapshot(): ProxySnapshot;
}

/**
 * One picture of the proxy shared by every collector of a scrape, so the numbers of one scrape
 * agree with each other and the proxy builds one snapshot, not one per metric.
 */
export class ScrapeSnapshot {
  #source: MetricsSource | undefined;
  #current: ProxySnapshot | undefined;

  /** Reads from `source` from now on. */
  use(source: MetricsSource): void {
    this.#source = source;
    this.#current = undefined;
  }

  /** Forgets the picture, so the next read takes a new one (a scrape starts). */
  renew(): void {
    this.#current = undefined;
  }

  /** The picture of this scrape; undefined while there is no source. */
  get(): ProxySnapshot | undefined {
    if (this.#current === undefined && this.#source !== undefined) {
      this.#current = this.#source.snapshot();
      // prom-client runs every collector of one scrape in promise callbacks, before the next
      // macrotask: a scrape that did not come through render() still shares one picture.
      setImmediate(() => {
        this.#current = undefined;
      });
    }
    return this.#current;
  }
}

/** Sets one sample of a metric being collected. */
export type Put = (labels: Record<string, string>, value: number) => void;

/** Name, help and labels of a metric. */
export interface MetricShape {
  name: string;
  help: string;
  labelNames: string[];
}

/**
 * A gauge or counter whose samples are all rewritten from the scrape's snapshot by `fill` (no
 * samples while there is no source). Counters read this way are the proxy's own, which only grow.
 */
export function snapshotMetric(
  type: 'gauge' | 'counter',
  shape: MetricShape,
  registry: Registry,
  scrape: ScrapeSnapshot,
  fill: (snapshot: ProxySnapshot, put: Put) => void,
): void {
  let put: Put = () => {};
  const config = {
    ...shape,
    registers: [registry],
    collect(): void {
      metric.reset();
      const snap = scrape.get();
      if (snap !== undefined) fill(snap, put);
    },
  };
  const metric = type === 'gauge' ? new Gauge(config) : new Counter(config);
  put =
    metric instanceof Gauge
      ? (labels, value) => metric.set(labels, value)
      : (labels, value) => metric.inc(labels, value);
}
