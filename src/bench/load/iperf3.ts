/**
 * iperf3 as a second, independent throughput generator, the standard one: a suite whose own bulk
 * figures disagree with iperf3 through the same path is measuring itself, not the path. Optional:
 * a machine without iperf3 runs the suite without its rows.
 */
import { execFile } from 'node:child_process';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import { findTool, toolOutput } from '../targets/system-tool.js';
import type { Endpoint, LoadResult } from '../types.js';
import { checkCount, checkDuration } from './check-option.js';

/** What {@link runIperf3} measures. */
export interface Iperf3Options {
  /** An `iperf3 -s` server, or a proxy in front of one. */
  endpoint: Endpoint;
  /** Parallel streams (`-P`). */
  streams: number;
  /** Rounded up to whole seconds, the finest `-t` takes. */
  durationMs: number;
  /**
   * `download` (the default, `-R`): the server behind the proxy sends, as in our own bulk load;
   * `upload`: the client sends, iperf3's own default, which drives the proxy's client-side reads.
   */
  direction?: 'download' | 'upload';
}

/** The figures the suite takes from iperf3's JSON report (`-J`). */
export interface Iperf3Report {
  /** Bytes the receiving side counted over all streams. */
  bytes: number;
  /** Length of the receiver's span, seconds. */
  seconds: number;
  /** iperf3's own rate over that span. */
  bitsPerSecond: number;
  /** Streams the report has; fewer than asked means some did not connect. */
  streams: number;
  /** CPU of the iperf3 client over the test, in percent of one core (can exceed 100). */
  clientCpuPercent: number;
}

const VERSION = /^iperf\s+(\d+\.\S+)/m;
// Beyond `-t`: connecting every stream, the end-of-test exchange, and a stuck peer's grace.
const EXTRA_BOUND_MS = 20_000;
const CONNECT_TIMEOUT_MS = 5000;
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
const BUSY = /"error":\s*"[^"]*server is busy/;
const BUSY_RETRIES = 10;
const BUSY_WAIT_MS = 300;

/** iperf3's version (`3.12`) when it is installed, else undefined. */
export async function detectIperf3(): Promise<string | undefined> {
  const command = await findTool('iperf3');
  const output = command === undefined ? undefined : await toolOutput(command, ['--version']);
  return output === undefined ? undefined : VERSION.exec(output)?.[1];
}

/**
 * Runs `iperf3 -c` against `endpoint` for the duration, by default in reverse mode (`-R`: the server
 * sends, the client reads, the direction of our bulk scenario), and reads its JSON. Units are the bytes received;
 * errors are streams that never reported. Rejects when iperf3 fails or overruns its bound.
 */
export async function runIperf3(options: Iperf3Options): Promise<LoadResult> {
  const streams = checkCount('streams', options.streams);
  const seconds = Math.max(1, Math.ceil(checkDuration('durationMs', options.durationMs) / 1000));
  const command = await findTool('iperf3');
  if (command === undefined) throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, 'iperf3 is not installed');
  const { host, port } = options.endpoint;
  const args = ['-c', host, '-p', String(port), '-t', String(seconds), '-P', String(streams), '-J'];
  if (options.direction !== 'upload') args.push('-R');
  args.push('--connect-timeout', String(CONNECT_TIMEOUT_MS));
  // An iperf3 server runs one test at a time and takes a moment to let go of the last one; a run
  // that starts right after another (the next scenario) can be told it is busy. Bounded retries.
  let output = await execIperf3(command, args, seconds);
  for (let retry = 0; retry < BUSY_RETRIES && BUSY.test(output); retry++) {
    await new Promise((resolve) => setTimeout(resolve, BUSY_WAIT_MS));
    output = await execIperf3(command, args, seconds);
  }
  const report = parseIperf3Json(output);
  return {
    units: report.bytes,
    errors: Math.max(0, streams - report.streams),
    elapsedMs: report.seconds * 1000,
    generatorCpuMs: (report.clientCpuPercent / 100) * report.seconds * 1000,
    tool: 'iperf3',
  };
}

function execIperf3(command: string, args: string[], seconds: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    execFile(
      command,
      args,
      { timeout: seconds * 1000 + EXTRA_BOUND_MS, maxBuffer: MAX_OUTPUT_BYTES, encoding: 'utf8' },
      // iperf3 exits non-zero on a failed test but still prints its JSON with the reason in it.
      (err, stdout) =>
        stdout.trim() !== ''
          ? resolve(stdout)
          : reject(err ?? new SwitchyardError(ErrorCodes.ERR_INTERNAL, 'iperf3 printed nothing')),
    );
  });
}

/** Reads iperf3's JSON report; throws with iperf3's own message when the test failed. */
export function parseIperf3Json(text: string): Iperf3Report {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `iperf3 output is not JSON: ${text.slice(0, 200)}`,
      {
        cause: err,
      },
    );
  }
  const report = json as {
    error?: unknown;
    end?: {
      streams?: unknown[];
      sum_received?: { bytes?: unknown; seconds?: unknown; bits_per_second?: unknown };
      cpu_utilization_percent?: { host_total?: unknown };
    };
  };
  if (typeof report.error === 'string') {
    throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, `iperf3 failed: ${report.error}`);
  }
  const received = report.end?.sum_received;
  const bytes = received?.bytes;
  const seconds = received?.seconds;
  const bitsPerSecond = received?.bits_per_second;
  if (
    typeof bytes !== 'number' ||
    typeof seconds !== 'number' ||
    typeof bitsPerSecond !== 'number' ||
    seconds <= 0
  ) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      'iperf3 report has no end.sum_received figures',
    );
  }
  const cpu = report.end?.cpu_utilization_percent?.host_total;
  return {
    bytes,
    seconds,
    bitsPerSecond,
    streams: report.end?.streams?.length ?? 0,
    clientCpuPercent: typeof cpu === 'number' ? cpu : 0,
  };
}
