import type { RateLimitAlgorithm } from './algorithm.js';
import { checkRateParams, type RateLimitParams } from './rate-limit-config.js';

/**
 * Fixed window over state `[window start, count]` at `at`: at most `limit` per window aligned to
 * multiples of `window`. Returns 0 when allowed, else whole ms until the next window.
 */
export function fixedWindowTake(
  s: Float64Array,
  at: number,
  now: number,
  limit: number,
  window: number,
): number {
  const start = windowStart(now, window);
  const into = now - start;
  if (s[at] !== start) {
    s[at] = start;
    s[at + 1] = 0;
  }
  const count = s[at + 1];
  if (count < limit) {
    s[at + 1] = count + 1;
    return 0;
  }
  return Math.ceil(window - into);
}

/**
 * The start of the aligned window holding `now`: a whole multiple of an integer window, so starts
 * compare exactly. Division and floor rather than `%`, which V8 runs as a slow library call.
 */
export function windowStart(now: number, window: number): number {
  const start = Math.floor(now / window) * window;
  // the quotient can round up to the next whole number just below a window edge, never down
  return start > now ? start - window : start;
}

/** When fixed-window state `[window start, count]` at `at` is a fresh key's again: once its window has ended. */
export function fixedWindowIdleAt(s: Float64Array, at: number, window: number): number {
  return s[at + 1] > 0 ? s[at] + window : Number.NEGATIVE_INFINITY;
}

/** Counts requests per aligned window: cheap and exact, but allows `2 × limit` around a window edge. */
export class FixedWindow implements RateLimitAlgorithm {
  readonly name = 'fixed-window';
  readonly stride = 2;
  readonly limit: number;
  readonly window: number;
  readonly burst: number;
  readonly idleTtl: number;

  constructor(params: RateLimitParams) {
    ({
      limit: this.limit,
      window: this.window,
      burst: this.burst,
    } = checkRateParams(this.name, params, 'none'));
    // once the window of the last request has ended, the stored count is never read again
    this.idleTtl = this.window;
  }

  init(state: Float64Array, at: number, _now: number): void {
    // a zero count in any window is what a fresh key has
    state[at] = 0;
    state[at + 1] = 0;
  }

  take(state: Float64Array, at: number, now: number): number {
    return fixedWindowTake(state, at, now, this.limit, this.window);
  }

  idleAt(state: Float64Array, at: number): number {
    return fixedWindowIdleAt(state, at, this.window);
  }
}
