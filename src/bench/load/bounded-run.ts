/**
 * The bookkeeping every unit-at-a-time load run shares: a duration and a count bound, whichever comes
 * first; units claimed before they start so the count is never overshot; the measured span; and a
 * result delivered only once the run's last socket has closed, so runs never overlap.
 */
import type { LoadResult } from '../types.js';
import { checkCount, checkDuration } from './check-option.js';
import { LatencyRecorder } from './latency-recorder.js';
import { LoadSpan } from './load-span.js';

/** A run bounded by `durationMs` and `maxUnits`; subclasses open connections and report units. */
export abstract class BoundedRun {
  /** Until the duration is over or the count is complete. */
  running = false;
  /** Failed attempts so far. */
  errors = 0;
  /** Sockets opened and not yet closed; the run resolves when this reaches 0 after it finished. */
  openSockets = 0;
  readonly latency = new LatencyRecorder();
  readonly #durationMs: number;
  readonly #maxUnits: number;
  readonly #span = new LoadSpan();
  #units = 0;
  #inFlight = 0;
  #deadline: NodeJS.Timeout | undefined;
  #result: LoadResult | undefined;
  #resolve: ((result: LoadResult) => void) | undefined;

  constructor(durationMs: number, maxUnits: number, maxUnitsName: string) {
    this.#durationMs = checkDuration('durationMs', durationMs);
    this.#maxUnits = checkCount(maxUnitsName, maxUnits);
  }

  /** Opens the run's connections; called once, with the span started. */
  protected abstract begin(): void;

  /** Destroys every open socket; called once when the run finishes. */
  protected abstract destroyAll(): void;

  /** Starts the run and resolves with its result after it finished and its sockets closed. */
  run(): Promise<LoadResult> {
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.running = true;
      this.#span.start();
      this.#deadline = setTimeout(() => this.finish(), this.#durationMs);
      this.begin();
    });
  }

  /** Takes one unit from the count bound; false when the run is over or the bound is spoken for. */
  claim(): boolean {
    if (!this.running || this.#units + this.#inFlight >= this.#maxUnits) return false;
    this.#inFlight++;
    return true;
  }

  /** A claimed unit completed; its latency runs from `startedAt` (`performance.now()`). */
  completed(startedAt: number): void {
    this.#inFlight--;
    this.#units++;
    this.latency.recordSince(startedAt);
    if (this.#units >= this.#maxUnits) this.finish();
  }

  /** A claimed unit failed: counts an error and gives the claim back for another attempt. */
  released(): void {
    this.#inFlight--;
    this.errors++;
  }

  /** Ends the measured span and closes everything; the result follows the last socket's close. */
  finish(): void {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.#deadline);
    this.#result = {
      units: this.#units,
      errors: this.errors,
      ...this.#span.finish(),
      latency: this.latency.toLatency(),
      tool: 'switchyard',
    };
    this.destroyAll();
    this.socketClosed();
  }

  /** Call from every socket's 'close' after decrementing {@link openSockets}. */
  socketClosed(): void {
    if (this.running || this.openSockets > 0 || this.#result === undefined) return;
    this.#resolve?.(this.#result);
    this.#resolve = undefined;
  }
}
