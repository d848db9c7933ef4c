/**
 * The `bulk` bench upstream: an endless stream of one preallocated 256 KiB buffer per connection, for
 * throughput. It writes only as fast as the connection drains, so a slow reader never makes it buffer.
 */
import type { Socket } from 'node:net';

/** Size of the buffer the bulk upstream writes over and over. */
export const BULK_CHUNK_BYTES = 256 * 1024;

const CHUNK = Buffer.alloc(BULK_CHUNK_BYTES, 'switchyard bench ', 'latin1');

/** Streams the bulk buffer to `socket` until it closes, honouring back-pressure; discards what it reads. */
export function serveBulk(socket: Socket): void {
  socket.setNoDelay(true);
  socket.on('error', ignore);
  // Flowing without a 'data' listener drops what the client sends, which is all it is good for.
  socket.resume();
  const pump = (): void => {
    while (socket.writable && socket.write(CHUNK)) {}
  };
  socket.on('drain', pump);
  pump();
}

function ignore(): void {}
