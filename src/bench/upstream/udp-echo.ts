/**
 * The UDP echo bench upstream: every datagram goes back to the address and port it came from, as it
 * came. The UDP rows send one datagram per client and wait for it, so each reply proves a round trip.
 */
import type { RemoteInfo, Socket } from 'node:dgram';

/** Echoes every datagram `socket` receives to its sender; a failed send is dropped (the client resends). */
export function serveUdpEcho(socket: Socket): void {
  socket.on('message', (datagram: Buffer, from: RemoteInfo) => {
    socket.send(datagram, from.port, from.address, ignore);
  });
}

// With a callback a failed send is not also an 'error' event on the socket.
function ignore(): void {}
