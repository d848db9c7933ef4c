import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from '../time/clock.js';
import { systemTimers, type TimeoutTimers, type TimerHandle } from '../time/timers.js';
import type { Upstream } from '../upstreams/upstream.js';
import type { UpstreamGroup } from '../upstreams/upstream-group.js';
import {
  type ActiveCheckOverrides,
  type ActiveCheckSettings,
  jittered,
  resolveSettings,
} from './active-check-settings.js';
import type { HealthChangeEvent, HealthEvents } from './health-event.js';
import {
  type HealthProbe,
  ProbeError,
  type ProbeFailure,
  type ProbeTarget,
  toProbeError,
} from './health-probe.js';

/** How a {@link HealthChecker} is built: the group's settings, overrides by upstream id, and time. */
export interface HealthCheckerOptions extends Partial<ActiveCheckSettings> {
  /** The check to run on every upstream without an override. */
  probe: HealthProbe;
  /** Settings that differ for some upstreams, by upstream id; ids not (yet) in the group are kept for later. */
  overrides?: Readonly<Record<string, ActiveCheckOverrides>>;
  /** Clock for timestamps and durations. Default {@link systemClock}. */
  now?: Clock;
  /** Timers checks are scheduled and timed out with. Default the global ones, unref'd. */
  timers?: TimeoutTimers;
  /** Random source in [0, 1) for jitter; tests inject a seeded one. Default Math.random. */
  random?: () => number;
}

/** What the API shows of one actively checked upstream. */
export interface ActiveHealthStatus {
  /** Health as the checks decided (or the initial assumption before the first check). */
  healthy: boolean;
  /** Passed checks in a row, 0 after a failure. */
  consecutiveSuccesses: number;
  /** Failed checks in a row, 0 after a pass. */
  consecutiveFailures: number;
  /** Checks completed. */
  checks: number;
  /** Health changes so far. */
  changes: number;
  /** When the last check completed. */
  lastCheckAt: number | undefined;
  /** Outcome of the last check. */
  lastResult: 'success' | 'failure' | undefined;
  /** Why the last failed check failed, kept after later passes for the operator's benefit. */
  lastError: string | undefined;
  /** Coarse kind of `lastError`. */
  lastFailure: ProbeFailure | undefined;
  /** How long the last check took, ms. */
  lastDurationMs: number | undefined;
  /** When health last changed. */
  lastChangeAt: number | undefined;
  /** When the next check is due; undefined while one runs. */
  nextCheckAt: number | undefined;
}

interface Entry {
  readonly upstream: Upstream;
  readonly settings: ActiveCheckSettings;
  readonly target: ProbeTarget;
  healthy: boolean;
  successes: number;
  failures: number;
  checks: number;
  changes: number;
  lastCheckAt: number | undefined;
  lastResult: 'success' | 'failure' | undefined;
  lastError: string | undefined;
  lastFailure: ProbeFailure | undefined;
  lastDurationMs: number | undefined;
  lastChangeAt: number | undefined;
  nextCheckAt: number | undefined;
  /** The next check's timer while idle, the running check's timeout while one runs. */
  timer: TimerHandle | undefined;
  /** The running check; a result from any other (timed out, stopped) is ignored. */
  running: AbortController | undefined;
}

/**
 * Active health checking for one {@link UpstreamGroup}: probes every upstream on its own jittered
 * schedule, turns `rise` passes or `fall` failures in a row into `group.setHealthy` calls, and emits
 * a `change` event for each. Checks never overlap per upstream: the next is scheduled when one ends.
 * Upstreams added to or removed from the group are picked up by {@link sync}, which the caller runs
 * after changing the group.
 */
export class HealthChecker extends EventEmitter<HealthEvents> {
  /** The group whose upstreams are checked. */
  readonly group: UpstreamGroup;
  readonly #base: Partial<ActiveCheckSettings>;
  readonly #overrides: Readonly<Record<string, ActiveCheckOverrides>>;
  readonly #now: Clock;
  readonly #timers: TimeoutTimers;
  readonly #random: () => number;
  #entries = new Map<string, Entry>();
  #running = false;

