// The library's public surface. Everything here is usable without the server.
export type { Balancer } from './lib/balancers/balancer.js';
export {
  ConsistentHashBalancer,
  type ConsistentHashOptions,
} from './lib/balancers/consistent-hash.js';
export { hashString } from './lib/balancers/hash.js';
export { LeastConnectionsBalancer } from './lib/balancers/least-connections.js';
export { PowerOfTwoBalancer } from './lib/balancers/power-of-two.js';
export { RandomBalancer } from './lib/balancers/random.js';
export {
  type BalancerOptions,
  balancerNames,
  createBalancer,
  registerBalancer,
} from './lib/balancers/registry.js';
export { RoundRobinBalancer } from './lib/balancers/round-robin.js';
export { WeightedRoundRobinBalancer } from './lib/balancers/weighted-round-robin.js';
export {
  type ErrorCode,
  ErrorCodes,
  hasCode,
  NoHealthyUpstreamError,
  SwitchyardError,
} from './lib/errors.js';
export type { RateLimitAlgorithm } from './lib/ratelimit/algorithm.js';
export { type Clock, ManualClock, systemClock } from './lib/ratelimit/clock.js';
export { ConcurrencyLimiter } from './lib/ratelimit/concurrency-limiter.js';
export {
  FixedWindow,
  fixedWindowIdleAt,
  fixedWindowTake,
  windowStart,
} from './lib/ratelimit/fixed-window.js';
export { Gcra, gcraIdleAt, gcraTake } from './lib/ratelimit/gcra.js';
export {
  type IntervalTimers,
  MemoryStore,
  type MemoryStoreOptions,
  type TimerHandle,
} from './lib/ratelimit/memory-store.js';
export type { RateLimitConfig, RateLimitParams } from './lib/ratelimit/rate-limit-config.js';
export type { RateLimitStore } from './lib/ratelimit/rate-limit-store.js';
export {
  type RateLimitDecision,
  RateLimiter,
  type RateLimiterOptions,
  type RateLimitStoreFactory,
} from './lib/ratelimit/rate-limiter.js';
export {
  createRateLimitAlgorithm,
  type RateLimitAlgorithmFactory,
  rateLimitAlgorithmNames,
  registerRateLimitAlgorithm,
} from './lib/ratelimit/registry.js';
export { SlidingWindow, slidingWindowIdleAt, slidingWindowTake } from './lib/ratelimit/sliding-window.js';
export { TokenBucket, tokenBucketIdleAt, tokenBucketTake } from './lib/ratelimit/token-bucket.js';
export { formatHostPort, type HostPort, parseHostPort } from './lib/upstreams/address.js';
export {
  UPSTREAM_STATES,
  Upstream,
  type UpstreamOptions,
  type UpstreamState,
} from './lib/upstreams/upstream.js';
export { UpstreamGroup, type UpstreamGroupOptions } from './lib/upstreams/upstream-group.js';
