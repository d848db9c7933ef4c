import { ErrorCodes, SwitchyardError } from '../errors.js';
import type { RateLimitAlgorithm } from './algorithm.js';
import { CommandDeadlines } from './command-deadlines.js';
import { peekRateLimit, type RateLimitPeek } from './rate-limit-peek.js';
import type { AsyncRateLimitStore } from './rate-limit-store.js';
import {
  asError,
  type RedisLimitOptions,
  type ResolvedRedisLimitOptions,
  reportFailure,
  resolveRedisLimitOptions,
} from './redis-limit-options.js';
import { type RedisScript, RedisScriptRunner } from './redis-script-runner.js';
import { rateLimitScripts } from './redis-scripts.js';

/** One rate decision as a script call: what {@link RedisStore.decisionCall} gives. */
export interface RateDecisionCall {
  script: RedisScript;
  /** The Redis key of the client's state. */
  key: string;
  args: string[];
  /** The failure policy's answer when the call failed (counted and reported as the store's own). */
  failed(err: unknown): number;
}

/** How a {@link RedisStore} is built. */
export interface RedisStoreOptions extends RedisLimitOptions {
  /**
   * Whose time decisions are made at. `redis` (default): Redis's own clock (`TIME`), so replicas
   * with skewed clocks share one time line and the `now` passed to `take` is ignored. `caller`:
   * the `now` passed to `take`, for tests and for callers that keep their own clock.
   */
  clock?: 'redis' | 'caller';
  /**
   * `caller` clock only: ms every key lives beyond the time its state is a fresh key's again.
   * Keys expire on Redis's clock while decisions use the callers', so a caller running behind
   * Redis (or behind another caller) would otherwise find a key gone that its own time still
   * needs. A longer life never changes an answer, it only keeps memory. Default 1000.
   */
  callerClockSkew?: number;
}

/**
 * Ms a closed failure policy tells a refused client to wait: a second, or the window when it is
 * shorter (its limit recovers sooner than that). A hint only; a retry is decided afresh.
 */
export function closedPolicyRetry(window: number): number {
  return Math.min(window, 1000);
}

/**
 * Rate-limit state in Redis, shared by every process deciding on the same Redis: one key per
 * client, `${keyPrefix}rl:${algorithm}:${key}`, holding the algorithm's float64 state and
 * expiring when that state is a fresh key's again. Each decision is one EVALSHA of the
 * algorithm's Lua script ({@link rateLimitScripts}), atomic in Redis and exactly the math of the
 * in-memory store.
 *
 * The key holds the algorithm's name but not its numbers: every algorithm's state (counts, times,
 * tokens, an arrival time) means the same under another limit, so replicas part-way through a
 * rolling change of limit keep sharing one count, each applying its own limit, rather than
 * splitting into two counts and letting a client through twice.
 *
 * `take` never rejects. When Redis fails or does not answer within `commandTimeout`, the failure
 * policy decides (`open`: 0; `closed`: {@link closedPolicyRetry}) and `onFailure` hears of it
 * once; an answer arriving later is ignored. The client is the caller's: `stop` never closes it.
 */
export class RedisStore implements AsyncRateLimitStore {
  /** The algorithm every key is decided by. */
  readonly algorithm: RateLimitAlgorithm;
  readonly #options: ResolvedRedisLimitOptions;
  readonly #deadlines: CommandDeadlines;
  readonly #runner: RedisScriptRunner;
  readonly #script: RedisScript;
  readonly #prefix: string;
  readonly #callerClock: boolean;
  // ARGV after `now`: the expiry margin, then the algorithm's numbers as round-trip strings
  readonly #args: string[];
  readonly #refusedRetry: number;

  constructor(algorithm: RateLimitAlgorithm, options: RedisStoreOptions) {
    const script = rateLimitScripts.get(algorithm.name);
    if (script === undefined) {
      throw new SwitchyardError(
        ErrorCodes.ERR_UNKNOWN_RATE_LIMIT_ALGORITHM,
        `no Redis script for rate limit algorithm "${algorithm.name}"; expected one of ${[...rateLimitScripts.keys()].join(', ')}`,
      );
    }
    this.algorithm = algorithm;
    this.#script = script;
    this.#options = resolveRedisLimitOptions(options);
    this.#deadlines = new CommandDeadlines(this.#options.commandTimeout);
    this.#runner = new RedisScriptRunner(this.#options.client, this.#deadlines);
    this.#prefix = `${this.#options.keyPrefix}rl:${algorithm.name}:`;
    const clock = options.clock ?? 'redis';
    if (clock !== 'redis' && clock !== 'caller') {
      throw new SwitchyardError(
        ErrorCodes.ERR_INVALID_ARGUMENT,
        `clock must be "redis" or "caller", got ${String(clock)}`,
      );
    }
    this.#callerClock = clock === 'caller';
    const skew = this.#callerClock ? (options.callerClockSkew ?? 1000) : 0;
    if (!(Number.isSafeInteger(skew) && skew >= 0)) {
      throw new SwitchyardError(
        ErrorCodes.ERR_INVALID_ARGUMENT,
        `callerClockSkew must be a whole number of ms, got ${String(options.callerClockSkew)}`,
      );
    }
    this.#args = [String(skew), ...scriptParams(algorithm)];
    this.#refusedRetry = closedPolicyRetry(algorithm.window);
  }

