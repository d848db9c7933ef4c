import { type Clock, systemClock } from '../time/clock.js';
import { systemTimers, type TimeoutTimers, type TimerHandle } from '../time/timers.js';
import type { Upstream } from '../upstreams/upstream.js';
import type { UpstreamGroup } from '../upstreams/upstream-group.js';
import { checkCount, checkFraction, checkPositiveMs } from './check-options.js';

/** How a {@link SlowStart} ramps. */
export interface SlowStartOptions {
  /** Ms from a recovery to the full configured weight. */
  window: number;
  /** Weight changes over the window, the last restoring the configured weight. Default 10. */
  steps?: number;
  /** Share of the configured weight a ramp starts at, 0 < x <= 1. Default 0.1. */
  minFraction?: number;
  /** Clock for the API's timestamps. Default {@link systemClock}. */
  now?: Clock;
  /** Timers the steps run on. Default the global ones, unref'd. */
  timers?: TimeoutTimers;
}

/** Defaults of {@link SlowStartOptions}. */
export const SLOW_START_DEFAULTS = { steps: 10, minFraction: 0.1 } as const;

/** What the API shows of an upstream that is ramping up. */
export interface SlowStartStatus {
  /** The weight the ramp ends at: the configured one. */
  configuredWeight: number;
  /** The weight in effect now (also `upstream.weight`). */
  weight: number;
  /** When the ramp began. */
  since: number;
  /** When it ends. */
  until: number;
}

interface Ramp {
  readonly upstream: Upstream;
  target: number;
  /** The weight this ramp last set; anything else found there was set by someone else. */
  set: number;
  step: number;
  since: number;
  timer: TimerHandle | undefined;
}

/** Share of the full weight at `step` of `steps`: from `minFraction` at 0 up to 1 at `steps`, linearly. */
export function slowStartFraction(step: number, steps: number, minFraction: number): number {
  if (step >= steps) return 1;
  return minFraction + ((1 - minFraction) * step) / steps;
}

/**
 * Slow start for one {@link UpstreamGroup}: after {@link begin}, an upstream's weight goes to
 * `minFraction` of its configured weight and climbs in `steps` even steps over `window` ms back to
 * it, so a recovered upstream with cold caches or connection pools is not handed its full share at
 * once. Balancers read only `upstream.weight`, so the ramp steps `group.setWeight` and restores the
 * configured weight at the end, on {@link cancel} and on {@link stop}; meanwhile `upstream.weight`
 * is the effective weight and {@link status} tells the configured one. A weight set by someone else
 * mid-ramp (a config reload) becomes the new configured weight, which the ramp continues towards.
 * Round-robin follows the ramp like the weighted balancers (it rotates by weight once weights
 * differ); consistent-hash moves a few keys at each step.
 */
export class SlowStart {
  /** The group whose weights are ramped. */
  readonly group: UpstreamGroup;
  readonly #window: number;
  readonly #steps: number;
  readonly #min: number;
  readonly #now: Clock;
  readonly #timers: TimeoutTimers;
  #ramps = new Map<Upstream, Ramp>();

  constructor(group: UpstreamGroup, options: SlowStartOptions) {
    this.group = group;
    this.#window = checkPositiveMs('slowStart window', options.window);
    this.#steps = checkCount('slowStart steps', options.steps ?? SLOW_START_DEFAULTS.steps);
    // 0 would need a weight of 0, which no balancer takes
    const min = options.minFraction ?? SLOW_START_DEFAULTS.minFraction;
    this.#min = min === 1 ? 1 : checkFraction('slowStart minFraction', min, Number.MIN_VALUE, 1);
    this.#now = options.now ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
  }

  /** Starts (or restarts) upstream `id`'s ramp from `minFraction` of its configured weight. */
  begin(id: string): void {
    const u = this.group.get(id);
    if (u === undefined) return;
    let ramp = this.#ramps.get(u);
    if (ramp === undefined) {
      ramp = { upstream: u, target: u.weight, set: u.weight, step: 0, since: 0, timer: undefined };
      this.#ramps.set(u, ramp);
    } else {
      this.#clear(ramp);
      ramp.step = 0;
    }
    ramp.since = this.#now();
    this.#apply(ramp);
  }

  /** Ends upstream `id`'s ramp now, at its configured weight. */
  cancel(id: string): void {
    const u = this.group.get(id);
    const ramp = u === undefined ? undefined : this.#ramps.get(u);
    if (ramp === undefined) return;
    ramp.step = this.#steps;
    this.#apply(ramp);
  }

  /** True while upstream `id` is ramping. */
  ramping(id: string): boolean {
    const u = this.group.get(id);
    return u !== undefined && this.#ramps.has(u);
  }

  /** Upstream `id`'s ramp, or undefined when it is not ramping. */
  status(id: string): SlowStartStatus | undefined {
    const u = this.group.get(id);
    const ramp = u === undefined ? undefined : this.#ramps.get(u);
    if (ramp === undefined) return undefined;
    return {
      configuredWeight: this.#target(ramp),
      weight: ramp.upstream.weight,
      since: ramp.since,
      until: ramp.since + this.#window,
    };
  }

  /** Forgets ramps of upstreams removed from the group; run after changing the group. */
  sync(): void {
    for (const ramp of this.#ramps.values()) if (!this.#member(ramp.upstream)) this.#drop(ramp);
  }

  /** Ends every ramp now, restoring configured weights, and clears every timer. */
  stop(): void {
    for (const ramp of this.#ramps.values()) {
      ramp.step = this.#steps;
      this.#apply(ramp);
    }
  }

  #apply(ramp: Ramp): void {
    const u = ramp.upstream;
    if (!this.#member(u)) {
      this.#drop(ramp);
      return;
    }
    const target = this.#target(ramp);
    ramp.target = target;
    const weight = target * slowStartFraction(ramp.step, this.#steps, this.#min);
    if (u.weight !== weight) this.group.setWeight(u.id, weight);
    ramp.set = u.weight;
    if (ramp.step >= this.#steps) {
      this.#drop(ramp);
      return;
    }
    ramp.step++;
    ramp.timer = this.#timers.setTimeout(() => {
      ramp.timer = undefined;
      this.#apply(ramp);
    }, this.#window / this.#steps);
  }

  // A weight other than the one this ramp set came from outside: it is the configured weight now.
  #target(ramp: Ramp): number {
    return ramp.upstream.weight === ramp.set ? ramp.target : ramp.upstream.weight;
  }

  #drop(ramp: Ramp): void {
    this.#clear(ramp);
    this.#ramps.delete(ramp.upstream);
  }

  #clear(ramp: Ramp): void {
    if (ramp.timer !== undefined) this.#timers.clearTimeout(ramp.timer);
    ramp.timer = undefined;
  }

  #member(u: Upstream): boolean {
    return u.index >= 0 && this.group.upstreams[u.index] === u;
  }
}
