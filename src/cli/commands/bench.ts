/** `switchyard bench`: the proxy benchmark suite against direct, the naive Node.js proxy, HAProxy and NGINX. */
import { dirname, join, resolve } from 'node:path';
import { toJson } from '../../bench/report/json.js';
import { LOAD_DETAIL_HEADER, loadDetailRows } from '../../bench/report/load-details.js';
import { writeBenchmarksDoc } from '../../bench/report/markdown.js';
import { createProgress } from '../../bench/report/progress.js';
import { alignColumns, formatTable } from '../../bench/report/table.js';
import { FULL_DEFAULTS, QUICK_DEFAULTS, runSuite, selectScenarios } from '../../bench/suite.js';
import { parseTargetList } from '../../bench/targets/target-list.js';
import type { TargetName } from '../../bench/types.js';
import { ExitCodes } from '../exit-codes.js';

/** Options of `switchyard bench`, as commander parses them. */
export interface BenchOptions {
  quick?: boolean;
  json?: boolean;
  targets: string;
  scenarios?: string;
  repetitions?: string;
  duration?: string;
  idle?: string;
  wrk: boolean;
  iperf3: boolean;
  docs?: string;
}

/** Runs the suite, prints the table (or JSON) and, with `--docs`, rewrites the benchmarks doc. */
export async function benchCommand(options: BenchOptions): Promise<void> {
  const preset = options.quick ? QUICK_DEFAULTS : FULL_DEFAULTS;
  let targets: TargetName[];
  try {
    targets = parseTargetList(options.targets);
  } catch (err) {
    return usage((err as Error).message);
  }
  const scenarios = list(options.scenarios ?? '');
  try {
    selectScenarios(scenarios);
  } catch (err) {
    return usage((err as Error).message);
  }
  const repetitions = count('--repetitions', options.repetitions, preset.repetitions);
  const durationMs = count('--duration', options.duration, preset.durationMs);
  const idleConnections = count('--idle', options.idle, preset.idleConnections);
  if (repetitions === undefined || durationMs === undefined || idleConnections === undefined) return;

  // The first Ctrl-C lets the run in progress finish and stops every process the suite started;
  // a second one exits at once.
  const abort = new AbortController();
  const interrupt = () => {
    if (abort.signal.aborted) process.exit(ExitCodes.failure);
    process.stderr.write('\nstopping after the current run (Ctrl-C again to quit at once)\n');
    abort.abort();
  };
  process.on('SIGINT', interrupt);
  let report: Awaited<ReturnType<typeof runSuite>>;
  try {
    report = await runSuite({
      targets,
      scenarios,
      repetitions,
      durationMs,
      idleConnections,
      warmupMs: preset.warmupMs,
      wrk: options.wrk,
      iperf3: options.iperf3,
      quick: options.quick === true,
      command: `switchyard ${process.argv.slice(2).join(' ')}`,
      progress: (total) => createProgress({ total }),
      signal: abort.signal,
    });
  } catch (err) {
    if (!abort.signal.aborted) throw err;
    process.stderr.write('bench interrupted; every process it started is stopped\n');
    process.exitCode = ExitCodes.failure;
    return;
  } finally {
    process.removeListener('SIGINT', interrupt);
  }

  if (options.json) process.stdout.write(toJson(report));
  else {
    process.stdout.write(formatTable(report.results, targets));
    process.stdout.write(`\n${alignColumns(LOAD_DETAIL_HEADER, loadDetailRows(report.results))}\n`);
    for (const note of report.notes) process.stdout.write(`- ${note}\n`);
  }
  // Warnings go to stderr as well, so neither --json nor a long table can hide them.
  for (const warning of report.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
  if (options.docs !== undefined) {
    const doc = resolve(options.docs);
    await writeBenchmarksDoc(doc, join(dirname(doc), 'bench'), report);
    process.stderr.write(`wrote ${doc} and its charts\n`);
  }
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function count(flag: string, value: string | undefined, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    usage(`${flag} must be a positive whole number, got "${value}"`);
    return undefined;
  }
  return n;
}

function usage(message: string): void {
  process.stderr.write(`switchyard bench: ${message}\n`);
  process.exitCode = ExitCodes.usage;
}
