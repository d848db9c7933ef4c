import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type ErrorCode, ErrorCodes } from '../lib/errors.js';
import { UPSTREAM_STATES, type Upstream } from '../lib/upstreams/upstream.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';
import type { Listener } from '../proxy/listener.js';
import type { ProxyRuntime } from '../proxy/runtime.js';
import type { SessionSnapshot } from '../proxy/session.js';
import type { ProxyObserver, SessionRecord } from '../proxy/stats.js';

/** What the metrics read at scrape time; a {@link ProxyServer} is one. */
export interface MetricsSource {
  /** Every bound listener, with its live counters. */
  listeners(): readonly Listener[];
  /** The model in force: groups, and whether rate and concurrency limits are on. */
  readonly runtime: Pick<ProxyRuntime, 'groups' | 'rateLimit' | 'concurrency'>;
  /** Every open session. */
  sessions(): Iterable<{ readonly phase: SessionSnapshot['phase']; snapshot(): SessionSnapshot }>;
}

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Also export Node's process metrics (CPU, memory, event loop, GC; unprefixed, as usual). Default true. */
  processMetrics?: boolean;
  /** Buckets of `switchyard_session_duration_seconds`. */
  sessionBuckets?: number[];
  /** Buckets of `switchyard_upstream_connect_seconds` and `switchyard_handshake_seconds`. */
  latencyBuckets?: number[];
}

/** How a rate or concurrency gate decided. */
export type DecisionResult = 'allowed' | 'limited';

/**
 * Prometheus metrics for one proxy, in their own registry. Counters and gauges are read from the
 * proxy's own counters when scraped, so the data plane pays nothing for them; only the histograms
 * are fed per session, through {@link Metrics.observer}.
 */
export interface Metrics {
  /** The registry holding every metric of this object (not prom-client's global one). */
  readonly registry: Registry;
  /** The `Content-Type` of {@link Metrics.render}'s output. */
  readonly contentType: string;
  /** Feeds the session-duration, connect-time and handshake histograms; give it to the proxy (see `combineObservers`). */
  readonly observer: Required<Pick<ProxyObserver, 'sessionEnded' | 'handshakeDone'>>;
  /** Reads from `source` from now on; for a proxy built after its metrics (its observer comes first). */
  watch(source: MetricsSource): void;
  /** The exposition text of every metric. */
  render(): Promise<string>;
  /** Records one finished TLS handshake on `listener` that took `seconds`. */
  observeHandshake(listener: string, seconds: number): void;
  /** Counts one configuration reload, applied (`ok`) or refused. */
  countReload(ok: boolean): void;
  /** Counts an upstream's health changing, e.g. to `healthy` or `unhealthy`; fed by the health checker. */
  countHealthTransition(group: string, upstream: string, to: string): void;
}

const DEFAULT_SESSION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
const DEFAULT_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Builds the metrics of one proxy in a fresh registry. Metric names:
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
 *
 * Byte counters move when a session ends (the proxy counts bytes then), not while it relays.
 */
