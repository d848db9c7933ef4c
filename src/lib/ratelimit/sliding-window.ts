import type { RateLimitAlgorithm } from './algorithm.js';
import { windowStart } from './fixed-window.js';
import { checkRateParams, type RateLimitParams } from './rate-limit-config.js';

/**
 * Sliding-window counter over state `[window start, previous count, current count]` at `at`. The
 * estimate for the window ending now is the previous aligned window's count weighted by how much
 * of it the sliding window still covers, plus the current count; a request is allowed when the
 * estimate stays within `limit`. Returns 0 when allowed, else whole ms until the estimate has room.
 */
export function slidingWindowTake(
  s: Float64Array,
  at: number,
  now: number,
  limit: number,
  window: number,
): number {
  const start = windowStart(now, window);
  const into = now - start;
  let prev = s[at + 1];
  let curr = s[at + 2];
  if (s[at] !== start) {
    // the old current window becomes the previous one only if it is the adjacent window
    prev = start - s[at] === window ? curr : 0;
    curr = 0;
    s[at] = start;
    s[at + 1] = prev;
    s[at + 2] = 0;
  }
  const left = window - into;
  const room = limit - 1 - curr;
  // prev × left / window + curr + 1 <= limit, multiplied out so whole-ms inputs compare exactly
  if (prev * left <= room * window) {
    s[at + 2] = curr + 1;
    return 0;
  }
  // room >= 0 here implies prev > 0: wait until the previous window's weight has shrunk enough
  if (room >= 0) return Math.ceil(left - (room * window) / prev);
  // this window is full: in the next one it is the previous window, weighing `curr`
  return Math.ceil(left + window - ((limit - 1) * window) / curr);
}

/**
 * When sliding-window state at `at` is a fresh key's again: once neither its current count nor its
 * previous one can weigh in any more.
 */
export function slidingWindowIdleAt(s: Float64Array, at: number, window: number): number {
  if (s[at + 2] > 0) return s[at] + 2 * window;
  if (s[at + 1] > 0) return s[at] + window;
  return Number.NEGATIVE_INFINITY;
}

/**
 * Sliding-window counter: a fixed window's memory and speed without its double burst at window
 * edges. An estimate that takes the previous window's requests as spread evenly, it still allows
 * at most limit + limit × span / window in any span shorter than a window.
 */
export class SlidingWindow implements RateLimitAlgorithm {
  readonly name = 'sliding-window';
  readonly stride = 3;
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
    // two windows on, both the previous and the current count read as zero
    this.idleTtl = 2 * this.window;
  }

  init(state: Float64Array, at: number, _now: number): void {
    // zero counts read the same whatever window they are dated in
    state[at] = 0;
    state[at + 1] = 0;
    state[at + 2] = 0;
  }

  take(state: Float64Array, at: number, now: number): number {
    return slidingWindowTake(state, at, now, this.limit, this.window);
  }

  idleAt(state: Float64Array, at: number): number {
    return slidingWindowIdleAt(state, at, this.window);
  }
}
