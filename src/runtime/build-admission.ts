import type { HandshakeRateConfig, SwitchyardConfig } from '../config/types.js';
import { ConcurrencyLimiter } from '../lib/ratelimit/concurrency-limiter.js';
import { MemoryStore } from '../lib/ratelimit/memory-store.js';
import { RateLimiter } from '../lib/ratelimit/rate-limiter.js';
import { createRateLimitAlgorithm } from '../lib/ratelimit/registry.js';
import type { ConcurrencyGate, RateGate, SyncRateGate } from '../proxy/runtime.js';

/** Something with background upkeep that must be started and stopped with the server. */
export interface Stoppable {
  /** Starts timers. */
  start(): void;
  /** Stops timers. */
  stop(): void;
}

/** The per-client admission gates of a configuration, and what must be started and stopped. */
export interface AdmissionControls {
  /** Per-client rate limit, if configured. */
  rateLimit?: RateGate;
  /** Per-client concurrency cap, if configured. */
  concurrency?: ConcurrencyGate;
  /** Upkeep to start and stop. */
  stoppables: Stoppable[];
}

/** Builds the per-client rate limiter and concurrency cap from the configuration. */
export function buildAdmissionControls(config: SwitchyardConfig, now: () => number): AdmissionControls {
  const stoppables: Stoppable[] = [];
  let rateLimit: RateGate | undefined;
  if (config.rateLimit !== undefined) {
    const { algorithm, limit, window, burst } = config.rateLimit;
    const limiter = new RateLimiter({ algorithm, limit, window, burst }, { now });
    stoppables.push({ start: () => limiter.start(), stop: () => void limiter.stop() });
    rateLimit = limiter;
  }
  const perClient = config.concurrency.perClient;
  const concurrency = perClient > 0 ? new ConcurrencyLimiter(perClient) : undefined;
  return { rateLimit, concurrency, stoppables };
}

/** A per-source-address guard on new connections, with its upkeep. */
export interface SourceGuard extends Stoppable {
  /** The gate the listener consults at accept. */
  gate: SyncRateGate;
}

/**
 * Builds a listener's per-source connection guard: a token bucket per source address, always in
 * memory because it runs before any TLS work and must answer without waiting.
 */
export function buildSourceGuard(rate: HandshakeRateConfig, now: () => number): SourceGuard | undefined {
  if (rate.perSource === 0) return undefined;
  const algorithm = createRateLimitAlgorithm({
    algorithm: 'token-bucket',
    limit: rate.perSource,
    window: rate.window,
  });
  const store = new MemoryStore(algorithm, { now });
  return {
    gate: { take: (source: string) => store.take(source, now()) },
    start: () => store.start(),
    stop: () => store.stop(),
  };
}
