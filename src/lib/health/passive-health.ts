import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from '../time/clock.js';
import { systemTimers, type TimeoutTimers, type TimerHandle } from '../time/timers.js';
import type { Upstream } from '../upstreams/upstream.js';
import type { UpstreamGroup } from '../upstreams/upstream-group.js';
import { checkCount, checkPercent, checkPositiveMs, invalid } from './check-options.js';
import type { HealthChangeEvent, HealthEvents } from './health-event.js';

/** How a {@link PassiveHealth} decides to eject. */
export interface PassiveHealthOptions {
  /** Connect failures or timeouts in a row that eject an upstream. Default 5. */
  consecutiveFailures?: number;
  /** Length of a first ejection, ms; the n-th ejection in a row lasts n times as long. Default 30000. */
  baseEjectionTime?: number;
  /** Longest an ejection lasts, ms. Default 300000. */
  maxEjectionTime?: number;
  /**
   * Most of the group's upstreams ejected at once, in percent, rounded down: at 50 a group of three
   * has at most one ejected and a group of one never ejects. Default 50.
   */
  maxEjectionPercent?: number;
  /** Clock for ejection times. Default {@link systemClock}. */
  now?: Clock;
  /** Timers ejections expire by. Default the global ones, unref'd. */
  timers?: TimeoutTimers;
}

/** Defaults of {@link PassiveHealthOptions}. */
export const PASSIVE_HEALTH_DEFAULTS = {
  consecutiveFailures: 5,
  baseEjectionTime: 30_000,
  maxEjectionTime: 300_000,
  maxEjectionPercent: 50,
} as const;

/** What the API shows of one upstream's passive health. */
export interface PassiveHealthStatus {
  /** Ejected now. */
  ejected: boolean;
  /** Failures in a row since the last success or return. */
  consecutiveFailures: number;
  /** Ejections so far. */
  ejections: number;
  /** Times it reached the failure threshold while the group had its share ejected already. */
  skippedEjections: number;
  /** When the current ejection ends. */
  ejectedUntil: number | undefined;
  /** Reason given with the last failure. */
  lastFailure: string | undefined;
  /** When the last failure was recorded. */
  lastFailureAt: number | undefined;
}

interface Entry {
  readonly upstream: Upstream;
  failures: number;
  ejected: boolean;
  /** Ejection multiplier: how many ejections in a row, less what time back in rotation forgave. */
  level: number;
  ejections: number;
  skipped: number;
  ejectedUntil: number | undefined;
  returnedAt: number | undefined;
  lastFailure: string | undefined;
  lastFailureAt: number | undefined;
  timer: TimerHandle | undefined;
}

/**
 * Passive health checking (outlier ejection) for one {@link UpstreamGroup}: the proxy reports each
 * connect attempt's outcome, and an upstream that fails `consecutiveFailures` times in a row is
 * ejected (no new connections) for `baseEjectionTime × n` on its n-th ejection in a row, capped at
 * `maxEjectionTime`. Each `baseEjectionTime` spent back in rotation forgives one step of n, so only
 * an upstream that keeps failing soon after returning is held out longer and longer. At most
 * `maxEjectionPercent` of the group is ejected at once, so a widespread failure (more likely the
 * network than every upstream) cannot empty the group. Ejection is independent of active health.
 */
export class PassiveHealth extends EventEmitter<HealthEvents> {
  /** The group whose upstreams are watched. */
  readonly group: UpstreamGroup;
  readonly #threshold: number;
  readonly #base: number;
  readonly #max: number;
  readonly #maxLevel: number;
  readonly #percent: number;
  readonly #now: Clock;
  readonly #timers: TimeoutTimers;
  #entries = new Map<Upstream, Entry>();
  #stopped = false;

  constructor(group: UpstreamGroup, options: PassiveHealthOptions = {}) {
    super();
    const d = PASSIVE_HEALTH_DEFAULTS;
    this.group = group;
    this.#threshold = checkCount('consecutiveFailures', options.consecutiveFailures ?? d.consecutiveFailures);
    this.#base = checkPositiveMs('baseEjectionTime', options.baseEjectionTime ?? d.baseEjectionTime);
    this.#max = checkPositiveMs('maxEjectionTime', options.maxEjectionTime ?? d.maxEjectionTime);
    if (this.#max < this.#base) {
      throw invalid(`maxEjectionTime (${this.#max}) must be at least baseEjectionTime (${this.#base})`);
    }
    // Past this the cap decides the length anyway; a higher level would only take longer to forgive.
    this.#maxLevel = Math.ceil(this.#max / this.#base);
    this.#percent = checkPercent('maxEjectionPercent', options.maxEjectionPercent ?? d.maxEjectionPercent);
    this.#now = options.now ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
  }

  /** Upstreams of the group ejected now. */
  get ejectedCount(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.ejected && this.#member(e.upstream)) n++;
    return n;
  }

