/**
 * A candidate's worker process: gets its listening socket the way its mode prescribes, relays every
 * connection it accepts, tells its root when it listens and, when asked, how many it has accepted.
 */
import { createServer, type Server } from 'node:net';
import { CANDIDATE_HOST, type WorkerArgs } from './candidate-args.js';
import { isWorkerCommand, type WorkerReport } from './control-messages.js';
import { CountingRelay } from './counting-relay.js';
import { listen } from './listen.js';

/** Runs the worker until its root goes away or signals it. */
export function runWorker(args: WorkerArgs): void {
  const send = process.send?.bind(process);
  if (send === undefined) {
    process.stderr.write('candidate worker: started without an IPC channel to its root\n');
    process.exit(2);
  }
  const report = (message: WorkerReport): void => {
    send(message);
  };
  const relay = new CountingRelay(args.upstreamPort);
  const serve = (server: Server): void => {
    server.on('connection', relay.relay);
    server.on('error', fail);
  };

  process.on('message', (message: unknown, handle: unknown) => {
    if (!isWorkerCommand(message)) return;
    if (message.type === 'count') {
      report({ type: 'counted', id: message.id, accepted: relay.accepted });
      return;
    }
    // Node turns the sent listening socket into a net.Server that already listens in this process.
    const server = handle as Server;
    serve(server);
    report({ type: 'listening', port: portOf(server) });
  });
  // Without its root nobody would ever stop this process, so losing the channel ends it.
  process.on('disconnect', () => process.exit(0));

  if (args.mode === 'handle-send') return;
  const server = createServer();
  serve(server);
  // In a cluster worker this listen goes to the primary, which owns the socket (cluster-rr) or hands
  // its handle back (cluster-none); workers asking for port 0 all get the primary's one port.
  const reusePort = args.mode === 'reuseport';
  listen(server, { host: CANDIDATE_HOST, port: reusePort ? args.listenPort : 0, reusePort }).then(
    (port) => report({ type: 'listening', port }),
    fail,
  );
}

function portOf(server: Server): number {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

function fail(err: Error): void {
  process.stderr.write(`candidate worker ${process.pid}: ${err.message}\n`);
  process.exit(1);
}
