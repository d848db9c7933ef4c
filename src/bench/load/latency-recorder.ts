/**
 * Per-unit latency of a load run in an HDR histogram (perf_hooks), recorded in nanoseconds so short
 * loopback round trips keep their resolution, reported in milliseconds.
 */
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import type { Latency } from '../types.js';

const NS_PER_MS = 1e6;

/** Collects unit latencies measured from a `performance.now()` start. */
export class LatencyRecorder {
  readonly #histogram: RecordableHistogram = createHistogram();

  /** Records the time from `startedAt` (a `performance.now()` reading) until now. */
  recordSince(startedAt: number): void {
    // The histogram takes positive integers only; a sub-nanosecond reading still was a unit.
    this.#histogram.record(Math.max(1, Math.round((performance.now() - startedAt) * NS_PER_MS)));
  }

  /** Units recorded so far. */
  get count(): number {
    return this.#histogram.count;
  }

  /** The percentiles in ms, or undefined when nothing was recorded. */
  toLatency(): Latency | undefined {
    const h = this.#histogram;
    if (h.count === 0) return undefined;
    return {
      p50: h.percentile(50) / NS_PER_MS,
      p90: h.percentile(90) / NS_PER_MS,
      p99: h.percentile(99) / NS_PER_MS,
      max: h.max / NS_PER_MS,
    };
  }
}
