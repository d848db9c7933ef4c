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

// Sockets read into buffers the relay manages instead of Node's default of a fresh
// 64 KiB allocation per read, which in bulk transfers costs page faults and allocator calls on
// every chunk (about half the proxy's CPU per byte, see docs/BENCHMARKS.md). Two kinds:
// - one small buffer shared by every socket that is not streaming: what is read into it is copied
//   out before the callback returns, so the next read of any socket may reuse it;
// - a 64 KiB buffer of its own for a socket that streams (its last read filled the shared one).
//   Its bytes are written to the peer without a copy; if the write cannot finish at once, the
//   pending write keeps that buffer and the socket gets another one.
// A buffer is never read into while a pending write may still hold it, and never by two sockets.
const SHARED_BUFFER_BYTES = 16 * 1024;
const STREAM_BUFFER_BYTES = 64 * 1024;
// Free stream buffers kept for the next streaming socket; more would only be memory nobody uses.
const POOL_LIMIT = 32;

const sharedBuffer = Buffer.allocUnsafe(SHARED_BUFFER_BYTES);
const pool: Buffer[] = [];
// Node asks for the next read's buffer right after the read callback returns, without saying
// which socket it is for; the callback leaves the answer here.
let nextBuffer: Buffer = sharedBuffer;

/**
 * `onread` options that make a socket read into the relay's managed buffers; give them to sockets
 * that {@link relay} will serve (upstream connections, and accepted plain TCP clients).
 */
export const managedReadOptions = { buffer: takeNextBuffer, callback: onManagedRead };

function takeNextBuffer(): Buffer {
  const next = nextBuffer;
  nextBuffer = sharedBuffer;
  return next;
}

function streamBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafe(STREAM_BUFFER_BYTES);
}

function onManagedRead(this: RelaySocket, bytes: number, buffer: Buffer): boolean {
  const peer = this[peerOf];
  if (peer === undefined) {
    // A client socket read before any relay (it starts paused) is one being drained while we close
    // it: what it sends is dropped. Upstream sockets always have their peer before the first read.
    if (buffer !== sharedBuffer) nextBuffer = buffer;
    return true;
  }
  let ok: boolean;
  if (buffer === sharedBuffer) {
    ok = peer.write(Buffer.from(buffer.subarray(0, bytes)));
    nextBuffer = bytes === SHARED_BUFFER_BYTES ? streamBuffer() : sharedBuffer;
  } else if (peer.writableLength > 0) {
    // queued behind earlier bytes, so it would wait: copy, and keep the buffer
    ok = peer.write(Buffer.from(buffer.subarray(0, bytes)));
    nextBuffer = buffer;
  } else {
    ok = peer.write(buffer.subarray(0, bytes));
    if (peer.writableLength > 0) {
      // the pending write holds this buffer until it is done; it is left to the garbage collector
      nextBuffer = streamBuffer();
    } else if (bytes < SHARED_BUFFER_BYTES) {
      // no longer streaming: back to the shared buffer, and this one to the pool
      if (pool.length < POOL_LIMIT) pool.push(buffer);
      nextBuffer = sharedBuffer;
    } else {
      nextBuffer = buffer;
    }
  }
  if (ok) return true;
  // pause() as well as returning false, so the peer's 'drain' finds it paused and resumes it
  this.pause();
  return false;
}

function startDirection(from: Socket): void {
  from.on('data', onData);
  // Accepted sockets that read into managed buffers start paused; nothing else pauses before this.
  if (from.isPaused()) from.resume();
  from.on('drain', onDrain);
  // A FIN read before the relay started has already emitted 'end' (Node reads the EOF at once, with
  // nothing buffered): pass it on now, or the peer waits for the idle timeout.
  if (from.readableEnded) onEnd.call(from as RelaySocket);
  else from.on('end', onEnd);
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
