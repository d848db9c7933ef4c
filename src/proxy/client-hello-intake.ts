import type { Socket } from 'node:net';
import { type ErrorCode, ErrorCodes } from '../lib/errors.js';
import { readClientHello } from './client-hello.js';
import { awaitPreface, type PrefaceRules } from './preface-reader.js';

/**
 * Reading a TLS ClientHello from a connection just accepted, without answering it: bounded in bytes
 * (16 KiB, `client-hello.ts`) and in time (the listener's handshake timeout), so a client that
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

const helloRules: PrefaceRules<HelloFacts> = {
  read(received) {
    const read = readClientHello(received);
    if (read.state !== 'complete') return read;
    return {
      state: 'complete',
      length: read.length,
      value: { serverName: read.serverName, alpn: read.alpn },
    };
  },
  // all of it, the hello and anything after: the upstream reads the stream from its first byte
  putBack: 'all',
  timeoutCode: ErrorCodes.ERR_CLIENT_HELLO_TIMEOUT,
  endedCode: ErrorCodes.ERR_CLIENT_HELLO_INVALID,
  what: 'the ClientHello',
};

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
  awaitPreface(socket, helloRules, timeoutMs, (outcome) => {
    if (outcome.ok) (socket as HelloSocket)[hello] = outcome.value;
    done(outcome.ok ? { ok: true } : outcome);
  });
}

/** What the ClientHello of this connection said; undefined before it was read (or on another kind). */
export function helloOf(socket: Socket): HelloFacts | undefined {
  return (socket as HelloSocket)[hello];
}