export function createMetrics(source?: MetricsSource, options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  let src: MetricsSource | undefined = source;
  const registers = [registry];
  const listeners = (): readonly Listener[] => src?.listeners() ?? [];
  const groups = (): Iterable<UpstreamGroup> => src?.runtime.groups.values() ?? [];

  // Listeners --------------------------------------------------------------------------------------
  const listenerActive = new Gauge({
    name: 'switchyard_listener_connections_active',
    help: 'Connections open on a listener, from accept to close (including TLS handshakes).',
    labelNames: ['listener'],
    registers,
    collect() {
      listenerActive.reset();
      for (const l of listeners()) listenerActive.set({ listener: l.name }, l.stats.active);
    },
  });
  const listenerTotal = new Counter({
    name: 'switchyard_listener_connections_total',
    help: 'Connections accepted by a listener, refused or not.',
    labelNames: ['listener'],
    registers,
    collect() {
      listenerTotal.reset();
      for (const l of listeners()) listenerTotal.inc({ listener: l.name }, l.stats.accepted);
    },
  });
  const handshaking = new Gauge({
    name: 'switchyard_listener_handshakes_in_progress',
    help: 'TLS handshakes in progress on a listener.',
    labelNames: ['listener'],
    registers,
    collect() {
      handshaking.reset();
      for (const l of listeners()) handshaking.set({ listener: l.name }, l.stats.handshaking);
    },
  });
  const proxied = new Counter({
    name: 'switchyard_listener_sessions_proxied_total',
    help: 'Sessions of a listener that reached an upstream.',
    labelNames: ['listener'],
    registers,
    collect() {
      proxied.reset();
      for (const l of listeners()) proxied.inc({ listener: l.name }, l.stats.proxied);
    },
  });
  const listenerBytes = new Counter({
    name: 'switchyard_listener_bytes_total',
    help: 'Bytes of ended sessions on a listener; in = read from clients, out = written to clients.',
    labelNames: ['listener', 'direction'],
    registers,
    collect() {
      listenerBytes.reset();
      for (const l of listeners()) {
        listenerBytes.inc({ listener: l.name, direction: 'in' }, l.stats.bytesFromClients);
        listenerBytes.inc({ listener: l.name, direction: 'out' }, l.stats.bytesToClients);
      }
    },
  });
  const listenerUp = new Gauge({
    name: 'switchyard_listener_up',
    help: '1 while a listener accepts connections.',
    labelNames: ['listener'],
    registers,
    collect() {
      listenerUp.reset();
      for (const l of listeners()) listenerUp.set({ listener: l.name }, l.listening ? 1 : 0);
    },
  });
  const rejections = new Counter({
    name: 'switchyard_rejections_total',
    help: 'Refused connections and bad session endings, by listener and stable reason code.',
    labelNames: ['listener', 'reason'],
    registers,
    collect() {
      rejections.reset();
      for (const l of listeners()) {
        for (const [reason, n] of l.stats.rejections) rejections.inc({ listener: l.name, reason }, n);
      }
    },
  });

  // Groups -----------------------------------------------------------------------------------------
  const retired = new RetiredUpstreams();
  const groupActive = new Gauge({
    name: 'switchyard_group_connections_active',
    help: 'Connections open to the upstreams of a group (including removed upstreams still draining).',
    labelNames: ['group'],
    registers,
    collect() {
      groupActive.reset();
      for (const g of groups()) {
        let active = retired.active(g.name);
        for (const u of g.upstreams) active += u.active;
        groupActive.set({ group: g.name }, active);
      }
    },
  });
  const groupTotal = new Counter({
    name: 'switchyard_group_connections_total',
    help: 'Connections ever picked in a group, including those of upstreams since removed.',
    labelNames: ['group'],
    registers,
    collect() {
      groupTotal.reset();
      retired.update(groups());
      for (const g of groups()) {
        let total = retired.total(g.name);
        for (const u of g.upstreams) total += u.total;
        groupTotal.inc({ group: g.name }, total);
      }
    },
  });
  const groupUp = new Gauge({
    name: 'switchyard_group_upstreams_up',
    help: 'Upstreams of a group in rotation: state up, healthy and not ejected.',
    labelNames: ['group'],
    registers,
    collect() {
      groupUp.reset();
      for (const g of groups()) {
        let up = 0;
        for (const u of g.upstreams) if (isUp(u)) up++;
        groupUp.set({ group: g.name }, up);
      }
    },
  });

  // Upstreams --------------------------------------------------------------------------------------
  /** Calls `fn` with the labels of every upstream of every group. */
  const eachUpstream = (fn: (labels: { group: string; upstream: string }, u: Upstream) => void): void => {
    for (const g of groups()) for (const u of g.upstreams) fn({ group: g.name, upstream: u.id }, u);
  };
  const upstreamActive = new Gauge({
    name: 'switchyard_upstream_connections_active',
    help: 'Connections open to an upstream, including those still connecting.',
    labelNames: ['group', 'upstream'],
    registers,
    collect() {
      upstreamActive.reset();
      eachUpstream((labels, u) => upstreamActive.set(labels, u.active));
    },
  });
  const upstreamTotal = new Counter({
    name: 'switchyard_upstream_connections_total',
    help: 'Connections ever picked for an upstream.',
    labelNames: ['group', 'upstream'],
    registers,
    collect() {
      upstreamTotal.reset();
      eachUpstream((labels, u) => upstreamTotal.inc(labels, u.total));
    },
  });
  const upstreamFailures = new Counter({
    name: 'switchyard_upstream_failures_total',
    help: 'Failed or timed-out connects to an upstream.',
    labelNames: ['group', 'upstream'],
    registers,
    collect() {
      upstreamFailures.reset();
      eachUpstream((labels, u) => upstreamFailures.inc(labels, u.failures));
    },
  });
  const upstreamUp = new Gauge({
    name: 'switchyard_upstream_up',
    help: '1 when an upstream is in rotation (state up, healthy, not ejected), else 0.',
    labelNames: ['group', 'upstream'],
    registers,
    collect() {
      upstreamUp.reset();
      eachUpstream((labels, u) => upstreamUp.set(labels, isUp(u) ? 1 : 0));
    },
  });
  const upstreamHealthy = new Gauge({
    name: 'switchyard_upstream_healthy',
    help: '1 when health checking considers an upstream healthy, else 0.',
    labelNames: ['group', 'upstream'],
    registers,
    collect() {
      upstreamHealthy.reset();
      eachUpstream((labels, u) => upstreamHealthy.set(labels, u.healthy ? 1 : 0));
    },
  });
  const upstreamEjected = new Gauge({
    name: 'switchyard_upstream_ejected',
    help: '1 while passive health checking has ejected an upstream (outlier ejection), else 0.',
    labelNames: ['group', 'upstream'],
    registers,
    collect() {
      upstreamEjected.reset();
      eachUpstream((labels, u) => upstreamEjected.set(labels, u.ejected ? 1 : 0));
    },
  });
  const upstreamBytes = new Counter({
    name: 'switchyard_upstream_bytes_total',
    help: 'Bytes of ended connections to an upstream; in = received from it, out = sent to it.',
    labelNames: ['group', 'upstream', 'direction'],
    registers,
    collect() {
      upstreamBytes.reset();
      eachUpstream((labels, u) => {
        upstreamBytes.inc({ ...labels, direction: 'in' }, u.bytesIn);
        upstreamBytes.inc({ ...labels, direction: 'out' }, u.bytesOut);
      });
    },
  });
  const upstreamState = new Gauge({
    name: 'switchyard_upstream_state',
    help: 'Administrative state of an upstream: 1 for the current state, 0 for the others.',
    labelNames: ['group', 'upstream', 'state'],
    registers,
    collect() {
      upstreamState.reset();
      eachUpstream((labels, u) => {
        for (const state of UPSTREAM_STATES)
          upstreamState.set({ ...labels, state }, u.state === state ? 1 : 0);
      });
    },
  });

  // Histograms, fed per session --------------------------------------------------------------------
  const sessionDuration = new Histogram({
    name: 'switchyard_session_duration_seconds',
    help: 'Session length from handshake done (accept on plain TCP) to close, refused sessions included.',
    labelNames: ['listener'],
    buckets: options.sessionBuckets ?? DEFAULT_SESSION_BUCKETS,
    registers,
  });
  const connectTime = new Histogram({
    name: 'switchyard_upstream_connect_seconds',
    help: 'Time a successful upstream connect took, per group.',
    labelNames: ['group'],
    buckets: options.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS,
    registers,
  });
  const handshakeTime = new Histogram({
    name: 'switchyard_handshake_seconds',
    help: 'TLS handshake time, per listener.',
    labelNames: ['listener'],
    buckets: options.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS,
    registers,
  });

  // Admission decisions ----------------------------------------------------------------------------
  const decisions = new DecisionCounts();
  const limitedBy = (code: ErrorCode): number => {
    let n = 0;
    for (const l of listeners()) n += l.stats.rejected(code);
    return n;
  };
  const rateDecisions = new Counter({
    name: 'switchyard_ratelimit_decisions_total',
    help: 'Per-client rate limit decisions (only while a rate limit is configured).',
    labelNames: ['result'],
    registers,
    collect() {
      if (src !== undefined) decisions.scanLive(src);
      rateDecisions.reset();
      rateDecisions.inc({ result: 'allowed' }, decisions.rateAllowed);
      rateDecisions.inc({ result: 'limited' }, limitedBy(ErrorCodes.ERR_RATE_LIMITED));
    },
  });
  const concurrencyDecisions = new Counter({
    name: 'switchyard_concurrency_decisions_total',
    help: 'Per-client concurrency cap decisions (only while a cap is configured).',
    labelNames: ['result'],
    registers,
    collect() {
      if (src !== undefined) decisions.scanLive(src);
      concurrencyDecisions.reset();
      concurrencyDecisions.inc({ result: 'allowed' }, decisions.concurrencyAllowed);
      concurrencyDecisions.inc({ result: 'limited' }, limitedBy(ErrorCodes.ERR_CONCURRENCY_LIMIT));
    },
  });

  // Events told by others --------------------------------------------------------------------------
  const reloads = new Counter({
    name: 'switchyard_reloads_total',
    help: 'Configuration reloads, applied (success) or refused (failure).',
    labelNames: ['result'],
    registers,
  });
  reloads.inc({ result: 'success' }, 0);
  reloads.inc({ result: 'failure' }, 0);
  const healthTransitions = new Counter({
    name: 'switchyard_health_transitions_total',
    help: 'Changes of an upstream health state, by the state entered.',
    labelNames: ['group', 'upstream', 'to'],
    registers,
  });

  return {
    registry,
    contentType: registry.contentType,
    observer: {
      sessionEnded(r: SessionRecord): void {
        sessionDuration.observe({ listener: r.listener }, r.durationMs / 1000);
        if (r.connectMs > 0 && r.group !== '') connectTime.observe({ group: r.group }, r.connectMs / 1000);
        if (src !== undefined && r.group !== '') decisions.ended(r, src.runtime);
      },
      handshakeDone(listener: string, ms: number): void {
        handshakeTime.observe({ listener }, ms / 1000);
      },
    },
    watch(s: MetricsSource): void {
      src = s;
    },
    render: () => registry.metrics(),
    observeHandshake(listener: string, seconds: number): void {
      handshakeTime.observe({ listener }, seconds);
    },
    countReload(ok: boolean): void {
      reloads.inc({ result: ok ? 'success' : 'failure' });
    },
    countHealthTransition(group: string, upstream: string, to: string): void {
      healthTransitions.inc({ group, upstream, to });
    },
  };
}

