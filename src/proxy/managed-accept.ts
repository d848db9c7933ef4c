import { type Server, Socket } from 'node:net';
import { managedReadOptions } from './relay.js';

// Node gives `onread` (reads into buffers the caller manages) to sockets it connects, but not to
// sockets a server accepts: those read each chunk into a fresh 64 KiB allocation. In a process the
// size of the balancer, the allocator hands those pages back to the system between garbage
// collections and every read faults them in again: measured with `perf stat` on an iperf3 upload
// through a plain TCP listener, 75 000 page faults a second and 0.55x the throughput of a 30-line
// `pipe` proxy. So accepted sockets are built here, the way net.Server builds them, with the
// relay's managed read buffers.

/** The libuv handle a listening net.Server accepts on; Node's own, not a public API. */
interface AcceptHandle {
  onconnection: (err: number, clientHandle: unknown) => void;
}

/** The few net.Server internals the accept path keeps in step (its connection count for close). */
interface ServerInternals {
  _handle: AcceptHandle | null;
  _connections: number;
  allowHalfOpen: boolean;
}

/**
 * After `server` is listening: connections for which `wanted()` is true get sockets that read into
 * the relay's managed buffers and start paused (nothing is read until the relay, or a close that
 * drains, resumes them) and get TCP_NODELAY unless `noDelayPerSocket` is false (the listening socket
 * passed it on); the others are built exactly as Node builds them. Returns false, changing
 * nothing, when this Node's server has no handle of the expected shape: the sockets then read the
 * default way, slower but correct.
 */
export function acceptIntoManagedBuffers(
  server: Server,
  wanted: () => boolean,
  noDelayPerSocket = true,
): boolean {
  const internals = server as unknown as ServerInternals;
  const handle = internals._handle;
  if (handle === null || typeof handle.onconnection !== 'function') return false;
  const nodeAccept = handle.onconnection;
  handle.onconnection = function onManagedConnection(this: AcceptHandle, err, clientHandle) {
    if (err !== 0 || !wanted()) {
      nodeAccept.call(this, err, clientHandle);
      return;
    }
    const socket = new Socket({
      handle: clientHandle,
      allowHalfOpen: internals.allowHalfOpen,
      pauseOnCreate: true,
      readable: true,
      writable: true,
      onread: managedReadOptions,
    } as ConstructorParameters<typeof Socket>[0]);
    if (noDelayPerSocket) socket.setNoDelay(true);
    internals._connections++;
    (socket as unknown as { server: Server; _server: Server }).server = server;
    (socket as unknown as { _server: Server })._server = server;
    server.emit('connection', socket);
  };
  return true;
}