  /** A connection to `upstream` was established: its run of failures is over. Cheap enough for every connect. */
  recordSuccess(upstream: Upstream): void {
    const e = this.#entries.get(upstream);
    if (e !== undefined && !e.ejected) e.failures = 0;
  }

  /**
   * A connect to `upstream` failed or timed out; `reason` is kept for the API and the event. Returns
   * true when this failure ejected it. Failures of attempts still running when it was ejected are
   * ignored: they say nothing new.
   */
  recordFailure(upstream: Upstream, reason: string): boolean {
    if (this.#stopped || !this.#member(upstream)) return false;
    let e = this.#entries.get(upstream);
    if (e === undefined) {
      e = newEntry(upstream);
      this.#entries.set(upstream, e);
    }
    if (e.ejected) return false;
    e.failures++;
    e.lastFailure = reason;
    e.lastFailureAt = this.#now();
    if (e.failures < this.#threshold) return false;
    if (this.ejectedCount + 1 > Math.floor((this.group.upstreams.length * this.#percent) / 100)) {
      // Left at the threshold: its next failure tries again, by when there may be room.
      e.skipped++;
      return false;
    }
    this.#eject(e, reason);
    return true;
  }

  /** What passive checking knows of upstream `id`, or undefined when it has never failed. */
  status(id: string): PassiveHealthStatus | undefined {
    const u = this.group.get(id);
    const e = u === undefined ? undefined : this.#entries.get(u);
    if (e === undefined) return undefined;
    return {
      ejected: e.ejected,
      consecutiveFailures: e.failures,
      ejections: e.ejections,
      skippedEjections: e.skipped,
      ejectedUntil: e.ejectedUntil,
      lastFailure: e.lastFailure,
      lastFailureAt: e.lastFailureAt,
    };
  }

  /** Forgets upstreams removed from the group (and their ejection timers); run after changing the group. */
  sync(): void {
    for (const [u, e] of this.#entries) {
      if (this.#member(u)) continue;
      this.#clear(e);
      // Not in the group, so not the group's to update; a later re-add must not bring it back ejected.
      u.ejected = false;
      this.#entries.delete(u);
    }
  }

  /**
   * Stops watching: clears every timer and returns every ejected upstream at once, emitting its
   * return, because an ejection is a timed loan only this object could end. Later records are ignored.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    const returned: HealthChangeEvent[] = [];
    for (const e of this.#entries.values()) {
      this.#clear(e);
      if (e.ejected) returned.push(this.#return(e, 'passive health checking stopped'));
    }
    this.#entries.clear();
    for (const event of returned) this.emit('change', event);
  }

  #eject(e: Entry, reason: string): void {
    const u = e.upstream;
    const at = this.#now();
    if (e.returnedAt !== undefined) {
      e.level = Math.max(0, e.level - Math.floor((at - e.returnedAt) / this.#base));
    }
    e.level = Math.min(e.level + 1, this.#maxLevel);
    const ms = Math.min(this.#base * e.level, this.#max);
    const failures = e.failures;
    e.ejected = true;
    e.ejections++;
    e.ejectedUntil = at + ms;
    this.group.setEjected(u.id, true);
    e.timer = this.#timers.setTimeout(() => {
      e.timer = undefined;
      this.emit('change', this.#return(e, `ejection of ${ms} ms ended`));
    }, ms);
    this.emit('change', {
      group: this.group.name,
      upstream: u.id,
      address: u.address,
      check: 'passive',
      from: 'healthy',
      to: 'ejected',
      reason: `${failures} connect failures in a row, last: ${reason}; ejected for ${ms} ms`,
      ejectionMs: ms,
      at,
      inRotation: u.inRotation(),
    });
  }

  /** Lets an ejected upstream back and describes that as an event, which the caller emits. */
  #return(e: Entry, reason: string): HealthChangeEvent {
    const u = e.upstream;
    const at = this.#now();
    e.ejected = false;
    e.failures = 0;
    e.ejectedUntil = undefined;
    e.returnedAt = at;
    if (this.#member(u)) this.group.setEjected(u.id, false);
    else u.ejected = false;
    return {
      group: this.group.name,
      upstream: u.id,
      address: u.address,
      check: 'passive',
      from: 'ejected',
      to: 'healthy',
      reason,
      at,
      inRotation: u.inRotation(),
    };
  }

  #clear(e: Entry): void {
    if (e.timer !== undefined) this.#timers.clearTimeout(e.timer);
    e.timer = undefined;
  }

  #member(u: Upstream): boolean {
    return u.index >= 0 && this.group.upstreams[u.index] === u;
  }
}

function newEntry(upstream: Upstream): Entry {
  return {
    upstream,
    failures: 0,
    ejected: false,
    level: 0,
    ejections: 0,
    skipped: 0,
    ejectedUntil: undefined,
    returnedAt: undefined,
    lastFailure: undefined,
    lastFailureAt: undefined,
    timer: undefined,
  };
}
