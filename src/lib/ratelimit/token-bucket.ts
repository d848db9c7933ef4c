import type { RateLimitAlgorithm } from './algorithm.js';
import { checkRateParams, type RateLimitParams } from './rate-limit-config.js';

// Refill is fractional float math, so a token counts as whole this close to 1. The promised wait
// aims half this slack short of 1, so rounding cannot make a retry at exactly that time fail.
const SLACK = 1e-9;

/**
 * Token bucket over state `[tokens, last refill time]` at `at`: refills `limit` tokens per
 * `window` ms up to `burst`, and a request takes one. Returns 0 when allowed, else whole ms
 * until one token has refilled.
 */
export function tokenBucketTake(
  s: Float64Array,
  at: number,
  now: number,
  limit: number,
  window: number,
  burst: number,
): number {
  let tokens = s[at];
  const last = s[at + 1];
  // a clock step backwards refills nothing rather than draining the bucket
  if (now > last) {
    tokens += ((now - last) * limit) / window;
    if (tokens > burst) tokens = burst;
    s[at + 1] = now;
  }
  if (tokens >= 1 - SLACK) {
    s[at] = tokens > 1 ? tokens - 1 : 0;
    return 0;
  }
  s[at] = tokens;
  return Math.ceil(((1 - SLACK / 2 - tokens) * window) / limit);
}

/** When token-bucket state at `at` is a fresh key's again: once the bucket has refilled to `burst`. */
export function tokenBucketIdleAt(
  s: Float64Array,
  at: number,
  limit: number,
  window: number,
  burst: number,
): number {
  return s[at + 1] + ((burst - s[at]) * window) / limit;
}

/** Token bucket: a steady `limit` per `window` with up to `burst` saved up for quiet clients. */
export class TokenBucket implements RateLimitAlgorithm {
  readonly name = 'token-bucket';
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
    } = checkRateParams(this.name, params, 'optional'));
    // an empty bucket is full again after this long, and a full bucket is a fresh key's
    this.idleTtl = (this.burst * this.window) / this.limit;
  }

  init(state: Float64Array, at: number, now: number): void {
    state[at] = this.burst;
    state[at + 1] = now;
  }

  take(state: Float64Array, at: number, now: number): number {
    return tokenBucketTake(state, at, now, this.limit, this.window, this.burst);
  }

  idleAt(state: Float64Array, at: number): number {
    return tokenBucketIdleAt(state, at, this.limit, this.window, this.burst);
  }
}
