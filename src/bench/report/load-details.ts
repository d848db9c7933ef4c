/**
 * The figures behind the rates: latency percentiles and how busy the load generator itself was,
 * so a reader can tell when the generator, not the proxy, set the pace.
 */
import type { BenchResult } from '../types.js';
import { formatNumber } from './format.js';
import { targetRank } from './scenarios.js';

/** Column names of {@link loadDetailRows}. */
export const LOAD_DETAIL_HEADER = [
  'scenario',
  'target',
  'p50 ms',
  'p99 ms',
  'max ms',
  'generator CPU (cores)',
];

/** One row per rate (the cost rows share their runs) and target, in run and target order. */
export function loadDetailRows(results: readonly BenchResult[]): string[][] {
  const scenarios = [...new Set(results.filter((r) => r.higherIsBetter).map((r) => r.scenario))];
  const rows: string[][] = [];
  for (const scenario of scenarios) {
    const cells = results
      .filter((r) => r.scenario === scenario)
      .sort((a, b) => targetRank(a.target) - targetRank(b.target));
    for (const r of cells) {
      rows.push([
        scenario,
        r.target,
        r.latency === undefined ? '—' : formatNumber(r.latency.p50),
        r.latency === undefined ? '—' : formatNumber(r.latency.p99),
        r.latency === undefined ? '—' : formatNumber(r.latency.max),
        r.generatorLoad === undefined ? '—' : r.generatorLoad.toFixed(2),
      ]);
    }
  }
  return rows;
}
