/**
 * The dashboard's data: one sampler for every viewer. It runs only while at least one viewer is
 * connected (so a balancer nobody watches pays nothing), takes one picture of the proxy per second,
 * keeps the last five minutes of samples, notes what changed, and serializes each tick once: every
 * viewer is written the same string.
 */
import type { Logger } from '../../lib/logger.js';
import { type Clock, systemClock } from '../../lib/time/clock.js';
import { type IntervalTimers, systemIntervalTimers, type TimerHandle } from '../../lib/time/timers.js';
import type { ProxySnapshot } from '../../proxy/snapshot.js';
import type { AdminSource, HealthStatusFn } from '../admin-views.js';
import type { NotableEvent, ServerHistory } from '../server-history.js';
import { type StatusView, statusView } from '../status-view.js';
import type { ClientLimitState } from './client-limits.js';
import { ClientRefusals } from './client-refusals.js';
import { type ClientDetail, type ClientRow, clientDetail, topClients } from './client-table.js';
import type { RefusalSource } from './refusal-source.js';
import { Ring } from './ring.js';
import { snapshotChanges } from './snapshot-changes.js';
import {
  refusalRate,
  sampleBetween,
  type TrafficSample,
  type TrafficTotals,
  trafficTotals,
} from './traffic-sample.js';

/** Options of {@link DashboardFeed}. */
export interface DashboardFeedOptions {
  source: AdminSource;
  history: ServerHistory;
  logger: Logger;
  healthStatus?: HealthStatusFn;
  /** The worker processes, when there are several (their `restarts` are noted as events). */
  workers?: () => unknown[];
  /** Where refusals per client come from (watched only while someone watches the dashboard). */
  refusals?: RefusalSource;
  /** One client's limit state, read from the gates that decide. */
  clientLimits?: (id: string) => Promise<ClientLimitState>;
  /** Monotonic clock for rates. Default {@link systemClock}. */
  clock?: Clock;
  /** Wall clock, ms since the epoch, for the samples' times. Default `Date.now`. */
  now?: () => number;
  timers?: IntervalTimers;
  /** Default 1000. */
  intervalMs?: number;
  /** Samples kept. Default 300 (five minutes at one a second). */
  samples?: number;
  /** Rows of the client table. Default 20. */
  topClients?: number;
  /** Refusals per second from which a tick is noted as a burst. Default 10. */
  burstPerSecond?: number;
}

/** What a viewer gets first: everything it needs to draw the page. */
export interface FullState extends TickState {
  /** The samples kept, oldest first. */
  samples: TrafficSample[];
  /** The sampling interval, ms. */
  intervalMs: number;
}

/** What a viewer gets every tick. */
export interface TickState {
  status: StatusView;
  /** The newest sample (absent on the first picture, which has no earlier one to compare with). */
  sample?: TrafficSample;
  clients: ClientRow[];
  /** False when refusals per client have no source here. */
  clientRefusals: boolean;
  /** Newest first; on ticks only when they changed since the previous tick. */
  events?: NotableEvent[];
}

/** Writes one ready-made chunk of the stream to one viewer. */
export type Viewer = (chunk: string) => void;

/** One sampler shared by every viewer of the dashboard. */
export class DashboardFeed {
  readonly #o: DashboardFeedOptions;
  readonly #clock: Clock;
  readonly #now: () => number;
  readonly #timers: IntervalTimers;
  readonly #intervalMs: number;
  readonly #samples: Ring<TrafficSample>;
  readonly #viewers = new Set<Viewer>();
  readonly #refusals: ClientRefusals | null;
  #timer: TimerHandle | undefined;
  #unwatch: (() => void) | undefined;
  #busy = false;
  #lastTotals: TrafficTotals | undefined;
  #lastSnapshot: ProxySnapshot | undefined;
  #lastRestarts: number | undefined;
  #inBurst = false;
  #eventsSent = -1;

  constructor(options: DashboardFeedOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? systemIntervalTimers;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#samples = new Ring(options.samples ?? 300);
    this.#refusals = options.refusals === undefined ? null : new ClientRefusals({ now: this.#now });
  }

  /** Viewers connected now. */
  get viewers(): number {
    return this.#viewers.size;
  }

  /** True while the sampler runs. */
  get sampling(): boolean {
    return this.#timer !== undefined;
  }

  /** The samples kept, oldest first. */
  samples(): TrafficSample[] {
    return this.#samples.toArray();
  }

