import { randomUUID } from 'node:crypto';
import { ErrorCodes, SwitchyardError } from '../errors.js';
import { CommandDeadlines } from './command-deadlines.js';
import { checkPositiveInteger } from './rate-limit-config.js';
import {
  acquireScript,
  admissionScript,
  concurrencyScripts,
  countScript,
  giveBackScript,
  releaseScript,
  renewScript,
} from './redis-concurrency-scripts.js';
import {
  asError,
  type RedisLimitOptions,
  type ResolvedRedisLimitOptions,
  reportFailure,
  resolveRedisLimitOptions,
} from './redis-limit-options.js';
import { RedisScriptRunner } from './redis-script-runner.js';
import type { RateDecisionCall } from './redis-store.js';

/** How a {@link RedisConcurrencyLimiter} is built besides its limit. */
export interface RedisConcurrencyOptions extends RedisLimitOptions {
  /** This process's name among the replicas sharing the Redis; unique per process. Default a random UUID. */
  replicaId?: string;
  /**
   * Ms a replica's slots outlive it when it dies without `stop()`; it renews its lease every
   * third of this. Default 10000.
   */
  leaseMs?: number;
}

/** This replica's slots for one key, the truth Redis is brought back to. */
interface Holding {
  held: number;
  inflight: number;
  // changed since the last renewal read it: the entry stays until a renewal has written it
  touched: boolean;
}

// keys per renewal or give-back script, so one call never blocks Redis for long
const BATCH = 500;

/**
 * Caps simultaneous connections per key across every replica on one Redis.
 *
 * Layout: per key a hash `${keyPrefix}cc:${key}` mapping replica id to the slots that replica
 * holds, and one sorted set `${keyPrefix}cc-replicas` of replica ids scored by lease expiry on
 * Redis's clock. Acquiring sums the fields of replicas whose lease is live (dropping the others)
 * and takes a slot when under the limit, atomically in one script; releasing decrements the own
 * field. A replica renews its lease every `leaseMs / 3`; one that dies without `stop()` stops
 * renewing, and from `leaseMs` after its last renewal (or acquire) its slots count for nothing
 * anywhere: that is the bound on how long a dead replica's slots stay taken. `stop()` ends the
 * lease at once.
 *
 * The replica's own holdings live in a local map, which is the truth: every renewal writes the
 * exact count of every key it holds (and zero for keys it gave back since the last one), skipping
 * keys with a command in flight, whose order against the renewal is unknown. Releases lost in an
 * outage, acquires admitted by the open policy, a lease that lapsed during a partition (others
 * then dropped its fields) and a restarted, empty Redis all converge by the next renewal; on
 * reconnect the scripts are loaded and a renewal runs at once. Hash keys expire `2 × leaseMs`
 * after the last acquire or renewal, so keys whose holders all died leave nothing behind.
 *
 * Failure policy: `tryAcquire` never rejects. When Redis fails or is too slow, `open` admits
 * unless this replica alone already holds `limit` slots of the key (a cap Redis would enforce as
 * well), and counts the slot locally; `closed` refuses. `release` never throws.
 */