  constructor(group: UpstreamGroup, options: HealthCheckerOptions) {
    super();
    this.group = group;
    const { overrides = {}, now, timers, random, ...base } = options;
    this.#base = base;
    resolveSettings(base, undefined, 'health check');
    this.#overrides = { ...overrides };
    // Overrides are validated now, not when their upstream turns up, so a bad one fails at startup.
    for (const [id, o] of Object.entries(this.#overrides))
      resolveSettings(this.#base, o, `health check of "${id}"`);
    this.#now = now ?? systemClock;
    this.#timers = timers ?? systemTimers;
    this.#random = random ?? Math.random;
  }

  /** True between {@link start} and {@link stop}. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Applies each upstream's initial state and schedules its first check. First checks are spread
   * evenly over the interval in group order, so a group's checks do not all fire at once.
   */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.sync();
  }

  /**
   * Stops every check: clears every timer and aborts every running probe, so nothing is left
   * scheduled. Health stays as last decided; if checking is being dropped for good, mark the
   * upstreams healthy with `group.setHealthy`.
   */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    for (const entry of this.#entries.values()) this.#cancel(entry, 'health checker stopped');
    this.#entries.clear();
  }

  /**
   * Brings the checked set in line with the group after upstreams were added or removed: new ones
   * get their initial state and first checks spread over their interval, removed ones stop being
   * checked. Does nothing while stopped ({@link start} syncs).
   */
  sync(): void {
    if (!this.#running) return;
    for (const [id, entry] of this.#entries) {
      if (this.group.get(id) !== entry.upstream) {
        this.#cancel(entry, 'upstream removed');
        this.#entries.delete(id);
      }
    }
    const added: Entry[] = [];
    for (const u of this.group.upstreams) {
      if (this.#entries.has(u.id)) continue;
      const settings = resolveSettings(this.#base, this.#overrides[u.id], `health check of "${u.id}"`);
      if (!settings.enabled) {
        // unchecked means trusted; an earlier checker may have left it unhealthy
        if (!u.healthy) this.group.setHealthy(u.id, true);
        continue;
      }
      const entry = newEntry(u, settings);
      if (u.healthy !== entry.healthy) this.group.setHealthy(u.id, entry.healthy);
      this.#entries.set(u.id, entry);
      added.push(entry);
    }
    for (let i = 0; i < added.length; i++) {
      const entry = added[i];
      this.#schedule(entry, Math.floor((entry.settings.interval * i) / added.length));
    }
  }

  /** What the checks have found for upstream `id`, or undefined when it is not being checked. */
  status(id: string): ActiveHealthStatus | undefined {
    const e = this.#entries.get(id);
    if (e === undefined) return undefined;
    return {
      healthy: e.healthy,
      consecutiveSuccesses: e.successes,
      consecutiveFailures: e.failures,
      checks: e.checks,
      changes: e.changes,
      lastCheckAt: e.lastCheckAt,
      lastResult: e.lastResult,
      lastError: e.lastError,
      lastFailure: e.lastFailure,
      lastDurationMs: e.lastDurationMs,
      lastChangeAt: e.lastChangeAt,
      nextCheckAt: e.nextCheckAt,
    };
  }

  /** The settings upstream `id` is checked with, or undefined when it is not being checked. */
  settings(id: string): Readonly<ActiveCheckSettings> | undefined {
    return this.#entries.get(id)?.settings;
  }

  #schedule(entry: Entry, delay: number): void {
    entry.nextCheckAt = this.#now() + delay;
    entry.timer = this.#timers.setTimeout(() => this.#run(entry), delay);
  }

  #run(entry: Entry): void {
    entry.timer = undefined;
    entry.nextCheckAt = undefined;
    const { probe, timeout } = entry.settings;
    const controller = new AbortController();
    entry.running = controller;
    const started = this.#now();
    entry.timer = this.#timers.setTimeout(() => {
      const err = new ProbeError('timeout', `no answer within ${timeout} ms`);
      // settle first: the probe's own rejection, which the abort causes, then finds itself stale
      this.#settle(entry, controller, started, err);
      controller.abort(err);
    }, timeout);
    let result: Promise<void>;
    try {
      result = probe.check(entry.target, controller.signal);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      () => this.#settle(entry, controller, started, undefined),
      (err: unknown) => this.#settle(entry, controller, started, toProbeError(err)),
    );
  }

  #settle(entry: Entry, controller: AbortController, started: number, err: ProbeError | undefined): void {
    if (entry.running !== controller) return;
    entry.running = undefined;
    if (entry.timer !== undefined) this.#timers.clearTimeout(entry.timer);
    entry.timer = undefined;
    const u = entry.upstream;
    if (this.group.get(u.id) !== u) {
      // removed from the group and sync() not run yet: its health is no longer ours to set
      this.#entries.delete(u.id);
      return;
    }
    const at = this.#now();
    const { rise, fall } = entry.settings;
    // Until the first check the state is an assumption, not evidence, so the first result decides it.
    const first = entry.checks === 0;
    entry.checks++;
    entry.lastCheckAt = at;
    entry.lastDurationMs = at - started;
    let change: HealthChangeEvent | undefined;
    if (err === undefined) {
      entry.lastResult = 'success';
      entry.successes++;
      entry.failures = 0;
      if (!entry.healthy && (first || entry.successes >= rise)) {
        const reason = first ? 'first check passed' : `${entry.successes} checks passed in a row`;
        change = this.#change(entry, true, reason, at);
      }
    } else {
      entry.lastResult = 'failure';
      entry.lastError = err.message;
      entry.lastFailure = err.kind;
      entry.failures++;
      entry.successes = 0;
      if (entry.healthy && (first || entry.failures >= fall)) {
        const count = first ? 'first check failed' : `${entry.failures} checks failed in a row`;
        change = this.#change(entry, false, `${count}: ${err.message}`, at);
        change.failure = err.kind;
      }
    }
    const { interval, downInterval, jitter } = entry.settings;
    this.#schedule(entry, jittered(entry.healthy ? interval : downInterval, jitter, this.#random));
    // Emitted last so a throwing listener cannot leave the upstream unscheduled.
    if (change !== undefined) this.emit('change', change);
  }

