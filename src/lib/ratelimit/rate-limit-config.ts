import { ErrorCodes, SwitchyardError } from '../errors.js';

/** The numbers every algorithm is built from. */
export interface RateLimitParams {
  /** Requests allowed per window. */
  limit: number;
  /** Window length in whole milliseconds. */
  window: number;
  /** token-bucket and gcra only: requests allowed back to back after idling. Default `limit`. */
  burst?: number;
}

/** One rate limit as configuration states it, e.g. `{ algorithm: 'gcra', limit: 100, window: 1000 }`. */
export interface RateLimitConfig extends RateLimitParams {
  /** Registry name of the algorithm. */
  algorithm: string;
}

/**
 * Returns `value` when it is a positive safe integer, else throws `ERR_INVALID_ARGUMENT`. Whole
 * numbers keep window alignment and counts exact in float64 (and in Lua later).
 */
export function checkPositiveInteger(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `${what} must be a positive integer, got ${String(value)}`,
    );
  }
  return value;
}

/** Throws `ERR_INVALID_ARGUMENT` when a burst is given to an algorithm that has none, rather than ignoring it. */
export function rejectBurst(algorithm: string, burst: unknown): void {
  if (burst !== undefined) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `${algorithm} takes no burst (only token-bucket and gcra do), got ${String(burst)}`,
    );
  }
}

/**
 * The checked numbers of an algorithm: `limit` and `window` positive integers, and `burst` either
 * refused (`burst: 'none'`, then it equals `limit`) or optional and defaulting to `limit`.
 */
export function checkRateParams(
  algorithm: string,
  params: RateLimitParams,
  burst: 'none' | 'optional',
): Required<RateLimitParams> {
  if (burst === 'none') rejectBurst(algorithm, params.burst);
  const limit = checkPositiveInteger('limit', params.limit);
  const window = checkPositiveInteger('window', params.window);
  return {
    limit,
    window,
    burst: burst === 'none' ? limit : checkPositiveInteger('burst', params.burst ?? limit),
  };
}
