import { performance } from 'node:perf_hooks';
import { ErrorCodes, SwitchyardError } from '../errors.js';

interface Pending {
  what: string;
  deadline: number;
  settled: boolean;
  reject: (err: Error) => void;
}

// Granularity of the timer: a timed-out command is answered at most this late, and a burst of
// commands sent within this span expires in one timer run rather than one each.
const MIN_DELAY_MS = 2;

/**
 * One timeout shared by every command of a store. All commands get the same timeout, so their
 * deadlines come in the order they were sent: a FIFO of pending commands and a single timer armed
 * for the oldest one replace a `setTimeout` per command. Answered commands are dropped from the
 * front lazily when the timer runs; the timer is unref'd and only armed while commands are pending.
 */
export class CommandDeadlines {
  readonly #timeout: number;
  #queue: Pending[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  #pending = 0;
  #idle: (() => void)[] = [];

  constructor(timeout: number) {
    if (!(Number.isFinite(timeout) && timeout > 0)) {
      throw new SwitchyardError(
        ErrorCodes.ERR_INVALID_ARGUMENT,
        `commandTimeout must be a positive number of ms, got ${timeout}`,
      );
    }
    this.#timeout = timeout;
  }

  /** Commands sent and neither answered nor timed out. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * The answer of `send()`, or an `ERR_STORE_TIMEOUT` rejection once the timeout has passed; an
   * answer arriving after that is ignored. A `send` that throws rejects the same way as one that fails.
   */
  run<T>(what: string, send: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { what, deadline: performance.now() + this.#timeout, settled: false, reject };
      this.#queue.push(entry);
      this.#pending++;
      if (this.#timer === undefined) this.#arm(this.#timeout);
      let answer: Promise<T>;
      try {
        answer = send();
      } catch (err) {
        answer = Promise.reject(err);
      }
      answer.then(
        (value) => {
          if (this.#settle(entry)) resolve(value);
        },
        (err: unknown) => {
          if (this.#settle(entry)) reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  /** Resolves once no command is pending (each is bounded by the timeout). */
  drained(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #settle(entry: Pending): boolean {
    if (entry.settled) return false;
    entry.settled = true;
    if (--this.#pending === 0) {
      // nothing left to time out: drop the queue and the timer so an idle store holds neither
      this.#queue = [];
      this.#head = 0;
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    }
    return true;
  }

  #arm(delay: number): void {
    const timer = setTimeout(() => this.#expire(), Math.max(delay, MIN_DELAY_MS));
    timer.unref();
    this.#timer = timer;
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const entry = queue[this.#head];
      if (!entry.settled && entry.deadline > now) break;
      this.#head++;
      if (entry.settled) continue;
      this.#settle(entry);
      entry.reject(
        new SwitchyardError(
          ErrorCodes.ERR_STORE_TIMEOUT,
          `Redis did not answer ${entry.what} within ${this.#timeout} ms`,
        ),
      );
      // the last pending one: #settle has emptied the queue
      if (this.#pending === 0) return;
    }
    if (this.#pending === 0) return;
    if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
    this.#arm(this.#queue[this.#head].deadline - now);
  }
}
