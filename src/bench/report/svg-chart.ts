import type { BenchResult, TargetName } from '../types.js';
import { formatErrors, formatValue } from './format.js';
import { targetRank } from './scenarios.js';

/** Options of `renderScenarioChart`. */
export interface ChartOptions {
  /** Width of the image in px; 640 by default. */
  width?: number;
}

/** Bar colour of each target: Switchyard saturated, the others muted so it stands out. */
export const TARGET_COLOURS: Readonly<Record<TargetName, string>> = {
  direct: '#adb5bd',
  switchyard: '#e8590c',
  'switchyard-defaults': '#f4a56f',
  'switchyard-workers': '#c2410c',
  naive: '#b197fc',
  haproxy: '#74a9d8',
  nginx: '#8fc79a',
};

const UNKNOWN_COLOUR = '#ced4da';
const TEXT = '#212529';
const MUTED_TEXT = '#495057';
const WHISKER = '#343a40';
const FONT = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';

const HEADER = 56; // title and note
const ROW = 30;
const BAR = 18;
const FOOTER = 14;
const LABELS = 104; // the target names left of the bars
const VALUES = 170; // room right of the longest bar for its value label, errors included
const CAP = 5; // half height of a whisker's end caps

/**
 * One scenario as a self-contained SVG horizontal bar chart: a bar per target at its median,
 * labelled with the value, a min–max whisker over the repetitions, the scenario and unit in the
 * title, and which direction is better. No scripts, fonts or styles from outside; the same input
 * gives the same bytes, so regenerated docs diff cleanly.
 */
export function renderScenarioChart(
  scenario: string,
  results: BenchResult[],
  options: ChartOptions = {},
): string {
  const rows = [...results].sort((a, b) => targetRank(a.target) - targetRank(b.target));
  const width = Math.max(options.width ?? 640, LABELS + VALUES + 100);
  const height = HEADER + Math.max(rows.length, 1) * ROW + FOOTER;
  const unit = rows[0]?.unit ?? '';
  const higherIsBetter = rows[0]?.higherIsBetter ?? true;
  const title = unit === '' ? scenario : `${scenario} (${unit})`;
  const repetitions = Math.max(0, ...rows.map((r) => r.samples.length));
  const note = `${higherIsBetter ? 'higher' : 'lower'} is better · bar: median of ${repetitions} ${
    repetitions === 1 ? 'run' : 'runs'
  }, whisker: min–max`;

  const x0 = LABELS;
  const span = width - LABELS - VALUES;
  const top = Math.max(0, ...rows.flatMap((r) => [r.value, ...r.samples].filter((v) => Number.isFinite(v))));
  const scale = (v: number) => (Number.isFinite(v) && top > 0 ? (Math.max(v, 0) / top) * span : 0);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" font-family="${attr(FONT)}" font-size="12" style="background-color:#ffffff">`,
    `<title>${text(`${title}, ${note}`)}</title>`,
    `<text x="16" y="24" font-size="15" font-weight="600" fill="${TEXT}">${text(title)}</text>`,
    `<text x="16" y="42" fill="${MUTED_TEXT}">${text(note)}</text>`,
  ];
  if (rows.length === 0) {
    out.push(`<text x="${x0}" y="${HEADER + ROW / 2 + 4}" fill="${MUTED_TEXT}">no results</text>`);
  }
  rows.forEach((row, i) => {
    const y = HEADER + i * ROW + (ROW - BAR) / 2;
    const middle = y + BAR / 2;
    const switchyard = row.target === 'switchyard';
    const colour = TARGET_COLOURS[row.target as TargetName] ?? UNKNOWN_COLOUR;
    const barEnd = x0 + scale(row.value);
    out.push(
      `<text x="${x0 - 8}" y="${num(middle + 4)}" text-anchor="end" fill="${TEXT}"${
        switchyard ? ' font-weight="700"' : ''
      }>${text(row.target)}</text>`,
      `<rect x="${x0}" y="${num(y)}" width="${num(barEnd - x0)}" height="${BAR}" fill="${colour}"${
        switchyard ? ` stroke="${TEXT}" stroke-width="1"` : ''
      }/>`,
    );
    let labelAt = barEnd;
    const samples = row.samples.filter((v) => Number.isFinite(v));
    if (samples.length > 1) {
      const low = x0 + scale(Math.min(...samples));
      const high = x0 + scale(Math.max(...samples));
      if (high > low) {
        out.push(
          `<path d="M${num(low)} ${num(middle)}H${num(high)}M${num(low)} ${num(middle - CAP)}V${num(
            middle + CAP,
          )}M${num(high)} ${num(middle - CAP)}V${num(middle + CAP)}" stroke="${WHISKER}" stroke-width="1.5" fill="none"/>`,
        );
      }
      labelAt = Math.max(labelAt, high);
    }
    out.push(
      `<text x="${num(labelAt + 6)}" y="${num(middle + 4)}" fill="${TEXT}"${
        switchyard ? ' font-weight="700"' : ''
      }>${text(`${formatValue(row.value, row.unit)}${formatErrors(row.errors)}`)}</text>`,
    );
  });
  out.push(
    `<line x1="${x0}" y1="${HEADER}" x2="${x0}" y2="${HEADER + Math.max(rows.length, 1) * ROW}" stroke="${MUTED_TEXT}" stroke-width="1"/>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}

// One decimal at most, so coordinates are short and never print float noise like 0.30000000000000004.
function num(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** Text content escaped for XML; control characters, which XML 1.0 forbids even escaped, dropped. */
function text(value: string): string {
  return (
    value
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
  );
}

/** An attribute value (always written in double quotes) escaped for XML. */
function attr(value: string): string {
  return text(value).replace(/"/g, '&quot;');
}
