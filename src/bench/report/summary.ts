import type { BenchResult, TargetName } from '../types.js';
import { formatErrors, formatRatio, formatRefused, formatValue } from './format.js';
import { groupByScenario, switchyardRatios } from './scenarios.js';

/** One scenario's line of the summary, as text ready to lay out. */
export interface SummaryRow {
  scenario: string;
  /**
   * One cell per requested target: median and unit, errors if any, `!` when its guards refused
   * connections, `—` when the target did not run.
   */
  cells: string[];
  /** Switchyard / HAProxy, e.g. `1.05x`, or `—`. */
  vsHaproxy: string;
  /** Whether Switchyard did at least as well as HAProxy (the ✓). */
  meetsHaproxy: boolean;
  /** Switchyard / direct, e.g. `0.82x`, or `—`. */
  vsDirect: string;
  /** Switchyard / the naive Node.js proxy, e.g. `1.10x`, or `—`. */
  vsNaive: string;
  /** Whether Switchyard did at least as well as the naive proxy. */
  meetsNaive: boolean;
}

/** The summary grid both the terminal table and the Markdown table are drawn from. */
export interface Summary {
  /** `scenario`, the targets, then the ratio columns. */
  header: string[];
  rows: SummaryRow[];
}

/** Builds the summary: one row per scenario (in run order), one cell per target in `targets`. */
export function summarize(results: readonly BenchResult[], targets: readonly TargetName[]): Summary {
  const rows: SummaryRow[] = [];
  for (const [scenario, scenarioRows] of groupByScenario(results)) {
    const ratios = switchyardRatios(scenarioRows);
    rows.push({
      scenario,
      cells: targets.map((target) => {
        const row = scenarioRows.find((r) => r.target === target);
        return row === undefined
          ? '—'
          : `${formatValue(row.value, row.unit)}${formatErrors(row.errors)}${formatRefused(row.refused)}`;
      }),
      vsHaproxy: formatRatio(ratios.vsHaproxy),
      meetsHaproxy: ratios.vsHaproxy !== undefined && ratios.vsHaproxy >= 1,
      vsDirect: formatRatio(ratios.vsDirect),
      vsNaive: formatRatio(ratios.vsNaive),
      meetsNaive: ratios.vsNaive !== undefined && ratios.vsNaive >= 1,
    });
  }
  return {
    header: ['scenario', ...targets, 'switchyard/haproxy', 'switchyard/naive', 'switchyard/direct'],
    rows,
  };
}
