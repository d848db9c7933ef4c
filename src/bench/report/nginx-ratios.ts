/**
 * Switchyard against NGINX for the rows HAProxy has no figure for (UDP: its open-source edition does
 * not proxy datagrams). The table's ratio columns compare with HAProxy, naive and direct; without
 * this line those rows would compare Switchyard with no production proxy at all.
 */
import type { BenchResult } from '../types.js';
import { formatRatio } from './format.js';
import { groupByScenario, switchyardRatios } from './scenarios.js';

/**
 * One note naming Switchyard's ratio to NGINX on every row that has both of theirs and no HAProxy
 * figure, oriented like the table's ratios; no note when there is no such row.
 */
export function nginxInsteadOfHaproxy(results: readonly BenchResult[]): string[] {
  const figures: string[] = [];
  for (const [row, cells] of groupByScenario(results)) {
    if (cells.some((c) => c.target === 'haproxy')) continue;
    const { vsNginx } = switchyardRatios(cells);
    if (vsNginx !== undefined) figures.push(`${row} ${formatRatio(vsNginx)}${vsNginx >= 1 ? ' ✓' : ''}`);
  }
  if (figures.length === 0) return [];
  return [
    `switchyard/nginx where HAProxy has no figure (above 1.00x: Switchyard did better): ${figures.join(', ')}.`,
  ];
}
