/** One measured row of the library micro-benchmarks. */
export interface BenchRow {
  /** Family, e.g. `balancer` or `ratelimit`. */
  suite: string;
  /** What was measured, e.g. `least-connections pick+release`. */
  name: string;
  /** Problem size, e.g. number of upstreams or tracked clients. */
  size: number;
  /** Operations per second (median of the run). */
  opsPerSec: number;
  /** Extra figures, e.g. bytes per tracked client. */
  extra?: Record<string, number>;
}

/** Prints rows as an aligned table for people. */
export function printTable(rows: readonly BenchRow[]): void {
  const lines = rows.map((r) => [
    r.suite,
    r.name,
    r.size.toLocaleString('en-US'),
    `${(r.opsPerSec / 1e6).toFixed(2)} M/s`,
    Object.entries(r.extra ?? {})
      .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(1)}`)
      .join(' '),
  ]);
  printColumns(
    ['suite', 'operation', 'size', 'rate', 'notes'],
    lines,
    (column) => column === 2 || column === 3,
  );
}

/** Prints a header, a rule and the lines in columns as wide as their widest cell. */
export function printColumns(
  head: readonly string[],
  lines: readonly string[][],
  rightAligned: (column: number) => boolean,
): void {
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: readonly string[]) =>
    cells.map((c, i) => (rightAligned(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  console.log(fmt(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
}