export class RedisConcurrencyLimiter {
  /** This replica's id in Redis. */
  readonly replicaId: string;
  /** Ms a dead replica's slots stay taken at most. */
  readonly leaseMs: number;
  #limit: number;
  readonly #options: ResolvedRedisLimitOptions;
  readonly #deadlines: CommandDeadlines;
  readonly #runner: RedisScriptRunner;
  readonly #prefix: string;
  readonly #replicas: string;
  readonly #holdings = new Map<string, Holding>();
  readonly #onReady = (): void => {
    this.#loadScripts();
    void this.#renew();
  };
  #timer: NodeJS.Timeout | undefined;
  #renewing = false;

  constructor(limit: number, options: RedisConcurrencyOptions) {
    this.#limit = checkPositiveInteger('concurrency limit', limit);
    this.#options = resolveRedisLimitOptions(options);
    this.leaseMs = checkPositiveInteger('leaseMs', options.leaseMs ?? 10_000);
    const replicaId = options.replicaId ?? randomUUID();
    if (typeof replicaId !== 'string' || replicaId === '') {
      throw new SwitchyardError(ErrorCodes.ERR_INVALID_ARGUMENT, 'replicaId must be a non-empty string');
    }
    this.replicaId = replicaId;
    this.#deadlines = new CommandDeadlines(this.#options.commandTimeout);
    this.#runner = new RedisScriptRunner(this.#options.client, this.#deadlines);
    this.#prefix = `${this.#options.keyPrefix}cc:`;
    this.#replicas = `${this.#options.keyPrefix}cc-replicas`;
  }

  /** Connections one key may hold at once, over all replicas. */
  get limit(): number {
    return this.#limit;
  }

  /** Changes the cap; keys above a lowered cap keep what they hold and get no more until below it. */
  set limit(limit: number) {
    this.#limit = checkPositiveInteger('concurrency limit', limit);
  }

  /** True while lease renewal runs. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Slots this replica holds for `key`, by its own count (which Redis is brought back to). */
  held(key: string): number {
    return this.#holdings.get(key)?.held ?? 0;
  }

  /** The Redis hash holding `key`'s slots. */
  redisKey(key: string): string {
    return this.#prefix + key;
  }

  /**
   * Takes a slot of `key` and resolves true, or resolves false when every replica together holds
   * `limit`. Never rejects: on a Redis failure or timeout the failure policy decides.
   */
  async tryAcquire(key: string): Promise<boolean> {
    const holding = this.#holding(key);
    holding.inflight++;
    let admitted: boolean;
    try {
      const reply = await this.#runner.run(
        acquireScript,
        [this.#prefix + key, this.#replicas],
        [this.replicaId, String(this.#limit), String(this.leaseMs), String(2 * this.leaseMs)],
      );
      admitted = Number(reply) === 1;
    } catch (err) {
      // whether Redis counted it is unknown: the next renewal writes the local count either way
      admitted = this.#options.failurePolicy === 'open' && holding.held < this.#limit;
      reportFailure(this.#options.onFailure, {
        operation: 'acquire',
        error: asError(err),
        decision: admitted ? 'admitted' : 'refused',
      });
    }
    holding.inflight--;
    holding.touched = true;
    if (admitted) holding.held++;
    return admitted;
  }

  /**
   * The rate decision `rate` and, when it allows, a slot of `key`, in one round trip (one script,
   * {@link admissionScript}). Resolves the rate's retry ms when it refuses, 0 with a slot held,
   * or -1 when the cap refused. Never rejects: on a Redis failure the rate store's failure policy
   * answers for the rate, and when it admits, this limiter's policy for the slot.
   */
  async tryAcquireAfter(key: string, rate: RateDecisionCall): Promise<number> {
    const holding = this.#holding(key);
    holding.inflight++;
    let verdict: number;
    try {
      const reply = await this.#runner.run(
        admissionScript(rate.script),
        [rate.key, this.#prefix + key, this.#replicas],
        [
          String(rate.args.length),
          ...rate.args,
          this.replicaId,
          String(this.#limit),
          String(this.leaseMs),
          String(2 * this.leaseMs),
        ],
      );
      verdict = Number(reply);
    } catch (err) {
      verdict = rate.failed(err);
      if (verdict === 0 && !(this.#options.failurePolicy === 'open' && holding.held < this.#limit))
        verdict = -1;
    }
    holding.inflight--;
    holding.touched = true;
    if (verdict === 0) holding.held++;
    return verdict;
  }

  /**
   * Gives back one slot of `key`. Fire and forget: never throws; when Redis cannot be told, the
   * local count already dropped and the next renewal writes it.
   */
  release(key: string): void {
    const holding = this.#holdings.get(key);
    if (holding === undefined || holding.held === 0) return;
    holding.held--;
    holding.inflight++;
    holding.touched = true;
    this.#runner.run(releaseScript, [this.#prefix + key], [this.replicaId]).then(
      () => {
        holding.inflight--;
      },
      (err: unknown) => {
        holding.inflight--;
        reportFailure(this.#options.onFailure, {
          operation: 'release',
          error: asError(err),
          decision: 'none',
        });
      },
    );
  }

  /**
   * Slots of `key` held by all live replicas, as Redis has them. Rejects (`ERR_STORE_TIMEOUT` /
   * `ERR_STORE_UNAVAILABLE`) when Redis fails: a count is for display, not a decision.
   */
  async count(key: string): Promise<number> {
    const reply = await this.#runner.run(countScript, [this.#prefix + key, this.#replicas], [this.replicaId]);
    return Number(reply);
  }

  /** Registers the lease now and renews it every `leaseMs / 3`, and again on every reconnect. */
  start(): void {
    if (this.#timer !== undefined) return;
    const timer = setInterval(() => void this.#renew(), Math.max(1, Math.floor(this.leaseMs / 3)));
    timer.unref();
    this.#timer = timer;
    this.#options.client.on('ready', this.#onReady);
    this.#loadScripts();
    void this.#renew();
  }

  /**
   * Stops renewal and gives back the lease and every slot this replica holds, so other replicas
   * can take them at once. Never rejects; when Redis cannot be told, the lease runs out by itself.
   */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#options.client.off('ready', this.#onReady);
    }
    const hashes = [...this.#holdings.keys()].map((key) => this.#prefix + key);
    this.#holdings.clear();
    for (let i = 0; i === 0 || i < hashes.length; i += BATCH) {
      try {
        await this.#runner.run(
          giveBackScript,
          [this.#replicas, ...hashes.slice(i, i + BATCH)],
          [this.replicaId],
        );
      } catch (err) {
        reportFailure(this.#options.onFailure, {
          operation: 'release',
          error: asError(err),
          decision: 'none',
        });
        break;
      }
    }
    await this.#deadlines.drained();
  }

  #holding(key: string): Holding {
    let holding = this.#holdings.get(key);
    if (holding === undefined) {
      holding = { held: 0, inflight: 0, touched: true };
      this.#holdings.set(key, holding);
    }
    return holding;
  }

  /**
   * Loads every script before any of them runs after a (re)connect. Without this, the first run
   * would load its script on NOSCRIPT and retry after commands sent meanwhile, and a renewal
   * retried after a release would write a count older than that release.
   */
  #loadScripts(): void {
    for (const script of concurrencyScripts) {
      this.#runner.command('SCRIPT LOAD', ['SCRIPT', 'LOAD', script.source]).catch(() => {
        // the next command fails the same way and is reported; a renewal follows the reconnect
      });
    }
  }

  /** Renews the lease and writes the exact local count of every key with no command in flight. */
  async #renew(): Promise<void> {
    if (this.#renewing) return;
    this.#renewing = true;
    try {
      const keys: string[] = [];
      const holdings: Holding[] = [];
      for (const [key, holding] of this.#holdings) {
        if (holding.inflight > 0) continue;
        holding.touched = false;
        keys.push(key);
        holdings.push(holding);
      }
      for (let i = 0; i === 0 || i < keys.length; i += BATCH) {
        const batch = keys.slice(i, i + BATCH);
        const counts = holdings.slice(i, i + BATCH).map((h) => String(h.held));
        try {
          await this.#runner.run(
            renewScript,
            [this.#replicas, ...batch.map((key) => this.#prefix + key)],
            [this.replicaId, String(this.leaseMs), String(2 * this.leaseMs), ...counts],
          );
        } catch (err) {
          for (let j = i; j < keys.length; j++) holdings[j].touched = true;
          reportFailure(this.#options.onFailure, {
            operation: 'renew',
            error: asError(err),
            decision: 'none',
          });
          return;
        }
        // written and not changed since: a key no longer held is forgotten
        for (let j = i; j < i + batch.length; j++) {
          const holding = holdings[j];
          if (holding.held === 0 && holding.inflight === 0 && !holding.touched) {
            if (this.#holdings.get(keys[j]) === holding) this.#holdings.delete(keys[j]);
          }
        }
      }
    } finally {
      this.#renewing = false;
    }
  }
}
