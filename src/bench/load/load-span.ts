/**
 * The measured span of one load run: wall time, and the CPU this process (the generator) spent in
 * it, so a report can tell when the generator rather than the target was the bottleneck.
 */
import { performance } from 'node:perf_hooks';

/** Wall time and generator CPU between {@link LoadSpan.start} and {@link LoadSpan.finish}. */
export interface SpanTotals {
  elapsedMs: number;
  generatorCpuMs: number;
}

/** A stopwatch for wall time and this process's CPU (user + system). */
export class LoadSpan {
  #startedAt = 0;
  #cpu: NodeJS.CpuUsage = { user: 0, system: 0 };

  /** Starts (or restarts) the span now. */
  start(): void {
    this.#startedAt = performance.now();
    this.#cpu = process.cpuUsage();
  }

  /** Wall ms and CPU ms since {@link start}. */
  finish(): SpanTotals {
    const elapsedMs = performance.now() - this.#startedAt;
    const cpu = process.cpuUsage(this.#cpu);
    return { elapsedMs, generatorCpuMs: (cpu.user + cpu.system) / 1000 };
  }
}
