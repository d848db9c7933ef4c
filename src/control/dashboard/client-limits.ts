/**
 * One client's limit state for the dashboard's client view: how many requests its rate limit
 * would still let through now and how many of its concurrency slots it holds. Read from the gates
 * that decide (in one process its own; with workers the primary's, which decides for all of them;
 * with a Redis store, Redis), so the view shows what the next connection will meet.
 */
import type { RateLimitPeek } from '../../lib/ratelimit/rate-limit-peek.js';
import type { ProxyRuntime } from '../../proxy/runtime.js';

/** A client's limits as they stand. */
export interface ClientLimitState {
  /** The rate limit's state for this client; null when no rate limit is configured or it cannot tell. */
  rate: RateLimitPeek | null;
  /** Slots held against the per-client cap; null when no cap is configured. */
  concurrency: { used: number; limit: number | null } | null;
  /** Set when the store holding the state could not be read (e.g. Redis down): what failed. */
  error?: string;
}

/** The limit state of the client whose admission key is `key` (its certificate CN, or its address on plain TCP). */
export async function clientLimitState(
  runtime: Pick<ProxyRuntime, 'rateLimit' | 'concurrency'>,
  key: string,
): Promise<ClientLimitState> {
  const { rateLimit, concurrency } = runtime;
  const state: ClientLimitState = { rate: null, concurrency: null };
  try {
    state.rate = (await rateLimit?.peek?.(key)) ?? null;
    if (concurrency !== undefined) {
      const used = (await concurrency.count?.(key)) ?? 0;
      state.concurrency = { used, limit: concurrency.limit ?? null };
    }
  } catch (err) {
    state.error = err instanceof Error ? err.message : String(err);
  }
  return state;
}
