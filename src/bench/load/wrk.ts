/**
 * wrk as a second, independent request generator: a C tool that is hard to bottleneck, so a row
 * where our generator and wrk agree is a row the generator did not cap. Optional: a machine without
 * wrk runs the suite with our generator alone.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import type { Endpoint, Latency, LoadResult } from '../types.js';
import { checkCount, checkDuration } from './check-option.js';

/** What {@link runWrk} points wrk at and how hard. */
export interface WrkOptions {
  endpoint: Endpoint;
  connections: number;
  /** wrk threads; at most `connections`. */
  threads: number;
  /** Rounded up to whole seconds, the finest wrk takes. */
  durationMs: number;
  /** false sends `Connection: close`, so every request is a new connection. */
  keepAlive: boolean;
}

/** What wrk's text output says about a run. */
export interface WrkReport {
  /** Responses read, whatever their status. */
  requests: number;
  /** Responses with a status outside 2xx and 3xx. */
  non2xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  /** wrk's own measure of the run's length. */
  elapsedMs: number;
  /** Absent when wrk printed no latency distribution (no `--latency`, or nothing completed). */
  latency?: Latency;
}

// wrk prints durations with these units (us for latency, the rest once values grow).
const MS_PER_UNIT: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const TIME = '([\\d.]+)(us|ms|s|m|h)';
const REQUESTS = new RegExp(`(\\d+) requests in ${TIME},`);
const SOCKET_ERRORS = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/;
const NON_2XX = /Non-2xx or 3xx responses: (\d+)/;
const LATENCY_ROW = new RegExp(`^\\s*Latency\\s+${TIME}\\s+${TIME}\\s+${TIME}`, 'm');
const PERCENTILE = (p: number): RegExp => new RegExp(`^\\s*${p}(?:\\.0+)?%\\s+${TIME}\\s*$`, 'm');
const P50 = PERCENTILE(50);
const P90 = PERCENTILE(90);
const P99 = PERCENTILE(99);
const VERSION = /^wrk\s+(\S+)/m;
// utime and stime in /proc are in clock ticks; Linux reports them at USER_HZ, 100 on every
// architecture Node runs on.
const MS_PER_TICK = 10;
const SAMPLE_INTERVAL_MS = 200;

/** wrk's version as it prints it (`4.1.0`, `debian/4.1.0-3+b2`) when `wrk` is on the PATH, else undefined. */
export function detectWrk(): Promise<string | undefined> {
  return new Promise((resolve) => {
    // `wrk -v` prints its banner and usage, then exits with 1: the banner is the answer.
    const child = spawn('wrk', ['-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    child.once('error', () => resolve(undefined));
    child.once('close', () => resolve(VERSION.exec(text)?.[1]));
  });
}

/**
 * Runs wrk (`--latency`) against `http://endpoint/` and reads its result. Units are 2xx/3xx
 * responses; errors are other responses plus wrk's socket errors ({@link wrkErrors}); generator CPU
 * is wrk's own.
 */
export async function runWrk(options: WrkOptions): Promise<LoadResult> {
  const connections = checkCount('connections', options.connections);
  const threads = checkCount('threads', options.threads);
  if (threads > connections)
    throw new RangeError(`threads (${threads}) must not exceed connections (${connections})`);
  const seconds = Math.max(1, Math.ceil(checkDuration('durationMs', options.durationMs) / 1000));
  const { host, port } = options.endpoint;
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency'];
  if (!options.keepAlive) args.push('-H', 'Connection: close');
  args.push(`http://${host}:${port}/`);

  const reapedBefore = await reapedChildrenCpuMs();
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  let sampledCpuMs = 0;
  const sampler = setInterval(() => {
    if (child.pid === undefined) return;
    processCpuMs(child.pid).then(
      (ms) => (sampledCpuMs = Math.max(sampledCpuMs, ms)),
      () => {},
    );
  }, SAMPLE_INTERVAL_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (exitCode) => resolve(exitCode));
  }).finally(() => clearInterval(sampler));
  if (code !== 0)
    throw new SwitchyardError(
      ErrorCodes.ERR_INTERNAL,
      `wrk ${args.join(' ')} exited with ${code}: ${output.trim()}`,
    );

  const report = parseWrkOutput(output);
  return {
    units: report.requests - report.non2xx,
    errors: wrkErrors(report, options.keepAlive),
    elapsedMs: report.elapsedMs,
    latency: report.latency,
    generatorCpuMs: await wrkCpuMs(reapedBefore, sampledCpuMs),
    tool: 'wrk',
  };
}

