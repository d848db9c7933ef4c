/**
 * The root's view of its worker processes, whichever way they were started (`cluster.fork()` gives a
 * ChildProcess too, as `worker.process`): waiting for each to listen, collecting their accepted
 * counts over IPC, and stopping them all with a bounded escalation.
 */
import type { ChildProcess } from 'node:child_process';
import { nextMessage } from './child-message.js';
import { isWorkerReport, type WorkerCommand, type WorkerReport } from './control-messages.js';

const LISTEN_TIMEOUT_MS = 15_000;
const COUNT_TIMEOUT_MS = 5_000;
const STOP_GRACE_MS = 3_000;

/** Resolves with the port `child` reports listening on; rejects when it exits or stays silent. */
export function waitListening(child: ChildProcess): Promise<number> {
  return waitFor(child, LISTEN_TIMEOUT_MS, 'listen', (report) =>
    report.type === 'listening' ? report.port : undefined,
  );
}

/** Worker processes that each relay and count connections. */
export class WorkerGroup {
  readonly #children: readonly ChildProcess[];
  #nextId = 0;

  constructor(children: readonly ChildProcess[]) {
    this.#children = children;
  }

  /** Process ids in worker order. */
  get pids(): number[] {
    return this.#children.map((child) => child.pid as number);
  }

  /** Each worker's accepted connections so far, in worker order. */
  counts(): Promise<number[]> {
    const id = ++this.#nextId;
    return Promise.all(
      this.#children.map((child) => {
        const answer = waitFor(child, COUNT_TIMEOUT_MS, 'report its count', (report) =>
          report.type === 'counted' && report.id === id ? report.accepted : undefined,
        );
        const command: WorkerCommand = { type: 'count', id };
        child.send(command);
        return answer;
      }),
    );
  }

  /** SIGTERM to every worker, SIGKILL to those still running after a grace period; resolves when all exited. */
  async stop(): Promise<void> {
    await Promise.all(this.#children.map(stopChild));
  }
}

/** Stops one child process as {@link WorkerGroup.stop} does. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const escalate = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(escalate);
}

function waitFor<T>(
  child: ChildProcess,
  timeoutMs: number,
  what: string,
  pick: (report: WorkerReport) => T | undefined,
): Promise<T> {
  return nextMessage(child, 'worker', timeoutMs, what, (m) => (isWorkerReport(m) ? pick(m) : undefined));
}
