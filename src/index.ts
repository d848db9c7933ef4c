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
export {
  GroupHealth,
  type GroupHealthOptions,
  type UpstreamHealthStatus,
} from './lib/health/group-health.js';
export {
  ACTIVE_CHECK_DEFAULTS,
  type ActiveCheckOverrides,
  type ActiveCheckSettings,
  type ActiveHealthStatus,
  HealthChecker,
  type HealthCheckerOptions,
  type InitialHealth,
  jittered,
} from './lib/health/health-checker.js';
export type {
  HealthChangeEvent,
  HealthCheckKind,
  HealthEvents,
  HealthState,
} from './lib/health/health-event.js';
export {
  type HealthProbe,
  ProbeError,
  type ProbeFailure,
  type ProbeTarget,
  toProbeError,
} from './lib/health/health-probe.js';
export {
  DEFAULT_EXPECT_STATUS,
  HttpProbe,
  type HttpProbeOptions,
  parseStatusRanges,
} from './lib/health/http-probe.js';
export {
  PASSIVE_HEALTH_DEFAULTS,
  PassiveHealth,
  type PassiveHealthOptions,
  type PassiveHealthStatus,
} from './lib/health/passive-health.js';
export {
  DEFAULT_READ_LIMIT,
  type ProbeConnectionOptions,
  type ProbeTlsOptions,
  probeConnection,
  type ReplyVerdict,
} from './lib/health/probe-connection.js';
export {
  createHealthProbe,
  HEALTH_PROBE_TYPES,
  type HealthProbeOptions,
  type HealthProbeType,
} from './lib/health/probe-registry.js';
export { SendExpectProbe, type SendExpectProbeOptions } from './lib/health/send-expect-probe.js';
export {
  SLOW_START_DEFAULTS,
  SlowStart,
  type SlowStartOptions,
  type SlowStartStatus,
  slowStartFraction,
} from './lib/health/slow-start.js';
export { TcpProbe } from './lib/health/tcp-probe.js';
export { systemTimers, type TimeoutTimers } from './lib/health/timers.js';
export { TlsProbe, type TlsProbeOptions } from './lib/health/tls-probe.js';
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
export type {
  AsyncRateLimitStore,
  RateLimitStore,
  SyncRateLimitStore,
} from './lib/ratelimit/rate-limit-store.js';
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
