/**
 * The messages a candidate proxy exchanges: its root process with the benchmark driver (over the IPC
 * channel of `fork()`, or as JSON lines on stdout when started by hand), and the root with its
 * workers (over their IPC channels). Plain JSON, checked on arrival, since a message from another
 * process is only `unknown` until proven otherwise.
 */
import { type AcceptMode, isAcceptMode } from './modes.js';

/** The root listens through its workers (or itself, for `single`); `port` is where clients go. */
export interface ReadyReport {
  type: 'ready';
  mode: AcceptMode;
  port: number;
  /** The processes that accept and relay, in worker order; the root's own pid for `single`. */
  workerPids: number[];
}

/** The answer to a {@link CountsRequest}: connections each worker has accepted since it started. */
export interface CountsReport {
  type: 'counts';
  id: number;
  accepted: number[];
}

/** The mode cannot run on this Node.js or kernel; the root exits after saying so. */
export interface UnavailableReport {
  type: 'unavailable';
  reason: string;
}

/** What a candidate's root tells the driver. */
export type CandidateReport = ReadyReport | CountsReport | UnavailableReport;

/** The driver asks for every worker's accepted count; `id` pairs the answer with the question. */
export interface CountsRequest {
  type: 'counts';
  id: number;
}

/** What a worker tells its root: it listens on `port`, or its count for request `id`. */
export type WorkerReport =
  | { type: 'listening'; port: number }
  | { type: 'counted'; id: number; accepted: number };

/**
 * What a root tells a worker: count (answer with `counted`), or take the listening socket sent with
 * this message (`handle-send` only).
 */
export type WorkerCommand = { type: 'count'; id: number } | { type: 'take-server' };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0 && (value as number) < 65_536;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** Whether `value` is a well-formed {@link CandidateReport}. */
export function isCandidateReport(value: unknown): value is CandidateReport {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'ready':
      return (
        typeof value.mode === 'string' &&
        isAcceptMode(value.mode) &&
        isPort(value.port) &&
        Array.isArray(value.workerPids) &&
        value.workerPids.length > 0 &&
        value.workerPids.every((pid) => Number.isInteger(pid) && pid > 0)
      );
    case 'counts':
      return isCount(value.id) && Array.isArray(value.accepted) && value.accepted.every(isCount);
    case 'unavailable':
      return typeof value.reason === 'string';
    default:
      return false;
  }
}

/** Whether `value` is a well-formed {@link CountsRequest}. */
export function isCountsRequest(value: unknown): value is CountsRequest {
  return isRecord(value) && value.type === 'counts' && isCount(value.id);
}

/** Whether `value` is a well-formed {@link WorkerReport}. */
export function isWorkerReport(value: unknown): value is WorkerReport {
  if (!isRecord(value)) return false;
  if (value.type === 'listening') return isPort(value.port);
  return value.type === 'counted' && isCount(value.id) && isCount(value.accepted);
}

/** Whether `value` is a well-formed {@link WorkerCommand}. */
export function isWorkerCommand(value: unknown): value is WorkerCommand {
  if (!isRecord(value)) return false;
  if (value.type === 'count') return isCount(value.id);
  return value.type === 'take-server';
}
