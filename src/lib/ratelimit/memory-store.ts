import { ErrorCodes, SwitchyardError } from '../errors.js';
import { type Clock, systemClock } from '../time/clock.js';
import { type IntervalTimers, systemIntervalTimers, type TimerHandle } from '../time/timers.js';
import type { RateLimitAlgorithm } from './algorithm.js';
import { KeyIndex } from './key-index.js';
import { peekRateLimit, type RateLimitPeek } from './rate-limit-peek.js';
import type { SyncRateLimitStore } from './rate-limit-store.js';

/** How a {@link MemoryStore} is built. */
export interface MemoryStoreOptions {
  /** Clock the periodic sweep reads. Default {@link systemClock}. */
  now?: Clock;
  /** Ms between sweeps once started. Default 1000. */
  sweepInterval?: number;
  /**
   * Width in ms of the expiry buckets. A sweep also looks at the keys due in the bucket it is in,
   * so narrower means less rework per sweep and more buckets. Default the smaller of
   * `sweepInterval` and a quarter of the algorithm's `idleTtl`.
   */
  expiryResolution?: number;
  /** Keys to make room for up front; storage doubles as needed. Default 1024. */
  initialCapacity?: number;
  /** Default the global `setInterval` / `clearInterval`. */
  timers?: IntervalTimers;
}

const NONE = -1;
// More buckets than this only cost memory: a key filed further ahead is looked at early and refiled.
const MAX_BUCKETS = 1 << 16;

function checkMs(what: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `${what} must be a positive number of ms, got ${value}`,
    );
  }
  return value;
}

/**
 * Rate-limit state for many keys in one process, sized for millions of clients: every key's state
 * lives in shared typed arrays at a slot number, an open-addressing {@link KeyIndex} maps keys to
 * slots, and freed slots are reused, so a key costs the garbage collector nothing beyond its key
 * string.
 *
 * A key is forgotten once its state decides like a fresh key's (the algorithm's `idleAt`), so
 * forgetting never changes an answer. Keys are filed in a wheel of expiry buckets (doubly-linked
 * lists in an Int32Array) by that time. A decision leaves the key where it is: at a million keys
 * every decision is a few cache misses, and moving the key in a list on each one would add more.
 * A sweep empties the buckets that have come due, forgets the keys that expired and refiles the
 * ones decided on since they were filed (their state now says a later time), so its work is what
 * expired plus at most one refile per live key per `idleTtl`, never a scan of everything.
 */
export class MemoryStore implements SyncRateLimitStore {
  /** The algorithm every key is decided by. */
  readonly algorithm: RateLimitAlgorithm;
  readonly #now: Clock;
  readonly #sweepInterval: number;
  readonly #timers: IntervalTimers;
  readonly #resolution: number;
  readonly #stride: number;
  readonly #index: KeyIndex;
  #state: Float64Array;
  // per slot: [previous, next] in its bucket; a bucket's first key has previous = -2 - bucket, and
  // free slots chain through next
  #links: Int32Array;
  #buckets: Int32Array;
  #capacity: number;
  #used = 0;
  #free = NONE;
  // absolute number (time / resolution) of the oldest bucket that may hold a key; every key is
  // filed at or after it, so no key can be skipped by a sweep
  #cursor = Number.NEGATIVE_INFINITY;
  #visited = 0;
  #timer: TimerHandle | undefined;

