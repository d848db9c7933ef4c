import type { RateLimitAlgorithm } from './algorithm.js';
import { checkRateParams, type RateLimitParams } from './rate-limit-config.js';

/**
 * Generic cell rate algorithm over state `[theoretical arrival time]` at `at`. Each allowed request
 * pushes the arrival time on by `interval` (window / limit); a request is allowed while that time
 * runs at most `tolerance` ((burst - 1) × interval) ahead of now. Returns 0 when allowed, else
 * whole ms until it is.
 */
export function gcraTake(
  s: Float64Array,
  at: number,
  now: number,
  interval: number,
  tolerance: number,
): number {
  const tat = Math.max(s[at], now);
  // compared as a distance from now, so a key with nothing ahead is allowed whatever the rounding
  const ahead = tat - now;
  if (ahead > tolerance) return Math.ceil(ahead - tolerance);
  s[at] = tat + interval;
  return 0;
}

/** When GCRA state at `at` is a fresh key's again: once the theoretical arrival time has passed. */
export function gcraIdleAt(s: Float64Array, at: number): number {
  return s[at];
}

/**
 * GCRA: the token bucket's behaviour in a single number per key. Up to `burst` at once, then
 * evenly spaced; in any span at most burst + limit × span / window, with no window edges to exploit.
 */
export class Gcra implements RateLimitAlgorithm {
  readonly name = 'gcra';
  readonly stride = 1;
  readonly limit: number;
  readonly window: number;
  readonly burst: number;
  readonly idleTtl: number;
  /** Ms between requests at the steady rate. */
  readonly interval: number;
  readonly #tolerance: number;

  constructor(params: RateLimitParams) {
    ({
      limit: this.limit,
      window: this.window,
      burst: this.burst,
    } = checkRateParams(this.name, params, 'optional'));
    this.interval = this.window / this.limit;
    this.#tolerance = (this.burst - 1) * this.interval;
    // the arrival time is at most burst × interval ahead of the last allowed request; once it is
    // in the past the key decides like a fresh one
    this.idleTtl = this.burst * this.interval;
  }

  init(state: Float64Array, at: number, now: number): void {
    state[at] = now;
  }

  take(state: Float64Array, at: number, now: number): number {
    return gcraTake(state, at, now, this.interval, this.#tolerance);
  }

  idleAt(state: Float64Array, at: number): number {
    return gcraIdleAt(state, at);
  }
}
