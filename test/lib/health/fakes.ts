/**
 * Test doubles for health checking: one-shot timers on a fake clock, a probe whose answers the test
 * sets, and a seeded random source. Not a test file itself (no `.test.` in the name).
 */
import { type HealthProbe, ProbeError, type ProbeTarget } from '../../../src/lib/health/health-probe.js';
import type { TimeoutTimers, TimerHandle } from '../../../src/lib/time/timers.js';

/** Lets pending promise callbacks (a fake probe's settlement) run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/** One-shot timers that run only as the test advances their clock, in due order. */
export class FakeTimers implements TimeoutTimers {
  #now: number;
  #seq = 0;
  readonly #pending = new Map<TimerHandle, Pending>();

  constructor(start = 0) {
    this.#now = start;
  }

  /** The fake clock; hand it out as `now`. */
  readonly now = (): number => this.#now;

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle: TimerHandle = {};
    this.#pending.set(handle, { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#pending.delete(handle);
  }

  /** Timers scheduled and not yet run or cleared. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Due times of the pending timers, soonest first. */
  dueTimes(): number[] {
    return [...this.#pending.values()].map((p) => p.at).sort((a, b) => a - b);
  }

  /**
   * Moves the clock forward by `ms`, running each timer that falls due (also those scheduled on the
   * way) at its due time, and letting promise callbacks run after each one.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await flush();
    for (;;) {
      let next: [TimerHandle, Pending] | undefined;
      for (const entry of this.#pending) {
        const p = entry[1];
        if (p.at > end) continue;
        if (next === undefined || p.at < next[1].at || (p.at === next[1].at && p.seq < next[1].seq))
          next = entry;
      }
      if (next === undefined) break;
      this.#pending.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
      await flush();
    }
    this.#now = end;
    await flush();
  }
}

/** What a {@link FakeProbe} does for a target: pass, fail, or hang until aborted. */
export type FakeOutcome = 'pass' | 'fail' | 'hang';

/** A probe whose outcome per port the test sets, and which records every call. */
export class FakeProbe implements HealthProbe {
  readonly type = 'fake';
  /** Every check: target port, fake time, and its signal. */
  readonly calls: { port: number; at: number; signal: AbortSignal }[] = [];
  /** Outcome by port; `fallback` for the rest. */
  readonly outcomes = new Map<number, FakeOutcome>();
  fallback: FakeOutcome = 'pass';

  constructor(private readonly now: () => number) {}

  /** Sets the outcome for one port. */
  set(port: number, outcome: FakeOutcome): void {
    this.outcomes.set(port, outcome);
  }

  /** Times of the checks of one port. */
  times(port: number): number[] {
    return this.calls.filter((c) => c.port === port).map((c) => c.at);
  }

  check(target: ProbeTarget, signal: AbortSignal): Promise<void> {
    this.calls.push({ port: target.port, at: this.now(), signal });
    const outcome = this.outcomes.get(target.port) ?? this.fallback;
    if (outcome === 'pass') return Promise.resolve();
    if (outcome === 'fail')
      return Promise.reject(new ProbeError('connect', `ECONNREFUSED on ${target.port}`));
    return new Promise((_, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
}

export { seededRandom } from '../../helpers/random.js';