  #change(entry: Entry, healthy: boolean, reason: string, at: number): HealthChangeEvent {
    const u = entry.upstream;
    entry.healthy = healthy;
    entry.changes++;
    entry.lastChangeAt = at;
    this.group.setHealthy(u.id, healthy);
    return {
      group: this.group.name,
      upstream: u.id,
      address: u.address,
      check: 'active',
      from: healthy ? 'unhealthy' : 'healthy',
      to: healthy ? 'healthy' : 'unhealthy',
      reason,
      at,
      inRotation: u.inRotation(),
    };
  }

  #cancel(entry: Entry, why: string): void {
    if (entry.timer !== undefined) this.#timers.clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.nextCheckAt = undefined;
    const controller = entry.running;
    entry.running = undefined;
    controller?.abort(new ProbeError('aborted', why));
  }
}

function newEntry(upstream: Upstream, settings: ActiveCheckSettings): Entry {
  return {
    upstream,
    settings,
    target: { host: upstream.host, port: settings.port ?? upstream.port },
    // An upstream already marked unhealthy (by a checker this one replaces, on a reload) stays so
    // until its first check: a known-dead upstream must not get traffic back for a whole interval.
    healthy: settings.initialState === 'healthy' && upstream.healthy,
    successes: 0,
    failures: 0,
    checks: 0,
    changes: 0,
    lastCheckAt: undefined,
    lastResult: undefined,
    lastError: undefined,
    lastFailure: undefined,
    lastDurationMs: undefined,
    lastChangeAt: undefined,
    nextCheckAt: undefined,
    timer: undefined,
    running: undefined,
  };
}

// Kept here too: callers have imported them from this module since it was one file.
export {
  ACTIVE_CHECK_DEFAULTS,
  type ActiveCheckOverrides,
  type ActiveCheckSettings,
  type InitialHealth,
  jittered,
} from './active-check-settings.js';
