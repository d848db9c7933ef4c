/** The accept benchmark's results as Markdown tables, the form `docs/BENCHMARKS.md` keeps them in. */
import { formatErrors, formatNumber } from '../report/format.js';
import type { AcceptMode } from './modes.js';
import { formatSpread, type LoadSummary } from './summary.js';

/** One candidate's figures: new connections and keep-alive requests. */
export interface ModeResult {
  mode: AcceptMode;
  /** Processes that accept and relay. */
  workers: number;
  connect: LoadSummary;
  keepAlive: LoadSummary;
}

const HEADER = [
  'mode',
  'conn/s',
  'CPU per new conn',
  'root share of CPU',
  'spread of new conns',
  'keep-alive req/s',
  'CPU per keep-alive req',
  'spread of keep-alive conns',
];

/** The medians, one row per mode, with the spread of connections over the workers. */
export function formatResultTable(results: readonly ModeResult[]): string {
  const rows = results.map((r) => [
    `${r.mode} (${r.workers})`,
    formatNumber(r.connect.rate) + formatErrors(r.connect.errors),
    micros(r.connect.cpuMicrosPerUnit),
    share(r.connect.primaryCpuShare),
    formatSpread(r.connect.accepted),
    formatNumber(r.keepAlive.rate) + formatErrors(r.keepAlive.errors),
    micros(r.keepAlive.cpuMicrosPerUnit),
    formatSpread(r.keepAlive.accepted),
  ]);
  return markdownTable(HEADER, rows, [false, true, true, true, true, true, true, true]);
}

/** Every repetition's figures behind the medians, so the noise is visible. */
export function formatSampleTable(results: readonly ModeResult[]): string {
  const rows = results.map((r) => [
    r.mode,
    r.connect.rates.map(formatNumber).join(', '),
    r.connect.cpuMicros.map(formatNumber).join(', '),
    r.keepAlive.rates.map(formatNumber).join(', '),
    r.keepAlive.cpuMicros.map(formatNumber).join(', '),
  ]);
  return markdownTable(
    ['mode', 'conn/s, each run', 'µs per conn, each run', 'req/s, each run', 'µs per req, each run'],
    rows,
    [false, false, false, false, false],
  );
}

function micros(value: number): string {
  return Number.isNaN(value) ? 'n/a' : `${formatNumber(value)} µs`;
}

function share(value: number | undefined): string {
  return value === undefined ? '—' : `${(value * 100).toFixed(value < 0.1 ? 1 : 0)} %`;
}

function markdownTable(header: string[], rows: string[][], rightAligned: boolean[]): string {
  const rule = rightAligned.map((right) => (right ? '---:' : '---'));
  return [header, rule, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
