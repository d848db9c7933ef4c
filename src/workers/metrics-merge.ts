import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from 'prom-client';

/** The metrics of one process as prom-client's JSON gives them. */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** Metrics only the primary keeps; a worker's copy would be counted once per worker. */
const PRIMARY_ONLY = new Set(['switchyard_reloads_total', 'switchyard_worker_restarts_total']);

/**
 * One registry for the whole balancer: the switchyard_* metrics of every worker summed (counters,
 * gauges and histograms alike: each worker holds its own connections), the counters and histograms
 * of exited workers still counted (a total never goes backwards when a worker is replaced), and
 * every process metric (CPU, memory, event loop) per process with a `worker` label, where a sum
 * would mean nothing.
 */
export async function mergeMetrics(
  primary: Registry,
  workers: readonly { label: string; json: MetricsJson }[],
  retired: readonly MetricsJson[],
): Promise<Registry> {
  const own = (await primary.getMetricsAsJSON()) as MetricsJson;
  const parts: MetricsJson[] = [labelProcessMetrics(own.map(withAggregator), 'primary')];
  for (const { label, json } of workers) {
    parts.push(labelProcessMetrics(json.filter((m) => !PRIMARY_ONLY.has(m.name)).map(withAggregator), label));
  }
  for (const json of retired) {
    parts.push(
      json
        .filter(
          (m) => m.name.startsWith('switchyard_') && !PRIMARY_ONLY.has(m.name) && String(m.type) !== 'gauge',
        )
        .map(withAggregator),
    );
  }
  return AggregatorRegistry.aggregate(parts);
}

/**
 * Gauges of connections in progress add up across workers; the other gauges are states every worker
 * shares (an upstream is up, a listener listens), where the sum would count each once per worker.
 */
function withAggregator(m: MetricsJson[number]): MetricsJson[number] {
  if (String(m.type) !== 'gauge' || !m.name.startsWith('switchyard_')) return m;
  const adds = m.name.endsWith('_active') || m.name.endsWith('_in_progress');
  return { ...m, aggregator: adds ? 'sum' : 'max' };
}

function labelProcessMetrics(json: MetricsJson, worker: string): MetricsJson {
  return json.map((m) =>
    m.name.startsWith('switchyard_')
      ? m
      : { ...m, values: m.values.map((v) => ({ ...v, labels: { ...v.labels, worker } })) },
  );
}
