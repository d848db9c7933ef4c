import { EventEmitter } from 'node:events';
import type { Clock } from '../time/clock.js';
import type { TimeoutTimers } from '../time/timers.js';
import type { Upstream } from '../upstreams/upstream.js';
import type { UpstreamGroup } from '../upstreams/upstream-group.js';
import { type ActiveHealthStatus, HealthChecker, type HealthCheckerOptions } from './health-checker.js';
import type { HealthChangeEvent, HealthEvents } from './health-event.js';
import { PassiveHealth, type PassiveHealthOptions, type PassiveHealthStatus } from './passive-health.js';
import { SlowStart, type SlowStartOptions, type SlowStartStatus } from './slow-start.js';

/** Health checking of one group as configuration describes it; each part is optional. */
export interface GroupHealthOptions {
  /** Active checks; omit for none. */
  active?: Omit<HealthCheckerOptions, 'now' | 'timers' | 'random'>;
  /** Passive checks (outlier ejection); omit for none. */
  passive?: Omit<PassiveHealthOptions, 'now' | 'timers'>;
  /** Slow start after recovery: its window in ms, or full options; omit or 0 for none. */
  slowStart?: number | Omit<SlowStartOptions, 'now' | 'timers'>;
  /** Clock shared by all parts. Default the system clock. */
  now?: Clock;
  /** Timers shared by all parts. Default the global ones, unref'd. */
  timers?: TimeoutTimers;
  /** Random source for active-check jitter. Default Math.random. */
  random?: () => number;
}

/** Everything health checking knows of one upstream, for the API; a part is absent when not configured or not applicable. */
export interface UpstreamHealthStatus {
  /** Active checks' view. */
  active?: ActiveHealthStatus;
  /** Passive checks' view. */
  passive?: PassiveHealthStatus;
  /** The ramp, while one runs. */
  slowStart?: SlowStartStatus;
}

/**
 * The health checking of one {@link UpstreamGroup} in one object: active checks, passive checks and
 * slow start as configured, their `change` events re-emitted as one stream, and slow start begun
 * whenever an upstream comes back (healthy again or returned from ejection) with neither kind of
 * checking still holding it out. What a server creates per group.
 */
export class GroupHealth extends EventEmitter<HealthEvents> {
  /** The group checked. */
  readonly group: UpstreamGroup;
  /** Active checks, when configured. */
  readonly checker: HealthChecker | undefined;
  /** Passive checks, when configured. */
  readonly passive: PassiveHealth | undefined;
  /** Slow start, when configured. */
  readonly slowStart: SlowStart | undefined;

  constructor(group: UpstreamGroup, options: GroupHealthOptions = {}) {
    super();
    this.group = group;
    const { now, timers, random } = options;
    this.checker = options.active && new HealthChecker(group, { ...options.active, now, timers, random });
    this.passive = options.passive && new PassiveHealth(group, { ...options.passive, now, timers });
    const ss = options.slowStart;
    const slow = typeof ss === 'number' ? (ss > 0 ? { window: ss } : undefined) : ss;
    this.slowStart = slow && new SlowStart(group, { ...slow, now, timers });
    const forward = (event: HealthChangeEvent): void => this.#forward(event);
    this.checker?.on('change', forward);
    this.passive?.on('change', forward);
  }

  /** Starts active checks (passive checks and slow start need no start). */
  start(): void {
    this.checker?.start();
  }

  /** Stops all parts: no timer is left, ejected upstreams return, ramps end at configured weights. */
  stop(): void {
    this.checker?.stop();
    this.passive?.stop();
    this.slowStart?.stop();
  }

  /** Brings every part in line with the group after upstreams were added or removed. */
  sync(): void {
    this.checker?.sync();
    this.passive?.sync();
    this.slowStart?.sync();
  }

  /** A connection to `upstream` was established; see {@link PassiveHealth.recordSuccess}. */
  recordSuccess(upstream: Upstream): void {
    this.passive?.recordSuccess(upstream);
  }

  /** A connect to `upstream` failed or timed out; true when that ejected it. */
  recordFailure(upstream: Upstream, reason: string): boolean {
    return this.passive?.recordFailure(upstream, reason) ?? false;
  }

  /** Every part's view of upstream `id`. */
  status(id: string): UpstreamHealthStatus {
    const status: UpstreamHealthStatus = {};
    const active = this.checker?.status(id);
    if (active !== undefined) status.active = active;
    const passive = this.passive?.status(id);
    if (passive !== undefined) status.passive = passive;
    const slow = this.slowStart?.status(id);
    if (slow !== undefined) status.slowStart = slow;
    return status;
  }

  #forward(event: HealthChangeEvent): void {
    if (this.slowStart !== undefined && event.to === 'healthy') {
      const u = this.group.get(event.upstream);
      // administrative state is not health: a recovery while in maintenance still ramps
      if (u?.healthy && !u.ejected) this.slowStart.begin(u.id);
    }
    this.emit('change', event);
  }
}