/** In rotation (state up, healthy, not ejected): the upstream takes new connections, caps aside. */
function isUp(u: Upstream): boolean {
  return u.inRotation();
}

/**
 * Keeps group totals monotonic when upstreams are removed: an upstream seen at one scrape and gone
 * from its group at the next has its counters folded into the group's. A removed upstream gets no
 * new picks, so reading its `total` late loses nothing; while it still has live connections they
 * keep counting in the group's active gauge.
 */
class RetiredUpstreams {
  #seen = new Map<string, Set<Upstream>>();
  #retiredTotal = new Map<string, number>();
  #draining = new Map<string, Set<Upstream>>();

  update(groups: Iterable<UpstreamGroup>): void {
    const now = new Map<string, Set<Upstream>>();
    for (const g of groups) now.set(g.name, new Set(g.upstreams));
    for (const [name, before] of this.#seen) {
      const current = now.get(name);
      if (current === undefined) {
        // The whole group is gone; its label disappears with it.
        this.#retiredTotal.delete(name);
        this.#draining.delete(name);
        continue;
      }
      for (const u of before) {
        if (current.has(u)) continue;
        this.#retiredTotal.set(name, (this.#retiredTotal.get(name) ?? 0) + u.total);
        if (u.active > 0) {
          let set = this.#draining.get(name);
          if (set === undefined) this.#draining.set(name, (set = new Set()));
          set.add(u);
        }
      }
    }
    for (const [name, set] of this.#draining) {
      for (const u of set) if (u.active === 0) set.delete(u);
      if (set.size === 0) this.#draining.delete(name);
    }
    this.#seen = now;
  }

