/**
 * Reducing the accept benchmark's runs to the figures it reports: medians over repetitions of rate
 * and proxy CPU per unit, the primary's share of that CPU, and how the workers shared the
 * connections. Pure functions of the samples, so they are tested without starting anything.
 */

/** One load run through one candidate. */
export interface RunSample {
  /** Completed units: connections (one request each) or keep-alive requests. */
  units: number;
  errors: number;
  elapsedMs: number;
  /** user + system CPU of the candidate's whole process tree during the run, ms. */
  cpuMs: number;
  /** The same for the root process alone; undefined when the root is the only worker (`single`). */
  primaryCpuMs?: number;
  /** Connections each worker accepted during the run, in worker order. */
  accepted: number[];
}

/** The figures of one kind of load on one candidate over all repetitions. */
export interface LoadSummary {
  /** Median units per second. */
  rate: number;
  /** Median proxy CPU per unit, µs; NaN when no run completed a unit. */
  cpuMicrosPerUnit: number;
  /** Median share (0–1) of the tree's CPU that the root used; undefined for `single`. */
  primaryCpuShare?: number;
  /** Connections each worker accepted, summed over the repetitions. */
  accepted: number[];
  /** Failed attempts over all repetitions. */
  errors: number;
  /** Every repetition's rate and CPU per unit, in run order, to show the spread behind a median. */
  rates: number[];
  cpuMicros: number[];
}

/** The median of `values`; NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Units per second of a run; 0 for a run that measured no time. */
export function ratePerSecond(sample: RunSample): number {
  return sample.elapsedMs > 0 ? (sample.units * 1000) / sample.elapsedMs : 0;
}

/** Proxy CPU per unit of a run in µs; NaN when it completed none. */
export function cpuMicrosPerUnit(sample: RunSample): number {
  return sample.units > 0 ? (sample.cpuMs * 1000) / sample.units : Number.NaN;
}

/** Each worker's count after minus before; throws when the worker lists do not match. */
export function countsBetween(before: readonly number[], after: readonly number[]): number[] {
  if (before.length !== after.length) {
    throw new Error(`worker counts changed length: ${before.length} then ${after.length}`);
  }
  return after.map((count, i) => count - before[i]);
}

/** Element-wise sum of equally long count lists; empty for none. */
export function sumCounts(lists: readonly (readonly number[])[]): number[] {
  const total: number[] = lists.length === 0 ? [] : lists[0].map(() => 0);
  for (const list of lists) {
    if (list.length !== total.length) throw new Error('count lists of different lengths');
    list.forEach((count, i) => {
      total[i] += count;
    });
  }
  return total;
}

/**
 * Whole percentages of `counts` that add up to exactly 100 (largest remainders get the leftover
 * points, ties to the earlier worker), so a table never shows 50/51; empty when nothing was counted.
 */
export function sharePercents(counts: readonly number[]): number[] {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total <= 0) return [];
  const exact = counts.map((count) => (count * 100) / total);
  const shares = exact.map(Math.floor);
  let left = 100 - shares.reduce((sum, share) => sum + share, 0);
  const byRemainder = exact
    .map((value, i) => ({ i, rest: value - shares[i] }))
    .sort((a, b) => b.rest - a.rest);
  for (const { i } of byRemainder) {
    if (left === 0) break;
    shares[i]++;
    left--;
  }
  return shares;
}

/** The spread as `51/49 %`, or `—` when nothing was counted. */
export function formatSpread(counts: readonly number[]): string {
  const shares = sharePercents(counts);
  return shares.length === 0 ? '—' : `${shares.join('/')} %`;
}

/** Reduces the repetitions of one kind of load on one candidate. */
export function summarize(samples: readonly RunSample[]): LoadSummary {
  const rates = samples.map(ratePerSecond);
  const cpuMicros = samples.map(cpuMicrosPerUnit);
  const measured = cpuMicros.filter((value) => !Number.isNaN(value));
  const shares = samples
    .filter((s) => s.primaryCpuMs !== undefined && s.cpuMs > 0)
    .map((s) => (s.primaryCpuMs as number) / s.cpuMs);
  return {
    rate: median(rates),
    cpuMicrosPerUnit: median(measured),
    primaryCpuShare: shares.length === 0 ? undefined : median(shares),
    accepted: sumCounts(samples.map((s) => s.accepted)),
    errors: samples.reduce((sum, s) => sum + s.errors, 0),
    rates,
    cpuMicros,
  };
}

/**
 * The order the candidates take their turns in repetition `repetition`, rotated by one each time: a
 * drift in the machine's background load then does not always fall on the same candidate.
 */
export function turnOrder<T>(items: readonly T[], repetition: number): T[] {
  if (items.length === 0) return [];
  const shift = repetition % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}
