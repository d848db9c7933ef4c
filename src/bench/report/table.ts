import type { BenchResult, TargetName } from '../types.js';
import { summarize } from './summary.js';

const GAP = '  ';

/**
 * The results as a plain-text table for a terminal: one row per scenario, one column per target
 * (median and unit), then Switchyard's ratio to HAProxy and to the naive proxy (✓ when at least
 * 1.00x), and to direct.
 * Ends with a newline.
 */
export function formatTable(results: BenchResult[], targets: TargetName[]): string {
  const summary = summarize(results, targets);
  const lines = summary.rows.map((row) => [
    row.scenario,
    ...row.cells,
    // The blank where the ✓ would be keeps the ratios' decimal points in one column.
    `${row.vsHaproxy}${row.meetsHaproxy ? ' ✓' : '  '}`,
    `${row.vsNaive}${row.meetsNaive ? ' ✓' : '  '}`,
    row.vsDirect,
  ]);
  return alignColumns(summary.header, lines);
}

/** Plain-text columns under `header`: the first left-aligned, the rest right-aligned. */
export function alignColumns(header: string[], lines: string[][]): string {
  const widths = header.map((title, i) => Math.max(width(title), ...lines.map((cells) => width(cells[i]))));
  const layout = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i] - width(cell));
        return i === 0 ? cell + pad : pad + cell;
      })
      .join(GAP)
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join(GAP);
  return `${[layout(header), rule, ...lines.map(layout)].join('\n')}\n`;
}

// Code points, not UTF-16 units; every character the table uses (µ, —, ✓) is one column wide.
function width(text: string): number {
  return [...text].length;
}
