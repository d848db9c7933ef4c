/**
 * A candidate's root process: checks that its mode can run here, starts the workers (or, for
 * `single`, relays itself), announces the port, answers the driver's count requests, and takes its
 * workers down with it. The driver talks to it over the IPC channel of `fork()`; started by hand, it
 * prints its reports as JSON lines and reads requests as JSON lines on stdin instead.
 */
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { CANDIDATE_HOST, type RootArgs } from './candidate-args.js';
import { type CandidateReport, isCountsRequest } from './control-messages.js';
import { CountingRelay } from './counting-relay.js';
import { listen } from './listen.js';
import { modeAvailability } from './reuse-port-probe.js';
import { launchWorkers } from './worker-launch.js';

/** What the root runs: where clients go, who does the relaying, and how to stop it. */
interface RunningCandidate {
  port: number;
  workerPids: number[];
  counts(): Promise<number[]>;
  stop(): Promise<void>;
}

/** Runs the root until the driver lets go of it (channel or stdin closed) or it is signalled. */
export async function runRoot(args: RootArgs): Promise<void> {
  const availability = await modeAvailability(args.mode);
  if (!availability.available) {
    await tell({ type: 'unavailable', reason: availability.reason });
    process.exit(0);
  }
  const running = args.mode === 'single' ? await relayHere(args.upstreamPort) : await startWorkers(args);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const answer = (request: unknown): void => {
    if (!isCountsRequest(request)) return;
    running.counts().then(
      (accepted) => tell({ type: 'counts', id: request.id, accepted }),
      (err: Error) => {
        process.stderr.write(`candidate root: ${err.message}\n`);
        stop();
      },
    );
  };
  if (process.send !== undefined) {
    process.on('message', answer);
    process.on('disconnect', stop);
  } else {
    const lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => answer(parseJson(line)));
    lines.on('close', stop);
  }
  tell({ type: 'ready', mode: args.mode, port: running.port, workerPids: running.workerPids });
}

async function relayHere(upstreamPort: number): Promise<RunningCandidate> {
  const relay = new CountingRelay(upstreamPort);
  const server = createServer(relay.relay);
  const port = await listen(server, { host: CANDIDATE_HOST, port: 0 });
  return {
    port,
    workerPids: [process.pid],
    counts: async () => [relay.accepted],
    // Not waiting for open connections to end: the process exits right after, which ends them.
    stop: async () => {
      server.close();
    },
  };
}

async function startWorkers(args: RootArgs): Promise<RunningCandidate> {
  const mode = args.mode;
  if (mode === 'single') throw new Error('single runs no workers');
  const { port, workers } = await launchWorkers(mode, args.workers, args.upstreamPort);
  return {
    port,
    workerPids: workers.pids,
    counts: () => workers.counts(),
    stop: () => workers.stop(),
  };
}

/** Sends `report` to the driver; resolves once it is written, so exiting after it cannot drop it. */
function tell(report: CandidateReport): Promise<void> {
  return new Promise((resolve) => {
    if (process.send !== undefined) process.send(report, undefined, {}, () => resolve());
    else process.stdout.write(`${JSON.stringify(report)}\n`, () => resolve());
  });
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
