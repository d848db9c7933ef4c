import type { TimerHandle } from '../ratelimit/memory-store.js';

/** One-shot timer functions health checking schedules with; tests pass fakes that run on command. */
export interface TimeoutTimers {
  /** Calls `fn` once after `ms`. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer `setTimeout` returned; a no-op once it has run. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The global timers, unref'd: health checks watch a server, they are no reason on their own to keep
 * a process alive.
 */
export const systemTimers: TimeoutTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