/** Reads a wrk run's text output; throws when it holds no request count. */
export function parseWrkOutput(text: string): WrkReport {
  const requests = REQUESTS.exec(text);
  if (requests === null)
    throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, `wrk output has no request count: ${text.trim()}`);
  const errors = SOCKET_ERRORS.exec(text);
  const p50 = P50.exec(text);
  const p90 = P90.exec(text);
  const p99 = P99.exec(text);
  const row = LATENCY_ROW.exec(text);
  // With nothing completed wrk still prints a distribution, of zeros, which is no latency.
  const count = Number(requests[1]);
  const complete = count > 0 && p50 !== null && p90 !== null && p99 !== null && row !== null;
  return {
    requests: count,
    non2xx: Number(NON_2XX.exec(text)?.[1] ?? 0),
    // wrk prints the line only when one of them is not zero.
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
    elapsedMs: toMs(requests[2], requests[3]),
    latency: complete
      ? {
          p50: toMs(p50[1], p50[2]),
          p90: toMs(p90[1], p90[2]),
          p99: toMs(p99[1], p99[2]),
          max: toMs(row[5], row[6]),
        }
      : undefined,
  };
}

/**
 * Failed requests in a wrk report. With `Connection: close` wrk counts the server's close after each
 * complete response as a read error (it hands the end of file to its parser as a failed read), so
 * there only read errors beyond one per request are real ones.
 */
export function wrkErrors(report: WrkReport, keepAlive: boolean): number {
  const { connect, read, write, timeout } = report.socketErrors;
  const realRead = keepAlive ? read : Math.max(0, read - report.requests);
  return report.non2xx + connect + realRead + write + timeout;
}

function toMs(value: string, unit: string): number {
  return Number(value) * MS_PER_UNIT[unit];
}

/**
 * wrk's CPU: exact from our reaped children's total when /proc has it (the suite's other children
 * run through the whole suite, so nothing else is reaped meanwhile), else the last sample of its
 * own counters, which misses at most its last {@link SAMPLE_INTERVAL_MS}.
 */
async function wrkCpuMs(reapedBefore: number | undefined, sampledCpuMs: number): Promise<number> {
  const reapedAfter = await reapedChildrenCpuMs();
  if (reapedBefore === undefined || reapedAfter === undefined) return sampledCpuMs;
  return Math.max(sampledCpuMs, reapedAfter - reapedBefore);
}

/** user + system ms of process `pid` and all its threads, from `/proc/<pid>/stat`. */
async function processCpuMs(pid: number): Promise<number> {
  const fields = statFields(await readFile(`/proc/${pid}/stat`, 'utf8'));
  return (Number(fields[13]) + Number(fields[14])) * MS_PER_TICK;
}

/** user + system ms of this process's terminated and reaped children (cutime + cstime). */
async function reapedChildrenCpuMs(): Promise<number | undefined> {
  try {
    const fields = statFields(await readFile('/proc/self/stat', 'utf8'));
    return (Number(fields[15]) + Number(fields[16])) * MS_PER_TICK;
  } catch {
    return undefined;
  }
}

// The command name (field 2) is in parentheses and may hold spaces; the fields after it are plain.
// Returned with the usual 0-based numbering of proc(5)'s 1-based fields: fields[13] is utime.
function statFields(stat: string): string[] {
  const close = stat.lastIndexOf(')');
  return [
    '',
    '',
    ...stat
      .slice(close + 2)
      .trim()
      .split(' '),
  ];
}
