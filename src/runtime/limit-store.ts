import { readFileSync } from 'node:fs';
import { redactUrlPassword } from '../config/secrets.js';
import type { RedisLimitStoreConfig, SwitchyardConfig } from '../config/types.js';
import type { Logger } from '../lib/logger.js';
import { RateLimiter } from '../lib/ratelimit/rate-limiter.js';
import { createRedisClient, redisClientLastError } from '../lib/ratelimit/redis-client.js';
import { RedisConcurrencyLimiter } from '../lib/ratelimit/redis-concurrency.js';
import type { LimitStoreFailure, RedisLimitOptions } from '../lib/ratelimit/redis-limit-options.js';
import { RedisStore } from '../lib/ratelimit/redis-store.js';
import type { ConcurrencyGate, RateGate } from '../proxy/runtime.js';
import type { AdmissionControls } from './build-admission.js';

/** How often a run of store failures may write a log line. */
const FAILURE_LOG_INTERVAL_MS = 1000;

/** What the store's failures have added up to, for `/metrics`. */
export interface LimitStoreCounts {
  /** Failed or timed-out commands, by what they were for (`rate`, `acquire`, `release`, `renew`). */
  errors: Map<LimitStoreFailure['operation'], number>;
  /** Decisions the failure policy made instead of Redis, by policy. */
  fallbackDecisions: Map<'open' | 'closed', number>;
}

/**
 * Both gates over one script per admitted connection: the rate gate's question runs the rate
 * decision and takes the slot in the same round trip (as the workers' channel does with its
 * `admit`), and the concurrency gate, asked right after for the same key (see admission.ts), hands
 * out the answer kept for it without asking Redis again. The answers wait per key, first in first
 * out: each session asks the second gate in the callback of its first answer.
 */
function bothInOneRoundTrip(
  rate: RateLimiter<RedisStore>,
  slots: RedisConcurrencyLimiter,
  now: () => number,
): Pick<AdmissionControls, 'rateLimit' | 'concurrency'> {
  const kept = new Map<string, boolean[]>();
  const keep = (key: string, slot: boolean): void => {
    const queue = kept.get(key);
    if (queue === undefined) kept.set(key, [slot]);
    else queue.push(slot);
  };
  const concurrency: ConcurrencyGate & { limit: number } = {
    // the cap a reload changes is the shared limiter's (runtime-manager.ts sets it here)
    get limit() {
      return slots.limit;
    },
    set limit(cap: number) {
      slots.limit = cap;
    },
    tryAcquire(key) {
      const queue = kept.get(key);
      if (queue === undefined) return slots.tryAcquire(key);
      const slot = queue.shift()!;
      if (queue.length === 0) kept.delete(key);
      return slot;
    },
    release: (key) => slots.release(key),
    count: (key) => slots.count(key),
  };
  const rateLimit: RateGate = {
    take: (key) =>
      slots.tryAcquireAfter(key, rate.store.decisionCall(key, now())).then((verdict) => {
        if (verdict > 0) return verdict;
        keep(key, verdict === 0);
        return 0;
      }),
    peek: (key) => rate.peek(key),
  };
  return { rateLimit, concurrency };
}

/**
 * The Redis a balancer shares its per-client counts through (`limitStore.type: redis`): one
 * connection per process, opened at start and kept across reloads (a reload builds new gates over
 * it; a change of the store's own settings needs a restart). The rate limit is a
 * {@link RedisStore} per runtime (it keeps nothing locally); the concurrency cap is one
 * {@link RedisConcurrencyLimiter} for the life of the process, whose replica lease is what frees
 * this process's slots if it dies. With workers only the primary has one: workers ask it.
 *
 * Never waits for Redis to start: until it answers, the failure policy decides, and the client
 * keeps reconnecting with back-off. Failures are counted and logged at most once a second.
 */
export class LimitStoreConnection {
  readonly counts: LimitStoreCounts = { errors: new Map(), fallbackDecisions: new Map() };
  readonly #settings: RedisLimitStoreConfig;
  readonly #client: ReturnType<typeof createRedisClient>;
  readonly #logger: Logger;
  readonly #options: RedisLimitOptions;
  #concurrency: RedisConcurrencyLimiter | undefined;
  #lastLog = 0;
  #unlogged = 0;
  #closed = false;
  #reconnect: NodeJS.Timeout | undefined;