  /** Adds a viewer (starting the sampler for the first); returns the call that removes it. */
  subscribe(viewer: Viewer): () => void {
    this.#viewers.add(viewer);
    if (this.#timer === undefined) this.#start();
    return () => {
      if (this.#viewers.delete(viewer) && this.#viewers.size === 0) this.#stop();
    };
  }

  /** The whole picture for a new viewer, as one SSE `state` event. */
  async fullState(): Promise<string> {
    await this.#o.source.refresh?.();
    const snapshot = this.#o.source.snapshot();
    const state: FullState = {
      ...this.#tickState(snapshot, undefined),
      events: this.#o.history.events(),
      samples: this.#samples.toArray(),
      intervalMs: this.#intervalMs,
    };
    return `event: state\ndata: ${JSON.stringify(state)}\n\n`;
  }

  /** Everything known of one client: live sessions and (one process) recent refusals. */
  async client(id: string): Promise<ClientDetail> {
    await this.#o.source.refresh?.();
    const limits = (await this.#o.clientLimits?.(id)) ?? null;
    return clientDetail(id, this.#o.source.sessionSnapshots(), this.#refusals, limits);
  }

  /** Takes one picture and writes it to every viewer; the timer calls it, tests may too. */
  async tick(): Promise<void> {
    // A picture from several workers may take longer than the interval: never two at once.
    if (this.#busy) return;
    this.#busy = true;
    try {
      await this.#o.source.refresh?.();
      const chunk = this.#sampleNow();
      for (const viewer of this.#viewers) viewer(chunk);
    } catch (err) {
      this.#o.logger.warn({ err: String(err) }, 'dashboard: sampling failed');
    } finally {
      this.#busy = false;
    }
  }

  /** Stops the sampler and forgets every viewer (the admin server closes their streams). */
  close(): void {
    this.#viewers.clear();
    this.#stop();
  }

  #sampleNow(): string {
    const { source, history } = this.#o;
    const snapshot = source.snapshot();
    const totals = trafficTotals(snapshot, source.sessionSnapshots(), this.#clock());
    let sample: TrafficSample | undefined;
    if (this.#lastTotals !== undefined) {
      sample = sampleBetween(this.#lastTotals, totals, this.#now());
      this.#samples.push(sample);
      this.#noteBurst(sample);
    }
    if (this.#lastSnapshot !== undefined) {
      for (const change of snapshotChanges(this.#lastSnapshot, snapshot)) history.note(change);
    }
    this.#noteRestarts();
    this.#lastTotals = totals;
    this.#lastSnapshot = snapshot;
    const state = this.#tickState(snapshot, sample);
    if (history.eventsVersion !== this.#eventsSent) {
      this.#eventsSent = history.eventsVersion;
      state.events = history.events();
    }
    return `event: tick\ndata: ${JSON.stringify(state)}\n\n`;
  }

  #tickState(snapshot: ProxySnapshot, sample: TrafficSample | undefined): TickState {
    const { source, history, healthStatus, workers } = this.#o;
    return {
      status: statusView(snapshot, { history, healthStatus, workers }),
      ...(sample === undefined ? {} : { sample }),
      clients: topClients(source.sessionSnapshots(), this.#refusals, this.#o.topClients ?? 20),
      clientRefusals: this.#refusals !== null,
    };
  }

  // One event when refusals rise above the threshold, not one per second while they stay there.
  #noteBurst(sample: TrafficSample): void {
    const perSecond = refusalRate(sample);
    const burst = perSecond >= (this.#o.burstPerSecond ?? 10);
    if (burst && !this.#inBurst) {
      const codes = Object.entries(sample.refusals)
        .sort((a, b) => b[1] - a[1])
        .map(([code, r]) => `${code} ${Math.round(r)}/s`)
        .join(', ');
      this.#o.history.note({
        kind: 'refusals',
        message: `burst of refusals: ${Math.round(perSecond)}/s (${codes})`,
        bad: true,
      });
    }
    this.#inBurst = burst;
  }

  #noteRestarts(): void {
    if (this.#o.workers === undefined) return;
    let restarts = 0;
    for (const w of this.#o.workers()) restarts += (w as { restarts?: number }).restarts ?? 0;
    if (this.#lastRestarts !== undefined && restarts > this.#lastRestarts) {
      const n = restarts - this.#lastRestarts;
      this.#o.history.note({
        kind: 'worker',
        message: `${n} worker${n === 1 ? '' : 's'} exited and replaced`,
        bad: true,
      });
    }
    this.#lastRestarts = restarts;
  }

  #start(): void {
    if (this.#refusals !== null) this.#unwatch = this.#o.refusals?.watch(this.#refusals.record);
    const timer = this.#timers.setInterval(() => void this.tick(), this.#intervalMs);
    timer.unref?.();
    this.#timer = timer;
    // the first picture at once: the next tick then has something to compare with
    void this.tick();
  }

  #stop(): void {
    if (this.#timer === undefined) return;
    this.#timers.clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    // A later viewer starts afresh: rates across a gap while nobody watched would mislead.
    this.#lastTotals = undefined;
    this.#lastSnapshot = undefined;
    this.#lastRestarts = undefined;
    this.#inBurst = false;
    this.#eventsSent = -1;
  }
}
