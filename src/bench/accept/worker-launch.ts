/**
 * How a candidate's root starts its N workers in each multi-process mode; each launcher resolves
 * once every worker listens, with the one port they share.
 */
import { type ChildProcess, fork } from 'node:child_process';
import cluster from 'node:cluster';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CANDIDATE_HOST, workerArgv } from './candidate-args.js';
import type { WorkerCommand } from './control-messages.js';
import { listen } from './listen.js';
import type { AcceptMode } from './modes.js';
import { stopChild, WorkerGroup, waitListening } from './worker-group.js';

const CANDIDATE_SCRIPT = fileURLToPath(new URL('./candidate.js', import.meta.url));

/** Workers that listen on one shared port. */
export interface LaunchedWorkers {
  port: number;
  workers: WorkerGroup;
}

/** Starts `count` workers of the multi-process `mode` relaying to `upstreamPort`. */
export async function launchWorkers(
  mode: Exclude<AcceptMode, 'single'>,
  count: number,
  upstreamPort: number,
): Promise<LaunchedWorkers> {
  const started: ChildProcess[] = [];
  try {
    switch (mode) {
      case 'cluster-rr':
      case 'cluster-none':
        return await launchCluster(mode, count, upstreamPort, started);
      case 'handle-send':
        return await launchHandleSend(count, upstreamPort, started);
      case 'reuseport':
        return await launchReusePort(count, upstreamPort, started);
    }
  } catch (err) {
    // A launch that failed half way must not leave the workers it did start running.
    await Promise.all(started.map(stopChild));
    throw err;
  }
}

async function launchCluster(
  mode: 'cluster-rr' | 'cluster-none',
  count: number,
  upstreamPort: number,
  started: ChildProcess[],
): Promise<LaunchedWorkers> {
  // The policy is frozen at the first fork, and NODE_CLUSTER_SCHED_POLICY in the environment would
  // otherwise decide it, so it is set here for both modes.
  cluster.schedulingPolicy = mode === 'cluster-none' ? cluster.SCHED_NONE : cluster.SCHED_RR;
  cluster.setupPrimary({ exec: CANDIDATE_SCRIPT, args: workerArgv(mode, upstreamPort, 0) });
  for (let i = 0; i < count; i++) {
    const worker = cluster.fork();
    // cluster re-emits its process's errors on the Worker, which would throw without a listener.
    worker.on('error', () => {});
    adopt(started, worker.process);
  }
  const ports = await Promise.all(started.map(waitListening));
  return { port: samePort(ports), workers: new WorkerGroup(started) };
}

async function launchHandleSend(
  count: number,
  upstreamPort: number,
  started: ChildProcess[],
): Promise<LaunchedWorkers> {
  // No connection listener: the root never relays. That alone is not enough, though: while this
  // server stays open the root's own accept watcher takes its share of connections (which then hang,
  // nobody serving them), so it is closed once every worker listens on its copy of the socket.
  const server = createServer();
  const port = await listen(server, { host: CANDIDATE_HOST, port: 0 });
  try {
    for (let i = 0; i < count; i++)
      adopt(started, fork(CANDIDATE_SCRIPT, workerArgv('handle-send', upstreamPort, 0)));
    const listening = started.map(waitListening);
    const command: WorkerCommand = { type: 'take-server' };
    for (const child of started) child.send(command, server);
    samePort([port, ...(await Promise.all(listening))]);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return { port, workers: new WorkerGroup(started) };
}

async function launchReusePort(
  count: number,
  upstreamPort: number,
  started: ChildProcess[],
): Promise<LaunchedWorkers> {
  // The first worker lets the kernel pick the port, the others join it: nothing is bound in the root,
  // which would otherwise be one more member of the port's group that the kernel hands connections to.
  adopt(started, fork(CANDIDATE_SCRIPT, workerArgv('reuseport', upstreamPort, 0)));
  const port = await waitListening(started[0]);
  for (let i = 1; i < count; i++)
    adopt(started, fork(CANDIDATE_SCRIPT, workerArgv('reuseport', upstreamPort, port)));
  samePort([port, ...(await Promise.all(started.slice(1).map(waitListening)))]);
  return { port, workers: new WorkerGroup(started) };
}

/**
 * Keeps `child` for stopping later. A failed spawn, or a send to a worker that just died, is
 * reported as an 'error' event; the worker's exit is what the root acts on, so the event must not
 * crash it.
 */
function adopt(started: ChildProcess[], child: ChildProcess): void {
  child.on('error', () => {});
  started.push(child);
}

function samePort(ports: number[]): number {
  const distinct = new Set(ports);
  if (distinct.size !== 1) throw new Error(`workers listen on different ports: ${[...distinct].join(', ')}`);
  return ports[0];
}