  private constructor(settings: RedisLimitStoreConfig, logger: Logger) {
    this.#settings = settings;
    this.#logger = logger;
    const tls = settings.tls;
    const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path));
    this.#client = createRedisClient({
      url: settings.url,
      connectTimeout: settings.connectTimeout,
      tls: tls === undefined ? undefined : { ca: read(tls.ca), cert: read(tls.cert), key: read(tls.key) },
    });
    this.#client.on('ready', () =>
      logger.info({ limitStore: redactUrlPassword(settings.url) }, 'limit store connected'),
    );
    this.#options = {
      client: this.#client,
      keyPrefix: settings.keyPrefix,
      commandTimeout: settings.commandTimeout,
      failurePolicy: settings.failurePolicy,
      onFailure: (failure) => this.#failed(failure),
    };
    this.#connect();
  }

  /** The connection `config` asks for, or undefined for the in-memory store. */
  static open(config: SwitchyardConfig, logger: Logger): LimitStoreConnection | undefined {
    const settings = config.limitStore;
    return settings.type === 'redis' ? new LimitStoreConnection(settings, logger) : undefined;
  }

  /** Builds the per-client gates of `config` over this store, for the runtime builder's `admission` option. */
  readonly admission = (config: SwitchyardConfig, now: () => number): AdmissionControls => {
    const stoppables: AdmissionControls['stoppables'] = [];
    let rateLimit: AdmissionControls['rateLimit'];
    if (config.rateLimit !== undefined) {
      const { algorithm, limit, window, burst } = config.rateLimit;
      const limiter = new RateLimiter(
        { algorithm, limit, window, burst },
        { now, store: (a) => new RedisStore(a, this.#options) },
      );
      stoppables.push({ start: () => limiter.start(), stop: () => void limiter.stop() });
      rateLimit = limiter;
    }
    const perClient = config.concurrency.perClient;
    // One limiter for the process: a reload's new cap is set on it by the runtime manager, so
    // the slots it holds stay counted. Built with the first cap asked for.
    if (perClient > 0 && this.#concurrency === undefined) {
      this.#concurrency = new RedisConcurrencyLimiter(perClient, this.#options);
      this.#concurrency.start();
    }
    const slots = perClient > 0 ? this.#concurrency : undefined;
    if (rateLimit === undefined || slots === undefined) return { rateLimit, concurrency: slots, stoppables };
    return { ...bothInOneRoundTrip(rateLimit as RateLimiter<RedisStore>, slots, now), stoppables };
  };

  /**
   * Resolves true once Redis answers, or false after `connectTimeout`: a balancer starting with
   * its Redis gives its first clients real decisions, and one starting without it still starts.
   */
  ready(): Promise<boolean> {
    if (this.#client.isReady) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#client.off('ready', onReady);
        resolve(ok);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), this.#settings.connectTimeout);
      this.#client.on('ready', onReady);
    });
  }

  /** Gives this process's slots back at once and closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnect);
    await this.#concurrency?.stop();
    this.#client.destroy();
  }

  // node-redis retries by itself once connected; a first connect that fails is retried here.
  #connect(attempt = 0): void {
    this.#client.connect().catch((err: unknown) => {
      if (this.#closed) return;
      this.#failed({ operation: 'renew', error: err as Error, decision: 'none' });
      this.#reconnect = setTimeout(() => this.#connect(attempt + 1), Math.min(2000, 100 * 2 ** attempt));
      this.#reconnect.unref();
    });
  }

  #failed(failure: LimitStoreFailure): void {
    const { errors, fallbackDecisions } = this.counts;
    errors.set(failure.operation, (errors.get(failure.operation) ?? 0) + 1);
    if (failure.decision !== 'none') {
      const policy = this.#settings.failurePolicy;
      fallbackDecisions.set(policy, (fallbackDecisions.get(policy) ?? 0) + 1);
    }
    const now = Date.now();
    if (now - this.#lastLog < FAILURE_LOG_INTERVAL_MS) {
      this.#unlogged++;
      return;
    }
    this.#lastLog = now;
    const suppressed = this.#unlogged;
    this.#unlogged = 0;
    this.#logger.warn(
      {
        code: failure.error instanceof Error && 'code' in failure.error ? failure.error.code : undefined,
        operation: failure.operation,
        decision: failure.decision,
        policy: this.#settings.failurePolicy,
        err: failure.error.message,
        lastConnectionError: redisClientLastError(this.#client)?.message,
        suppressed,
      },
      'limit store failed; the failure policy decides',
    );
  }
}