  /** The Redis key holding `key`'s state. */
  redisKey(key: string): string {
    return this.#prefix + key;
  }

  /**
   * The decision of `key` at `now` as a script call, for a caller that runs it inside a larger
   * script ({@link RedisConcurrencyLimiter.tryAcquireAfter}), and what the failure policy answers
   * when that call fails.
   */
  decisionCall(key: string, now: number): RateDecisionCall {
    return {
      script: this.#script,
      key: this.#prefix + key,
      args: this.#argsAt(now),
      failed: this.#failed,
    };
  }

  take(key: string, now: number): Promise<number> {
    return this.#runner.run(this.#script, [this.#prefix + key], this.#argsAt(now)).then((reply) => {
      const retry = Number(reply);
      if (Number.isSafeInteger(retry) && retry >= 0) return retry;
      return this.#fail(
        new SwitchyardError(ErrorCodes.ERR_STORE_UNAVAILABLE, `unexpected Redis reply ${String(reply)}`),
      );
    }, this.#failed);
  }

  /**
   * What `key` would be allowed at `now` (on Redis's clock unless `clock: caller`), counting
   * nothing: its stored state is read and decided on a copy by the algorithm's own math, which the
   * scripts mirror. Rejects (`ERR_STORE_TIMEOUT` / `ERR_STORE_UNAVAILABLE`) when Redis fails.
   */
  async peek(key: string, now: number): Promise<RateLimitPeek> {
    const stored = await this.#runner.command('GET', ['GET', this.#prefix + key]);
    const at = this.#callerClock ? now : redisMs(await this.#runner.command('TIME', ['TIME']));
    const state = typeof stored === 'string' ? stored.split(' ').map(Number) : undefined;
    return peekRateLimit(this.algorithm, state, at);
  }

  /** The script's ARGV for a decision at `now`: the time (none on Redis's clock), then the fixed numbers. */
  #argsAt(now: number): string[] {
    return [this.#callerClock ? String(now) : '', ...this.#args];
  }

  readonly #failed = (err: unknown): number => this.#fail(err);

  /** Deletes `key`'s state. Rejects (`ERR_STORE_TIMEOUT` / `ERR_STORE_UNAVAILABLE`) when Redis fails. */
  async reset(key: string): Promise<void> {
    await this.#runner.command('DEL', ['DEL', this.#prefix + key]);
  }

  /** Nothing to start: Redis expires idle keys itself, and the timeout timer runs only while commands wait. */
  start(): void {}

  /** Resolves once no decision is waiting for Redis (each is bounded by `commandTimeout`); no timer is left then. */
  stop(): Promise<void> {
    return this.#deadlines.drained();
  }

  #fail(err: unknown): number {
    const open = this.#options.failurePolicy === 'open';
    reportFailure(this.#options.onFailure, {
      operation: 'rate',
      error: asError(err),
      decision: open ? 'admitted' : 'refused',
    });
    return open ? 0 : this.#refusedRetry;
  }
}

/** Redis's `TIME` reply (seconds, microseconds) as ms, as the scripts read it. */
function redisMs(reply: unknown): number {
  if (Array.isArray(reply) && reply.length === 2) {
    const ms = Number(reply[0]) * 1000 + Number(reply[1]) / 1000;
    if (Number.isFinite(ms)) return ms;
  }
  throw new SwitchyardError(ErrorCodes.ERR_STORE_UNAVAILABLE, `unexpected Redis TIME reply ${String(reply)}`);
}

/** ARGV[3…] of the algorithm's script: gcra takes its derived interval and tolerance, the rest their numbers. */
function scriptParams(algorithm: RateLimitAlgorithm): string[] {
  if (algorithm.name === 'gcra') {
    // computed as Gcra computes them, so the doubles are the same
    const interval = algorithm.window / algorithm.limit;
    const tolerance = (algorithm.burst - 1) * interval;
    return [String(interval), String(tolerance)];
  }
  return [String(algorithm.limit), String(algorithm.window), String(algorithm.burst)];
}
