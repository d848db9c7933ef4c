/**
 * The `echo` bench upstream (plain and mutual TLS): writes back what it reads. The handshake and idle
 * scenarios send one byte and wait for it, which proves their connection reached the upstream.
 */
import type { Socket } from 'node:net';

/** Echoes `socket` to itself with back-pressure until either side ends; errors close it quietly. */
export function serveEcho(socket: Socket): void {
  socket.setNoDelay(true);
  socket.on('error', ignore);
  socket.pipe(socket);
}

function ignore(): void {}
