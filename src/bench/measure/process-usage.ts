/**
 * One process's CPU time and resident memory, read from `/proc/<pid>/stat` and `/proc/<pid>/status`.
 * A process can exit between any two reads; every reader here answers `undefined` for a process that
 * is gone instead of throwing, so callers can skip it.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** The fields of `/proc/<pid>/stat` the bench uses. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** One letter: R running, S sleeping, Z zombie, ... */
  state: string;
  /** utime + stime in clock ticks; a process's line already covers all of its threads. */
  cpuTicks: number;
}

/** CPU and memory of one process. */
export interface ProcessUsage {
  pid: number;
  /** user + system CPU in ms, all threads. */
  cpuMs: number;
  /** VmRSS in bytes; 0 for a zombie, which has no memory left. */
  rssBytes: number;
}

// Fields counted from 1 as proc(5) numbers them; the text after the comm's closing ')' starts at 3.
const FIRST_FIELD_AFTER_COMM = 3;
const PPID_FIELD = 4;
const UTIME_FIELD = 14;
const STIME_FIELD = 15;
// USER_HZ is 100 on every Linux architecture Node runs on; getconf only confirms it.
const DEFAULT_CLOCK_TICKS = 100;

let clockTicks: number | undefined;

/** Clock ticks per second of `/proc` CPU times (`getconf CLK_TCK`, read once; 100 if that fails). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    clockTicks = DEFAULT_CLOCK_TICKS;
    try {
      const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
      if (Number.isInteger(value) && value > 0) clockTicks = value;
    } catch {
      // No getconf: keep the Linux constant.
    }
  }
  return clockTicks;
}

/** Converts clock ticks to milliseconds. */
export function ticksToMs(ticks: number): number {
  return (ticks * 1000) / clockTicksPerSecond();
}

/**
 * Parses one `/proc/<pid>/stat` line; undefined when it is empty or malformed (a process that exited
 * while being read). The command name sits in parentheses and may itself hold spaces and
 * parentheses, so the fields are taken after the last `)`.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number) => fields[n - FIRST_FIELD_AFTER_COMM];
  const ppid = Number(field(PPID_FIELD));
  const utime = Number(field(UTIME_FIELD));
  const stime = Number(field(STIME_FIELD));
  const state = field(FIRST_FIELD_AFTER_COMM) ?? '';
  if (![pid, ppid, utime, stime].every(Number.isInteger) || state.length === 0) return undefined;
  return { pid, ppid, state, cpuTicks: utime + stime };
}

/** VmRSS of a `/proc/<pid>/status` text in bytes; 0 when the line is absent (zombies, kernel threads). */
export function parseVmRssBytes(text: string): number {
  const match = /^VmRSS:\s*(\d+)\s*kB/m.exec(text);
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** Reads `/proc/<pid>/stat`; undefined when the process is gone. */
export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  const text = await readProcFile(pid, 'stat');
  return text === undefined ? undefined : parseProcStat(text);
}

/** Reads VmRSS from `/proc/<pid>/status` in bytes; undefined when the process is gone. */
export async function readRssBytes(pid: number): Promise<number | undefined> {
  const text = await readProcFile(pid, 'status');
  return text === undefined ? undefined : parseVmRssBytes(text);
}

/** CPU and memory of one process (threads included, children not); undefined when it is gone. */
export async function readProcessUsage(pid: number): Promise<ProcessUsage | undefined> {
  const stat = await readProcStat(pid);
  if (stat === undefined) return undefined;
  const rssBytes = await readRssBytes(pid);
  if (rssBytes === undefined) return undefined;
  return { pid, cpuMs: ticksToMs(stat.cpuTicks), rssBytes };
}

/** Whether a process has exited: no `/proc` entry, or only a zombie's waiting to be reaped. */
export async function processGone(pid: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat === undefined || stat.state === 'Z' || stat.state === 'X';
}

async function readProcFile(pid: number, name: string): Promise<string | undefined> {
  try {
    return await readFile(`/proc/${pid}/${name}`, 'utf8');
  } catch (err) {
    // ENOENT before open, ESRCH when the process exits between open and read.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw err;
  }
}
