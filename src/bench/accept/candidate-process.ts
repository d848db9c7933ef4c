/**
 * The driver's side of a candidate proxy: forks its root with an IPC channel, waits for it to listen
 * (or to say its mode cannot run here), asks it for the workers' accepted counts, and stops its whole
 * process tree. The channel doubles as a lifeline: if the driver dies, the root sees it close and
 * stops its workers, so a crash leaves nothing running.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { findTreePids } from '../measure/process-tree.js';
import { processGone } from '../measure/process-usage.js';
import { nextMessage } from './child-message.js';
import { type CandidateReport, type CountsRequest, isCandidateReport } from './control-messages.js';
import { type AcceptMode, MODE_DESCRIPTIONS } from './modes.js';

const CANDIDATE_SCRIPT = fileURLToPath(new URL('./candidate.js', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const COUNTS_TIMEOUT_MS = 10_000;
// The root's own grace for its workers is 3 s; this leaves it time to use it.
const STOP_GRACE_MS = 5_000;
const REAP_BOUND_MS = 5_000;
const POLL_MS = 20;

/** A candidate that listens on 127.0.0.1:`port`. */
export interface CandidateProcess {
  mode: AcceptMode;
  /** The root process: the whole tree under it is the proxy whose CPU is measured. */
  pid: number;
  port: number;
  /** The processes that accept and relay; `[pid]` for `single`. */
  workerPids: number[];
  /** Each worker's accepted connections since it started. */
  counts(): Promise<number[]>;
  /** Stops the root and every process under it; resolves once none is left. */
  stop(): Promise<void>;
}

/** A started candidate, or why its mode cannot run here. */
export type StartOutcome = { candidate: CandidateProcess } | { unavailable: string };

/** Starts a candidate of `mode` with `workers` workers relaying to 127.0.0.1:`upstreamPort`. */
export async function startCandidate(
  mode: AcceptMode,
  workers: number,
  upstreamPort: number,
): Promise<StartOutcome> {
  // stdout is unused with a channel; stderr stays ours, so a failing worker is heard.
  const child = fork(CANDIDATE_SCRIPT, [mode, String(workers), String(upstreamPort)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('error', () => {});
  let report: CandidateReport;
  try {
    report = await nextReport(child, READY_TIMEOUT_MS, `start (${MODE_DESCRIPTIONS[mode]})`, () => true);
  } catch (err) {
    await stopTree(child, exited);
    throw err;
  }
  if (report.type === 'unavailable') {
    await stopTree(child, exited);
    return { unavailable: report.reason };
  }
  if (report.type !== 'ready') {
    await stopTree(child, exited);
    throw new Error(`candidate ${mode} answered ${report.type} before it was ready`);
  }
  let nextId = 0;
  const candidate: CandidateProcess = {
    mode,
    pid: child.pid as number,
    port: report.port,
    workerPids: report.workerPids,
    counts: async () => {
      const id = ++nextId;
      const answer = nextReport(
        child,
        COUNTS_TIMEOUT_MS,
        'report counts',
        (r) => r.type === 'counts' && r.id === id,
      );
      const request: CountsRequest = { type: 'counts', id };
      child.send(request);
      const counts = await answer;
      if (counts.type !== 'counts') throw new Error(`candidate ${mode} answered ${counts.type}`);
      return counts.accepted;
    },
    stop: () => stopTree(child, exited),
  };
  return { candidate };
}

/** The next report from `child` that `wanted` accepts; rejects when it exits or takes too long. */
function nextReport(
  child: ChildProcess,
  timeoutMs: number,
  what: string,
  wanted: (report: CandidateReport) => boolean,
): Promise<CandidateReport> {
  return nextMessage(child, 'candidate', timeoutMs, what, (m) =>
    isCandidateReport(m) && wanted(m) ? m : undefined,
  );
}

/**
 * SIGTERM to the root (it stops its workers), SIGKILL to every process of the tree if that takes
 * too long; then waits until none of them runs. The tree is read before the signal because workers
 * of a root that died are no longer under it.
 */
async function stopTree(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const pid = child.pid;
  if (pid === undefined) return;
  const tree = running() ? await findTreePids([pid]) : [];
  if (running()) {
    signal(pid, 'SIGTERM');
    const graceful = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
    if (!graceful) for (const member of new Set([pid, ...tree])) signal(member, 'SIGKILL');
    await exited;
  }
  if (child.connected) child.disconnect();
  const deadline = Date.now() + REAP_BOUND_MS;
  for (const member of tree.filter((p) => p !== pid)) {
    while (!(await processGone(member))) {
      if (Date.now() > deadline) throw new Error(`process ${member} of candidate ${pid} is still running`);
      signal(member, 'SIGKILL');
      await sleep(POLL_MS);
    }
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (err) {
    // Gone between the look and the signal.
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
