/**
 * The Prometheus metrics of a proxy; the parts live in `metrics/` (the snapshot each scrape reads,
 * listener, group and upstream metrics read from it, session metrics fed by events).
 */
export {
  createMetrics,
  type DecisionResult,
  type Metrics,
  type MetricsOptions,
} from './metrics/create-metrics.js';
export type { MetricsSource } from './metrics/source.js';
