import type { Socket } from 'node:net';
import { type ErrorCode, ErrorCodes } from '../lib/errors.js';
import { CLIENT_HELLO_MAX_BYTES, readClientHello } from './client-hello.js';

/**
 * Reading a TLS ClientHello from a connection just accepted, without answering it: bounded in bytes
 * ({@link CLIENT_HELLO_MAX_BYTES}) and in time (the listener's handshake timeout), so a client that
 * dribbles, stalls or sends something else costs one timer and at most 16 KiB. Everything read is
 * put back on the socket, so the upstream, which terminates TLS, gets the client's bytes untouched.
 */

/** What the hello said, for routing and the session's record. */
export interface HelloFacts {
  /** The server_name, lower case; undefined when the client sent none. */
  serverName: string | undefined;
  /** The ALPN protocols offered, in the client's order. */
  alpn: string[];
}

// Kept on the accepted socket, as the PROXY header's addresses are: no map to insert into and delete from.
const hello = Symbol('clientHello');

type HelloSocket = Socket & { [hello]?: HelloFacts };

/** How reading the hello ended: the socket is the caller's again either way. */
export type ClientHelloOutcome = { ok: true } | { ok: false; code: ErrorCode; detail: string };

/**
 * Reads the ClientHello at the start of `socket`, then calls `done` once: ok (what it said is now
 * {@link helloOf} the socket, and every byte read is back on it, unread) or refused with a reason.
 * The socket is left paused.
 */
export function awaitClientHello(
  socket: Socket,
  timeoutMs: number,
  done: (outcome: ClientHelloOutcome) => void,
): void {
  let received: Buffer = Buffer.alloc(0);
  let finished = false;
  const finish = (outcome: ClientHelloOutcome): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('error', onError);
    socket.pause();
    // All of it, the hello and anything after: the upstream reads the stream from its first byte.
    if (outcome.ok) socket.unshift(received);
    done(outcome);
  };
  const onData = (chunk: Buffer): void => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const read = readClientHello(received);
    if (read.state === 'partial') return;
    if (read.state === 'refused') {
      finish({ ok: false, code: read.code, detail: read.detail });
      return;
    }
    (socket as HelloSocket)[hello] = { serverName: read.serverName, alpn: read.alpn };
    finish({ ok: true });
  };
  const onEnd = (): void =>
    finish({
      ok: false,
      code: ErrorCodes.ERR_CLIENT_HELLO_INVALID,
      detail: `connection ended after ${received.length} bytes of the ClientHello`,
    });
  const onError = (err: NodeJS.ErrnoException): void =>
    finish({ ok: false, code: ErrorCodes.ERR_CLIENT_RESET, detail: err.code ?? String(err) });
  const timer = setTimeout(
    () =>
      finish({
        ok: false,
        code: ErrorCodes.ERR_CLIENT_HELLO_TIMEOUT,
        detail: `${received.length} bytes within ${timeoutMs} ms`,
      }),
    timeoutMs,
  );
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  // Sockets a listener took over from managed accept start paused; this one reads the usual way.
  if (socket.isPaused()) socket.resume();
}

/** What the ClientHello of this connection said; undefined before it was read (or on another kind). */
export function helloOf(socket: Socket): HelloFacts | undefined {
  return (socket as HelloSocket)[hello];
}
