import type { RateLimitAlgorithm } from './algorithm.js';

/** A key's rate-limit state as it stands, read without counting anything. */
export interface RateLimitPeek {
  /** The algorithm's registry name. */
  algorithm: string;
  /** Requests allowed per window. */
  limit: number;
  /** Window length in ms. */
  window: number;
  /** Requests allowed back to back from a fresh key. */
  burst: number;
  /** Requests that would be allowed now, back to back (at most {@link PEEK_CAP}). */
  remaining: number;
  /** 0 when `remaining` > 0, else whole ms until the next request would be allowed. */
  retryAfter: number;
}

/** The most requests a peek counts, so a very large limit costs a bounded amount of work. */
export const PEEK_CAP = 100_000;

/**
 * What `algorithm` would decide for a key whose state is `state` (its `stride` values, or undefined
 * for a key never seen or forgotten), at `now`. The algorithm's own `take` is run on a copy until
 * it refuses, so every algorithm, present or future, is read by exactly the math that decides, and
 * the stored state is never touched.
 */
export function peekRateLimit(
  algorithm: RateLimitAlgorithm,
  state: ArrayLike<number> | undefined,
  now: number,
): RateLimitPeek {
  const scratch = new Float64Array(algorithm.stride);
  if (state === undefined || state.length !== algorithm.stride) algorithm.init(scratch, 0, now);
  else scratch.set(state);
  const cap = Math.min(PEEK_CAP, Math.ceil(Math.max(algorithm.limit, algorithm.burst)));
  let remaining = 0;
  let retryAfter = 0;
  while (remaining < cap) {
    retryAfter = algorithm.take(scratch, 0, now);
    if (retryAfter > 0) break;
    remaining++;
  }
  return {
    algorithm: algorithm.name,
    limit: algorithm.limit,
    window: algorithm.window,
    burst: algorithm.burst,
    remaining,
    retryAfter: remaining > 0 ? 0 : retryAfter,
  };
}
