import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { droppedLogLines } from '../line-writer.js';
import { packageVersion } from '../package-version.js';
import { type LimitStoreCountsSource, registerLimitStoreMetrics } from './limit-store-metrics.js';
import { registerListenerMetrics } from './listener-metrics.js';
import { registerSessionMetrics, type SessionBuckets } from './session-metrics.js';
import { type MetricsSource, ScrapeSnapshot } from './source.js';
import { GroupConnectionTotals, registerUpstreamMetrics } from './upstream-metrics.js';

/** Options of {@link createMetrics}. */
export interface MetricsOptions extends SessionBuckets {
  /** Also export Node's process metrics (CPU, memory, event loop, GC; unprefixed, as usual). Default true. */
  processMetrics?: boolean;
  /** The `version` label of `switchyard_build_info`. Default: this package's version. */
  version?: string;
}

/** How a rate or concurrency gate decided. */
export type DecisionResult = 'allowed' | 'limited';

/**
 * Prometheus metrics for one proxy, in their own registry. Gauges and the proxy's own counters are
 * read from one snapshot per scrape, so the data plane pays nothing for them; admissions, picks,
 * session ends and handshakes come from the proxy's events.
 */
export interface Metrics {
  /** The registry holding every metric of this object (not prom-client's global one). */
  readonly registry: Registry;
  /** The `Content-Type` of {@link Metrics.render}'s output. */
  readonly contentType: string;
  /** Reads from and listens to `source` from now on (and no longer to the one before). */
  watch(source: MetricsSource): void;
  /** The exposition text of every metric. */
  render(): Promise<string>;
  /** Records one finished TLS handshake on `listener` that took `seconds`. */
  observeHandshake(listener: string, seconds: number): void;
  /** Counts one configuration reload, applied (`ok`) or refused. */
  countReload(ok: boolean): void;
  /** Counts an upstream's health changing, e.g. to `healthy` or `unhealthy`; fed by the health checker. */
  countHealthTransition(group: string, upstream: string, to: string): void;
  /** Adds the shared limit store's failure counters (only a balancer with `limitStore.type: redis` has them). */
  watchLimitStore(counts: LimitStoreCountsSource): void;
}

/**
 * Builds the metrics of one proxy in a fresh registry, watching `source` when given. Metric names:
 *
 * - `switchyard_listener_connections_active{listener}`, `switchyard_listener_connections_total{listener}`,
 *   `switchyard_listener_handshakes_in_progress{listener}`, `switchyard_listener_sessions_proxied_total{listener}`,
 *   `switchyard_listener_bytes_total{listener,direction="in|out"}` (in: from clients), `switchyard_listener_up{listener}`
 * - `switchyard_rejections_total{listener,reason}` (every refusal and bad ending, by stable code)
 * - `switchyard_group_connections_active{group}`, `switchyard_group_connections_total{group}`,
 *   `switchyard_group_upstreams_up{group}`
 * - `switchyard_upstream_connections_active{group,upstream}`, `switchyard_upstream_connections_total{group,upstream}`,
 *   `switchyard_upstream_bytes_total{group,upstream,direction="in|out"}` (in: from the upstream),
 *   `switchyard_upstream_failures_total{group,upstream}`, `switchyard_upstream_up{group,upstream}`,
 *   `switchyard_upstream_healthy{group,upstream}`, `switchyard_upstream_ejected{group,upstream}`,
 *   `switchyard_upstream_state{group,upstream,state}`
 * - histograms `switchyard_session_duration_seconds{listener}`, `switchyard_upstream_connect_seconds{group}`,
 *   `switchyard_handshake_seconds{listener}`
 * - `switchyard_ratelimit_decisions_total{result}`, `switchyard_concurrency_decisions_total{result}`
 * - `switchyard_reloads_total{result="success|failure"}`, `switchyard_health_transitions_total{group,upstream,to}`
 * - `switchyard_build_info{version,node}` (always 1: the labels say which build runs)
 * - `switchyard_log_lines_dropped_total` (the JSON logs of this process: see line-writer.ts)
 *
 * Byte counters move when a session ends (the proxy counts bytes then), not while it relays.
 */
export function createMetrics(source?: MetricsSource, options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const scrape = new ScrapeSnapshot();
  const totals = new GroupConnectionTotals();
  registerListenerMetrics(registry, scrape);
  registerUpstreamMetrics(registry, scrape, totals);
  const feed = registerSessionMetrics(registry, scrape, options);

  const buildInfo = new Gauge({
    name: 'switchyard_build_info',
    help: 'Always 1; the labels say which Switchyard version runs on which Node.js.',
    labelNames: ['version', 'node'],
    registers: [registry],
  });
  buildInfo.set({ version: options.version ?? packageVersion(), node: process.version }, 1);
  new Counter({
    name: 'switchyard_log_lines_dropped_total',
    help: 'Log lines (process and access log) dropped because their reader fell too far behind or their destination failed.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(droppedLogLines());
    },
  });

  // Told by others ---------------------------------------------------------------------------------
  const reloads = new Counter({
    name: 'switchyard_reloads_total',
    help: 'Configuration reloads, applied (success) or refused (failure).',
    labelNames: ['result'],
    registers: [registry],
  });
  reloads.inc({ result: 'success' }, 0);
  reloads.inc({ result: 'failure' }, 0);
  const healthTransitions = new Counter({
    name: 'switchyard_health_transitions_total',
    help: 'Changes of an upstream health state, by the state entered.',
    labelNames: ['group', 'upstream', 'to'],
    registers: [registry],
  });

  let stopListening: (() => void) | undefined;
  const watch = (s: MetricsSource): void => {
    stopListening?.();
    scrape.use(s);
    totals.start(s.snapshot());
    const { sessionAdmitted, upstreamPicked, sessionEnded, handshake } = s.events;
    sessionAdmitted.subscribe(feed.sessionAdmitted);
    upstreamPicked.subscribe(totals.picked);
    sessionEnded.subscribe(feed.sessionEnded);
    handshake.subscribe(feed.handshake);
    stopListening = () => {
      sessionAdmitted.unsubscribe(feed.sessionAdmitted);
      upstreamPicked.unsubscribe(totals.picked);
      sessionEnded.unsubscribe(feed.sessionEnded);
      handshake.unsubscribe(feed.handshake);
    };
  };
  if (source !== undefined) watch(source);

  return {
    registry,
    contentType: registry.contentType,
    watch,
    render: () => {
      scrape.renew();
      return registry.metrics();
    },
    observeHandshake: feed.observeHandshake,
    countReload(ok: boolean): void {
      reloads.inc({ result: ok ? 'success' : 'failure' });
    },
    countHealthTransition(group: string, upstream: string, to: string): void {
      healthTransitions.inc({ group, upstream, to });
    },
    watchLimitStore(counts: LimitStoreCountsSource): void {
      registerLimitStoreMetrics(registry, counts);
    },
  };
}
