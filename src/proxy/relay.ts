import type { Socket } from 'node:net';

// Each socket knows the one it relays to. The handlers below are shared by every connection and
// find their peer through this property, so starting a relay allocates no closures; `pipe()`
// would register about seven listeners with fresh closures and state on each side.
const peerOf = Symbol('relayPeer');

type RelaySocket = Socket & { [peerOf]?: Socket };

/**
 * Relays bytes both ways between two connected sockets until both directions have ended, with
 * back-pressure (a side stops reading while the other cannot take more) and half-close (an end
 * of one direction is passed on as an end of the other; the reverse direction keeps flowing).
 * Errors and closes stay with the caller: it owns both sockets' lifetimes.
 */
export function relay(a: Socket, b: Socket): void {
  (a as RelaySocket)[peerOf] = b;
  (b as RelaySocket)[peerOf] = a;
  startDirection(a);
  startDirection(b);
}

function startDirection(from: Socket): void {
  from.on('data', onData);
  from.on('drain', onDrain);
  from.on('end', onEnd);
}

function onData(this: RelaySocket, chunk: Buffer): void {
  // A peer that is already destroyed swallows the write (no error event), and this side pauses:
  // the caller is tearing both down.
  if (!this[peerOf]!.write(chunk)) this.pause();
}

// 'drain' is emitted by the socket that was written to; what resumes is the one reading into it.
function onDrain(this: RelaySocket): void {
  const peer = this[peerOf]!;
  if (peer.isPaused()) peer.resume();
}

function onEnd(this: RelaySocket): void {
  this[peerOf]!.end();
}
