import { Counter, type Registry } from 'prom-client';

/** What a shared limit store's failures have added up to (`LimitStoreConnection.counts`). */
export interface LimitStoreCountsSource {
  /** Failed or timed-out commands, by operation. */
  errors: ReadonlyMap<string, number>;
  /** Decisions the failure policy made instead of the store, by policy. */
  fallbackDecisions: ReadonlyMap<string, number>;
}

/**
 * `switchyard_limit_store_errors_total{operation}` and
 * `switchyard_limit_store_fallback_decisions_total{policy}`, read from the store's own counts at each
 * scrape (they are counted where the failures happen, once per failure).
 */
export function registerLimitStoreMetrics(registry: Registry, counts: LimitStoreCountsSource): void {
  new Counter({
    name: 'switchyard_limit_store_errors_total',
    help: 'Limit store (Redis) commands that failed or timed out, by what they were for: rate, acquire, release, renew.',
    labelNames: ['operation'],
    registers: [registry],
    collect() {
      this.reset();
      for (const operation of ['rate', 'acquire', 'release', 'renew']) {
        this.inc({ operation }, counts.errors.get(operation) ?? 0);
      }
    },
  });
  new Counter({
    name: 'switchyard_limit_store_fallback_decisions_total',
    help: 'Admission decisions the limit store failure policy made because the store could not answer in time, by policy (open admits, closed refuses).',
    labelNames: ['policy'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [policy, n] of counts.fallbackDecisions) this.inc({ policy }, n);
    },
  });
}
