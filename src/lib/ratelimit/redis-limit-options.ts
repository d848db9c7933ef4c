import { ErrorCodes, SwitchyardError } from '../errors.js';

/**
 * What the Redis limit stores call on a client: any node-redis v5 client fits (one made by
 * {@link createRedisClient} or by an embedding application with its own options). Raw
 * `sendCommand` keeps the stores independent of the client's modules, scripts and RESP version.
 * Commands must run in order on one connection (a plain client, not a pool or cluster), which the
 * concurrency limiter's resync relies on.
 */
export interface RedisLimitClient {
  sendCommand(args: ReadonlyArray<string>): Promise<unknown>;
  /** `'ready'` is emitted on every (re)connection; the concurrency limiter re-registers its lease then. */
  on(event: 'ready', listener: () => void): unknown;
  off(event: 'ready', listener: () => void): unknown;
}

/** One limit decision (or upkeep step) Redis could not make; the failure policy decided instead. */
export interface LimitStoreFailure {
  /** `rate`: a rate decision; `acquire` / `release`: a concurrency slot; `renew`: lease upkeep. */
  operation: 'rate' | 'acquire' | 'release' | 'renew';
  /** `ERR_STORE_TIMEOUT` when Redis did not answer in time, else `ERR_STORE_UNAVAILABLE` with the cause. */
  error: Error;
  /** What the caller was told: let through, turned away, or nothing to decide (release, renew). */
  decision: 'admitted' | 'refused' | 'none';
}

/** What every Redis-backed limit takes. */
export interface RedisLimitOptions {
  /** A node-redis v5 client, connected by its owner; the limit never connects or closes it. */
  client: RedisLimitClient;
  /** Prepended to every key, to share one Redis with other applications. Default `'switchyard:'`. */
  keyPrefix?: string;
  /** Ms to wait for Redis before the failure policy decides. Default 250. */
  commandTimeout?: number;
  /**
   * When Redis fails or is too slow: `open` lets the request through, `closed` turns it away.
   * Default `open`: a limit store outage should not become an outage of the service it guards.
   */
  failurePolicy?: 'open' | 'closed';
  /** Called once per decision the failure policy made (and per failed upkeep step); must not throw. */
  onFailure?: (failure: LimitStoreFailure) => void;
}

/** {@link RedisLimitOptions} with defaults applied and values checked. */
export interface ResolvedRedisLimitOptions {
  client: RedisLimitClient;
  keyPrefix: string;
  commandTimeout: number;
  failurePolicy: 'open' | 'closed';
  onFailure: ((failure: LimitStoreFailure) => void) | undefined;
}

/** Applies defaults; throws `ERR_INVALID_ARGUMENT` for a missing client or an unknown policy. */
export function resolveRedisLimitOptions(options: RedisLimitOptions): ResolvedRedisLimitOptions {
  const client = options.client as RedisLimitClient | undefined;
  if (client === undefined || typeof client.sendCommand !== 'function') {
    throw new SwitchyardError(ErrorCodes.ERR_INVALID_ARGUMENT, 'a Redis limit needs a node-redis client');
  }
  const failurePolicy = options.failurePolicy ?? 'open';
  if (failurePolicy !== 'open' && failurePolicy !== 'closed') {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `failurePolicy must be "open" or "closed", got ${String(failurePolicy)}`,
    );
  }
  return {
    client,
    keyPrefix: options.keyPrefix ?? 'switchyard:',
    // checked by CommandDeadlines
    commandTimeout: options.commandTimeout ?? 250,
    failurePolicy,
    onFailure: options.onFailure,
  };
}

/** Calls `onFailure`, if any; a callback that throws is ignored, so a decision is never lost to it. */
export function reportFailure(
  onFailure: ((failure: LimitStoreFailure) => void) | undefined,
  failure: LimitStoreFailure,
): void {
  if (onFailure === undefined) return;
  try {
    onFailure(failure);
  } catch {
    // the decision stands whatever the observer did
  }
}

/** The error as an Error, for {@link LimitStoreFailure.error}. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