  constructor(algorithm: RateLimitAlgorithm, options: MemoryStoreOptions = {}) {
    this.algorithm = algorithm;
    this.#now = options.now ?? systemClock;
    this.#timers = options.timers ?? systemIntervalTimers;
    this.#sweepInterval = checkMs('sweepInterval', options.sweepInterval ?? 1000);
    const ttl = algorithm.idleTtl;
    this.#resolution = checkMs(
      'expiryResolution',
      options.expiryResolution ?? Math.min(this.#sweepInterval, ttl / 4),
    );
    const capacity = options.initialCapacity ?? 1024;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new SwitchyardError(
        ErrorCodes.ERR_INVALID_ARGUMENT,
        `initialCapacity must be a positive integer, got ${String(options.initialCapacity)}`,
      );
    }
    // enough buckets for every expiry up to one idleTtl ahead of a cursor up to two sweeps behind
    const buckets = Math.ceil((ttl + 2 * this.#sweepInterval) / this.#resolution) + 2;
    this.#buckets = new Int32Array(Math.min(buckets, MAX_BUCKETS)).fill(NONE);
    this.#stride = algorithm.stride;
    this.#capacity = capacity;
    this.#index = new KeyIndex(capacity);
    this.#state = new Float64Array(capacity * this.#stride);
    this.#links = new Int32Array(capacity * 2);
  }

  /** Keys tracked now. */
  get size(): number {
    return this.#index.size;
  }

  /** Slots allocated; grows by doubling and never shrinks. */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * Keys looked at by all sweeps so far: the expired ones, the ones refiled because they were
   * decided on since they were filed, and those due in the bucket a sweep stops in. Tests use it
   * to check that sweeps stay proportional to what expired.
   */
  get sweepVisits(): number {
    return this.#visited;
  }

  /** True while the periodic sweep is scheduled. */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** True when `key` is tracked. */
  has(key: string): boolean {
    return this.#index.find(key) !== NONE;
  }

  take(key: string, now: number): number {
    const slot = this.#index.find(key);
    if (slot === NONE) return this.#takeNew(key, now);
    return this.algorithm.take(this.#state, slot * this.#stride, now);
  }

  /** What `key` would be allowed at `now`, without counting anything or tracking a new key. */
  peek(key: string, now: number): RateLimitPeek {
    const slot = this.#index.find(key);
    if (slot === NONE) return peekRateLimit(this.algorithm, undefined, now);
    const at = slot * this.#stride;
    return peekRateLimit(this.algorithm, this.#state.subarray(at, at + this.#stride), now);
  }

  reset(key: string): void {
    const slot = this.#index.find(key);
    if (slot === NONE) return;
    this.#unlink(slot);
    this.#release(slot);
  }

  /**
   * Forgets exactly the keys whose state decides like a fresh key's at `now` and returns how many.
   * Called by the timer once started; tests call it directly.
   */
  sweep(now: number): number {
    const buckets = this.#buckets;
    const count = buckets.length;
    let due = Math.floor(now / this.#resolution);
    if (due < this.#cursor) due = this.#cursor;
    let first = this.#cursor;
    if (due - first >= count) first = due - count + 1;
    // refiled keys land at or after the bucket this sweep ends in; that one is detached first so
    // keys refiled into it are not looked at twice
    this.#cursor = due;
    const dueBucket = modulo(due, count);
    const dueList = buckets[dueBucket];
    buckets[dueBucket] = NONE;
    let removed = 0;
    for (let n = first; n < due; n++) {
      const bucket = modulo(n, count);
      const list = buckets[bucket];
      buckets[bucket] = NONE;
      removed += this.#sweepList(list, now);
    }
    removed += this.#sweepList(dueList, now);
    if (this.#index.size === 0) this.#cursor = Number.NEGATIVE_INFINITY;
    return removed;
  }

  /** Forgets the expired keys of a detached bucket list and refiles the others. */
  #sweepList(slot: number, now: number): number {
    const algorithm = this.algorithm;
    const stride = this.#stride;
    let removed = 0;
    while (slot !== NONE) {
      const next = this.#links[2 * slot + 1];
      this.#visited++;
      const expiry = algorithm.idleAt(this.#state, slot * stride);
      if (expiry <= now) {
        this.#release(slot);
        removed++;
      } else {
        this.#file(slot, expiry);
      }
      slot = next;
    }
    return removed;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    const timer = this.#timers.setInterval(() => this.sweep(this.#now()), this.#sweepInterval);
    timer.unref?.();
    this.#timer = timer;
  }

  stop(): void {
    if (this.#timer === undefined) return;
    this.#timers.clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Gives a new key a slot, fresh state and a bucket, then decides its first request. */
  #takeNew(key: string, now: number): number {
    let slot = this.#free;
    if (slot !== NONE) {
      this.#free = this.#links[2 * slot + 1];
    } else {
      if (this.#used === this.#capacity) this.#grow();
      slot = this.#used++;
    }
    this.#index.insert(key, slot);
    const at = slot * this.#stride;
    const state = this.#state;
    this.algorithm.init(state, at, now);
    const retry = this.algorithm.take(state, at, now);
    if (this.#cursor === Number.NEGATIVE_INFINITY) this.#cursor = Math.floor(now / this.#resolution);
    this.#file(slot, this.algorithm.idleAt(state, at));
    return retry;
  }

  /** Puts a slot first in the bucket of `expiry`, or of the cursor when that has passed. */
  #file(slot: number, expiry: number): void {
    let n = Math.floor(expiry / this.#resolution);
    if (n < this.#cursor) n = this.#cursor;
    const buckets = this.#buckets;
    const bucket = modulo(n, buckets.length);
    const links = this.#links;
    const first = buckets[bucket];
    links[2 * slot] = -2 - bucket;
    links[2 * slot + 1] = first;
    if (first !== NONE) links[2 * first] = slot;
    buckets[bucket] = slot;
  }

  #unlink(slot: number): void {
    const links = this.#links;
    const prev = links[2 * slot];
    const next = links[2 * slot + 1];
    if (prev < NONE) this.#buckets[-2 - prev] = next;
    else links[2 * prev + 1] = next;
    if (next !== NONE) links[2 * next] = prev;
  }

  /** Returns an unlinked slot to the free list and forgets its key. */
  #release(slot: number): void {
    this.#index.remove(slot);
    this.#links[2 * slot + 1] = this.#free;
    this.#free = slot;
  }

  #grow(): void {
    const capacity = this.#capacity * 2;
    const state = new Float64Array(capacity * this.#stride);
    state.set(this.#state);
    const links = new Int32Array(capacity * 2);
    links.set(this.#links);
    this.#index.growSlots(capacity);
    this.#state = state;
    this.#links = links;
    this.#capacity = capacity;
  }
}

function modulo(n: number, count: number): number {
  const r = n % count;
  return r < 0 ? r + count : r;
}
