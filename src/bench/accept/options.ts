/** The accept benchmark's command line (`npm run bench:accept -- [options]`). */
import { parseArgs } from 'node:util';
import { MAX_WORKERS } from './candidate-args.js';
import { ACCEPT_MODES, type AcceptMode, isAcceptMode } from './modes.js';

/** How to run the accept benchmark. */
export interface AcceptBenchOptions {
  /** Length of each measured load run, ms (wrk rounds it up to whole seconds). */
  durationMs: number;
  repetitions: number;
  /** Workers of every multi-process mode; `single` always runs one. */
  workers: number;
  modes: AcceptMode[];
  /** Load per candidate before the first measured run, ms; 0 for none. */
  warmupMs: number;
  /** Drive the load with wrk when it is installed (else, or with --no-wrk, the suite's generator). */
  wrk: boolean;
  /** Also write every sample and summary to this JSON file. */
  jsonPath?: string;
  help: boolean;
}

/** Defaults: 3 repetitions of 5 s, 2 workers, every mode. */
export const ACCEPT_DEFAULTS = {
  durationMs: 5000,
  repetitions: 3,
  workers: 2,
  warmupMs: 1000,
} as const;

// A run longer than this is a typo (a duration in µs), not a measurement.
const MAX_DURATION_MS = 10 * 60 * 1000;
const MAX_REPETITIONS = 100;

/** The options' help text. */
export const ACCEPT_USAGE = `usage: node dist/src/bench/accept/main.js [options]
  --duration <ms>       each measured load run (default ${ACCEPT_DEFAULTS.durationMs}; wrk takes whole seconds)
  --repetitions <n>     repetitions, medians reported (default ${ACCEPT_DEFAULTS.repetitions})
  --workers <n>         workers of each multi-process mode (default ${ACCEPT_DEFAULTS.workers})
  --modes <a,b,...>     modes to run (default all: ${ACCEPT_MODES.join(',')})
  --warmup <ms>         load per candidate before measuring (default ${ACCEPT_DEFAULTS.warmupMs})
  --no-wrk              use the suite's own generator even when wrk is installed
  --json <file>         also write every sample and summary as JSON
  --help                this text`;

/** Reads the benchmark's arguments; throws a RangeError or TypeError naming a bad one. */
export function parseAcceptOptions(argv: readonly string[]): AcceptBenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: 'string' },
      repetitions: { type: 'string' },
      workers: { type: 'string' },
      modes: { type: 'string' },
      warmup: { type: 'string' },
      'no-wrk': { type: 'boolean' },
      json: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  return {
    durationMs: integerOption('duration', values.duration, ACCEPT_DEFAULTS.durationMs, 1, MAX_DURATION_MS),
    repetitions: integerOption(
      'repetitions',
      values.repetitions,
      ACCEPT_DEFAULTS.repetitions,
      1,
      MAX_REPETITIONS,
    ),
    workers: integerOption('workers', values.workers, ACCEPT_DEFAULTS.workers, 1, MAX_WORKERS),
    modes: modesOption(values.modes),
    warmupMs: integerOption('warmup', values.warmup, ACCEPT_DEFAULTS.warmupMs, 0, MAX_DURATION_MS),
    wrk: values['no-wrk'] !== true,
    jsonPath: values.json,
    help: values.help === true,
  };
}

function integerOption(
  name: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

function modesOption(text: string | undefined): AcceptMode[] {
  if (text === undefined) return [...ACCEPT_MODES];
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !isAcceptMode(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new RangeError(`--modes takes a list of ${ACCEPT_MODES.join(', ')}; got "${text}"`);
  }
  // Report order, not the order typed, and each mode once.
  return ACCEPT_MODES.filter((mode) => names.includes(mode));
}
