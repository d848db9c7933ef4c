// The library on its own, as `switchyard/lib`: balancers, upstream groups, rate limiters and their
// stores, the concurrency limiter, health checking and errors. Its import graph reaches only its own
// files and `node:` builtins (test/lib/index.test.ts walks it), so importing it loads none of the
// CLI's dependencies.
export type { Balancer } from './balancers/balancer.js';
export {
  ConsistentHashBalancer,
  type ConsistentHashOptions,
} from './balancers/consistent-hash.js';
export { hashString } from './balancers/hash.js';
export { LeastConnectionsBalancer } from './balancers/least-connections.js';
export { PowerOfTwoBalancer } from './balancers/power-of-two.js';
export { RandomBalancer } from './balancers/random.js';
export {
  type BalancerOptions,
  balancerNames,
  createBalancer,
  registerBalancer,
} from './balancers/registry.js';
export { RoundRobinBalancer } from './balancers/round-robin.js';
export { WeightedRoundRobinBalancer } from './balancers/weighted-round-robin.js';
export {
  type ErrorCode,
  ErrorCodes,
  hasCode,
  NoHealthyUpstreamError,
  SwitchyardError,
} from './errors.js';
export {
  GroupHealth,
  type GroupHealthOptions,
  type UpstreamHealthStatus,
} from './health/group-health.js';
export {
  ACTIVE_CHECK_DEFAULTS,
  type ActiveCheckOverrides,
  type ActiveCheckSettings,
  type ActiveHealthStatus,
  HealthChecker,
  type HealthCheckerOptions,
  type InitialHealth,
  jittered,
} from './health/health-checker.js';
export type {
  HealthChangeEvent,
  HealthCheckKind,
  HealthEvents,
  HealthState,
} from './health/health-event.js';
export {
  type HealthProbe,
  ProbeError,
  type ProbeFailure,
  type ProbeTarget,
  toProbeError,
} from './health/health-probe.js';
export {
  DEFAULT_EXPECT_STATUS,
  HttpProbe,
  type HttpProbeOptions,
  parseStatusRanges,
} from './health/http-probe.js';
export {
  PASSIVE_HEALTH_DEFAULTS,
  PassiveHealth,
  type PassiveHealthOptions,
  type PassiveHealthStatus,
} from './health/passive-health.js';
export {
  DEFAULT_READ_LIMIT,
  type ProbeConnectionOptions,
  type ProbeTlsOptions,
  probeConnection,
  type ReplyVerdict,
} from './health/probe-connection.js';
export {
  createHealthProbe,
  HEALTH_PROBE_TYPES,
  type HealthProbeOptions,
  type HealthProbeType,
} from './health/probe-registry.js';
export { SendExpectProbe, type SendExpectProbeOptions } from './health/send-expect-probe.js';
export {
  SLOW_START_DEFAULTS,
  SlowStart,
  type SlowStartOptions,
  type SlowStartStatus,
  slowStartFraction,
} from './health/slow-start.js';
export { TcpProbe } from './health/tcp-probe.js';
export { TlsProbe, type TlsProbeOptions } from './health/tls-probe.js';
export { UdpProbe, type UdpProbeOptions } from './health/udp-probe.js';
export type { RateLimitAlgorithm } from './ratelimit/algorithm.js';
export { ConcurrencyLimiter } from './ratelimit/concurrency-limiter.js';
export {
  FixedWindow,
  fixedWindowIdleAt,
  fixedWindowTake,
  windowStart,
} from './ratelimit/fixed-window.js';
export { Gcra, gcraIdleAt, gcraTake } from './ratelimit/gcra.js';
export { MemoryStore, type MemoryStoreOptions } from './ratelimit/memory-store.js';
export type { RateLimitConfig, RateLimitParams } from './ratelimit/rate-limit-config.js';
export { PEEK_CAP, peekRateLimit, type RateLimitPeek } from './ratelimit/rate-limit-peek.js';
export type {
  AsyncRateLimitStore,
  RateLimitStore,
  SyncRateLimitStore,
} from './ratelimit/rate-limit-store.js';
export {
  type RateLimitDecision,
  RateLimiter,
  type RateLimiterOptions,
  type RateLimitStoreFactory,
} from './ratelimit/rate-limiter.js';
// createRedisClient (src/lib/ratelimit/redis-client.ts) imports node-redis, so it is exported as
// `switchyard/redis` instead: the library entry reaches no third-party package
export type { RedisClientOptions } from './ratelimit/redis-client.js';
export { RedisConcurrencyLimiter, type RedisConcurrencyOptions } from './ratelimit/redis-concurrency.js';
export type {
  LimitStoreFailure,
  RedisLimitClient,
  RedisLimitOptions,
} from './ratelimit/redis-limit-options.js';
export type { RedisScript } from './ratelimit/redis-script-runner.js';
export { rateLimitScripts } from './ratelimit/redis-scripts.js';
export { closedPolicyRetry, RedisStore, type RedisStoreOptions } from './ratelimit/redis-store.js';
export {
  createRateLimitAlgorithm,
  type RateLimitAlgorithmFactory,
  rateLimitAlgorithmNames,
  registerRateLimitAlgorithm,
} from './ratelimit/registry.js';
export { SlidingWindow, slidingWindowIdleAt, slidingWindowTake } from './ratelimit/sliding-window.js';
export { TokenBucket, tokenBucketIdleAt, tokenBucketTake } from './ratelimit/token-bucket.js';
export { type Clock, ManualClock, systemClock } from './time/clock.js';
export {
  type IntervalTimers,
  systemTimers,
  type TimeoutTimers,
  type TimerHandle,
} from './time/timers.js';
export { formatHostPort, type HostPort, parseHostPort } from './upstreams/address.js';
export {
  UPSTREAM_STATES,
  Upstream,
  type UpstreamOptions,
  type UpstreamState,
} from './upstreams/upstream.js';
export { UpstreamGroup, type UpstreamGroupOptions } from './upstreams/upstream-group.js';
