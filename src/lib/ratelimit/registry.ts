import { ErrorCodes, SwitchyardError } from '../errors.js';
import type { RateLimitAlgorithm } from './algorithm.js';
import { FixedWindow } from './fixed-window.js';
import { Gcra } from './gcra.js';
import type { RateLimitConfig, RateLimitParams } from './rate-limit-config.js';
import { SlidingWindow } from './sliding-window.js';
import { TokenBucket } from './token-bucket.js';

/** Builds an algorithm from validated-by-itself numbers. */
export type RateLimitAlgorithmFactory = (params: RateLimitParams) => RateLimitAlgorithm;

const factories = new Map<string, RateLimitAlgorithmFactory>([
  ['fixed-window', (p) => new FixedWindow(p)],
  ['token-bucket', (p) => new TokenBucket(p)],
  ['sliding-window', (p) => new SlidingWindow(p)],
  ['gcra', (p) => new Gcra(p)],
]);

/** Names accepted by {@link createRateLimitAlgorithm}, in registry order. */
export function rateLimitAlgorithmNames(): string[] {
  return [...factories.keys()];
}

/**
 * Builds an algorithm by registry name. Throws `ERR_UNKNOWN_RATE_LIMIT_ALGORITHM` for a name not
 * registered and `ERR_INVALID_ARGUMENT` for limits it cannot honour.
 */
export function createRateLimitAlgorithm(config: RateLimitConfig): RateLimitAlgorithm {
  const factory = factories.get(config.algorithm);
  if (factory === undefined) {
    throw new SwitchyardError(
      ErrorCodes.ERR_UNKNOWN_RATE_LIMIT_ALGORITHM,
      `unknown rate limit algorithm "${config.algorithm}"; expected one of ${rateLimitAlgorithmNames().join(', ')}`,
    );
  }
  return factory({ limit: config.limit, window: config.window, burst: config.burst });
}

/** Adds an algorithm under a new name, for users with their own. */
export function registerRateLimitAlgorithm(name: string, factory: RateLimitAlgorithmFactory): void {
  factories.set(name, factory);
}
