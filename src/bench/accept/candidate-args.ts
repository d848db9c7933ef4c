/**
 * The command line of a candidate proxy process. The driver starts the root as
 * `candidate.js <mode> <workers> <upstream-port>`; the root starts each worker as
 * `candidate.js worker <mode> <upstream-port> <listen-port>` (port 0: wherever the mode decides).
 * Everything listens and connects on 127.0.0.1 only.
 */
import { type AcceptMode, isAcceptMode } from './modes.js';

/** The loopback address every candidate listens on and connects to. */
export const CANDIDATE_HOST = '127.0.0.1';

/** Most workers a candidate starts: far above what a 2-core machine can use, low enough to stop a typo. */
export const MAX_WORKERS = 64;

/** The root process of a candidate: starts the workers of `mode` (none for `single`). */
export interface RootArgs {
  role: 'root';
  mode: AcceptMode;
  workers: number;
  upstreamPort: number;
}

/** A worker process: relays the connections it accepts to the upstream. */
export interface WorkerArgs {
  role: 'worker';
  mode: AcceptMode;
  upstreamPort: number;
  /** Where a `reuseport` worker listens; 0 asks the kernel for a port. Unused by the other modes. */
  listenPort: number;
}

/** Reads a candidate's arguments (those after the script); throws a RangeError naming the bad one. */
export function parseCandidateArgs(argv: readonly string[]): RootArgs | WorkerArgs {
  if (argv[0] === 'worker') {
    const [, mode, upstream, listen] = argv;
    return {
      role: 'worker',
      mode: checkMode(mode),
      upstreamPort: checkPort('upstream port', upstream, false),
      listenPort: checkPort('listen port', listen, true),
    };
  }
  const [mode, workers, upstream] = argv;
  const parsedMode = checkMode(mode);
  const count = Number(workers);
  if (!Number.isInteger(count) || count < 1 || count > MAX_WORKERS) {
    throw new RangeError(`workers must be an integer from 1 to ${MAX_WORKERS}, got ${workers}`);
  }
  if (parsedMode === 'single' && count !== 1) {
    throw new RangeError(`mode single runs one process, so workers must be 1, got ${count}`);
  }
  return {
    role: 'root',
    mode: parsedMode,
    workers: count,
    upstreamPort: checkPort('upstream port', upstream, false),
  };
}

/** The arguments that start a worker of `mode`, for {@link parseCandidateArgs} in the child. */
export function workerArgv(mode: AcceptMode, upstreamPort: number, listenPort: number): string[] {
  return ['worker', mode, String(upstreamPort), String(listenPort)];
}

function checkMode(mode: string | undefined): AcceptMode {
  if (mode === undefined || !isAcceptMode(mode)) throw new RangeError(`unknown accept mode: ${mode}`);
  return mode;
}

function checkPort(name: string, text: string | undefined, zeroAllowed: boolean): number {
  const port = Number(text);
  const lowest = zeroAllowed ? 0 : 1;
  if (text === undefined || text === '' || !Number.isInteger(port) || port < lowest || port > 65_535) {
    throw new RangeError(`${name} must be an integer from ${lowest} to 65535, got ${text}`);
  }
  return port;
}
