/** The longest duration accepted: Node timers overflow (and fire at once) above 2^31-1 ms, about 24.8 days. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const UNIT_MS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const UNIT_ORDER = ['d', 'h', 'm', 's', 'ms'];
// `ms` before `m` so the alternation does not stop at the `m` of `ms`.
const PART = /(\d+(?:\.\d+)?)(ms|d|h|m|s)/y;

/**
 * Milliseconds for `500ms`, `2s`, `5m`, `1h`, `1d`, combinations from largest unit to smallest
 * (`1m30s`, `1h30m`), or a plain number of milliseconds (`250`, `"250"`). Returns undefined for
 * anything else, including negatives and non-finite numbers; the result is rounded to whole ms.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text));
  if (text === '') return undefined;
  let total = 0;
  let lastUnit = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text);
    if (m === null) return undefined;
    const unit = UNIT_ORDER.indexOf(m[2]);
    // `30s1m` or `1m1m` are more likely typos than intent, so units must strictly descend.
    if (unit <= lastUnit) return undefined;
    lastUnit = unit;
    total += Number(m[1]) * UNIT_MS[m[2]];
  }
  return Math.round(total);
}

/** The shortest text `parseDuration` reads back as `ms`, e.g. `90000` → `1m30s`, `0` → `0s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`not a duration: ${ms}`);
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let out = '';
  for (const unit of UNIT_ORDER) {
    const size = UNIT_MS[unit];
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