  total(group: string): number {
    return this.#retiredTotal.get(group) ?? 0;
  }

  active(group: string): number {
    let n = 0;
    for (const u of this.#draining.get(group) ?? []) n += u.active;
    return n;
  }
}

/**
 * Counts sessions that passed the rate and concurrency gates. A session that has reached the
 * connect phase passed both; one that ends after routing without being refused by a gate passed
 * them too. Live sessions are counted at scrape (so hour-long sessions do not wait until their end
 * to be counted), keyed by listener and client address and port, and not counted again at their end.
 * A session whose client left while an asynchronous rate store was still answering counts as allowed.
 */
class DecisionCounts {
  rateAllowed = 0;
  concurrencyAllowed = 0;
  readonly #countedLive = new Set<string>();

  /** At scrape: counts live sessions past the gates that were not counted yet. */
  scanLive(src: MetricsSource): void {
    const { rateLimit, concurrency } = src.runtime;
    if (rateLimit === undefined && concurrency === undefined) return;
    for (const s of src.sessions()) {
      const phase = s.phase;
      if (phase !== 'connecting' && phase !== 'relaying') continue;
      const snap = s.snapshot();
      const key = liveKey(snap.listener, snap.clientAddress, snap.clientPort);
      if (this.#countedLive.has(key)) continue;
      this.#countedLive.add(key);
      if (rateLimit !== undefined) this.rateAllowed++;
      if (concurrency !== undefined) this.concurrencyAllowed++;
    }
  }

  /** At a session's end: counts it unless it was counted live or refused by a gate. */
  ended(r: SessionRecord, runtime: MetricsSource['runtime']): void {
    if (
      this.#countedLive.size > 0 &&
      this.#countedLive.delete(liveKey(r.listener, r.clientAddress, r.clientPort))
    )
      return;
    const t = r.termination;
    if (t === ErrorCodes.ERR_RATE_LIMITED) return;
    if (runtime.rateLimit !== undefined) this.rateAllowed++;
    if (t === ErrorCodes.ERR_CONCURRENCY_LIMIT) return;
    if (runtime.concurrency !== undefined) this.concurrencyAllowed++;
  }
}

function liveKey(listener: string, address: string, port: number): string {
  return `${listener}\u0000${address}\u0000${port}`;
}
