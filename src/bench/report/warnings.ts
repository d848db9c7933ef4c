/**
 * The report's warnings: figures that must not be taken at face value. Two kinds: a target whose
 * guards refused connections during a run (its figure measures the guard), and a target on which our
 * bulk generator and iperf3 disagree (a suite that disagrees with iperf3 is wrong).
 */
import type { BenchResult } from '../types.js';
import { formatValue } from './format.js';

/** A row of our bulk generator and the iperf3 row that measures the same path. */
export interface AgreementPair {
  ours: string;
  iperf3: string;
}

/** How far our bulk figure may stray from iperf3's, as a share of iperf3's, before it is a warning. */
export const MAX_DISAGREEMENT = 0.25;

/** Every warning for `results`: guard refusals first, then disagreements with iperf3. */
export function benchWarnings(results: readonly BenchResult[], pairs: readonly AgreementPair[]): string[] {
  return [...refusalWarnings(results), ...disagreementWarnings(results, pairs)];
}

/**
 * One line per target and set of runs whose guards refused connections, naming the rows those runs
 * produced (the rate and its CPU cost share runs and so their refusals) and the counts by reason.
 */
export function refusalWarnings(results: readonly BenchResult[]): string[] {
  const groups = new Map<string, { target: string; refused: Record<string, number>; rows: string[] }>();
  for (const r of results) {
    if (r.refused === undefined) continue;
    const key = `${r.target}\n${JSON.stringify(r.refused)}`;
    const group = groups.get(key) ?? { target: r.target, refused: r.refused, rows: [] };
    group.rows.push(`"${r.scenario}"`);
    groups.set(key, group);
  }
  return [...groups.values()].map(({ target, refused, rows }) => {
    const total = Object.values(refused).reduce((a, b) => a + b, 0);
    const reasons = Object.entries(refused)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    return `${target} refused ${total} connection(s) by its guards (${reasons}) during ${rows.join(', ')}: those figures (marked !) measure the guard, not the proxy.`;
  });
}

/** One line per target and pair where our bulk figure and iperf3's differ by more than {@link MAX_DISAGREEMENT}. */
export function disagreementWarnings(
  results: readonly BenchResult[],
  pairs: readonly AgreementPair[],
): string[] {
  const warnings: string[] = [];
  for (const pair of pairs) {
    for (const ours of results.filter((r) => r.scenario === pair.ours)) {
      const theirs = results.find((r) => r.scenario === pair.iperf3 && r.target === ours.target);
      if (theirs === undefined || !(theirs.value > 0)) continue;
      const share = Math.abs(ours.value - theirs.value) / theirs.value;
      if (share <= MAX_DISAGREEMENT) continue;
      warnings.push(
        `${ours.target}: "${pair.ours}" is ${formatValue(ours.value, ours.unit)} but iperf3 measured ${formatValue(
          theirs.value,
          theirs.unit,
        )} on the same path (${(ours.value / theirs.value).toFixed(2)}x); a suite that disagrees with iperf3 is wrong, so trust neither figure until the difference is explained.`,
      );
    }
  }
  return warnings;
}
