/**
 * A figure with about three significant digits and a `k`/`M` multiplier, e.g. `45.2 k`, `385`,
 * `9.41`; `n/a` for a figure that is not a number. The thresholds sit at rounding boundaries so
 * 9 999.7 becomes `10.0 k`, not `10000`.
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const size = Math.abs(value);
  if (size >= 999_950) return `${(value / 1e6).toFixed(2)} M`;
  if (size >= 9_999.5) return `${(value / 1e3).toFixed(1)} k`;
  if (size >= 99.95) return value.toFixed(0);
  if (size >= 9.995) return value.toFixed(1);
  return value.toFixed(2);
}

/** A figure with its unit, e.g. `45.2 k req/s`. */
export function formatValue(value: number, unit: string): string {
  return unit === '' ? formatNumber(value) : `${formatNumber(value)} ${unit}`;
}

/** A ratio as `1.05x`, or `—` when there is none. */
export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined || !Number.isFinite(ratio) ? '—' : `${ratio.toFixed(2)}x`;
}

/** ` (3 errors)` when a cell had errors, else nothing: failures are shown beside the figure, never hidden. */
export function formatErrors(errors: number): string {
  if (!(errors > 0)) return '';
  return errors === 1 ? ' (1 error)' : ` (${errors} errors)`;
}

/** ` !` when a guard of the target refused connections during the cell's runs, else nothing. */
export function formatRefused(refused: Record<string, number> | undefined): string {
  return refused === undefined || Object.keys(refused).length === 0 ? '' : ' !';
}
