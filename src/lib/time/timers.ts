/**
 * What a timer function returns. Only `unref` is ever called on it, so fakes in tests can return
 * any object; Node's `Timeout` has the method.
 */
export interface TimerHandle {
  /** Node's `Timeout.unref`. */
  unref?(): unknown;
}

/** One-shot timer functions health checking schedules with; tests pass fakes that run on command. */
export interface TimeoutTimers {
  /** Calls `fn` once after `ms`. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer `setTimeout` returned; a no-op once it has run. */
  clearTimeout(handle: TimerHandle): void;
}

/** The interval functions a rate-limit store schedules its sweep with; tests pass fakes. */
export interface IntervalTimers {
  /** Calls `fn` every `ms` until cleared. */
  setInterval(fn: () => void, ms: number): TimerHandle;
  /** Stops a timer `setInterval` returned. */
  clearInterval(handle: TimerHandle): void;
}

/**
 * The global one-shot timers, unref'd: health checks watch a server, they are no reason on their
 * own to keep a process alive.
 */
export const systemTimers: TimeoutTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The global interval timers; the caller unrefs what they return (a fake's handle may not have `unref`). */
export const systemIntervalTimers: IntervalTimers = {
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
};
