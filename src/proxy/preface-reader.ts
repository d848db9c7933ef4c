import type { Socket } from 'node:net';
import { type ErrorCode, ErrorCodes } from '../lib/errors.js';

/**
 * Reading what some listeners need before anything else happens on a connection (a PROXY protocol
 * header, a TLS ClientHello to route by): bounded in time by one timer and in bytes by the judge
 * the caller gives, then the bytes put back on the socket for whatever reads next (the TLS
 * handshake, or the relay), and the socket left paused.
 */

/** A judge's verdict on the bytes received so far. */
export type PrefaceRead<T> =
  | { state: 'partial' }
  | { state: 'complete'; length: number; value: T }
  | { state: 'refused'; code: ErrorCode; detail: string };

/** How one kind of preface is read. */
export interface PrefaceRules<T> {
  /** Judges the bytes received so far; must refuse (not stay partial) past its own byte bound. */
  read(received: Buffer): PrefaceRead<T>;
  /** What goes back on the socket: what follows the preface (it is consumed), or all of it (it is passed on untouched). */
  putBack: 'rest' | 'all';
  /** The refusal when the preface is not complete in time. */
  timeoutCode: ErrorCode;
  /** The refusal when the peer ends the connection before the preface is complete. */
  endedCode: ErrorCode;
  /** What the bytes are called in a refusal's detail, e.g. `the header`. */
  what: string;
}

/** How reading ended: the socket is the caller's again either way. */
export type PrefaceOutcome<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; detail: string };

/** Reads a preface from `socket` by `rules` within `timeoutMs`, then calls `done` once. */
export function awaitPreface<T>(
  socket: Socket,
  rules: PrefaceRules<T>,
  timeoutMs: number,
  done: (outcome: PrefaceOutcome<T>) => void,
): void {
  let received: Buffer = Buffer.alloc(0);
  let finished = false;
  const stop = (): void => {
    finished = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('error', onError);
    socket.pause();
  };
  const refuse = (code: ErrorCode, detail: string): void => {
    if (finished) return;
    stop();
    done({ ok: false, code, detail });
  };
  const onData = (chunk: Buffer): void => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const read = rules.read(received);
    if (read.state === 'partial') return;
    if (read.state === 'refused') {
      refuse(read.code, read.detail);
      return;
    }
    stop();
    // Put back before `done`: what reads next may take the buffered bytes at once (a TLS socket
    // wrapping this one does, when it is created) and never look again.
    const back = rules.putBack === 'all' ? received : received.subarray(read.length);
    if (back.length > 0) socket.unshift(back);
    done({ ok: true, value: read.value });
  };
  const onEnd = (): void =>
    refuse(rules.endedCode, `connection ended after ${received.length} bytes of ${rules.what}`);
  const onError = (err: NodeJS.ErrnoException): void =>
    refuse(ErrorCodes.ERR_CLIENT_RESET, err.code ?? String(err));
  const timer = setTimeout(
    () => refuse(rules.timeoutCode, `${received.length} bytes of ${rules.what} within ${timeoutMs} ms`),
    timeoutMs,
  );
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
  // Sockets a listener took over from managed accept start paused; this one reads the usual way.
  if (socket.isPaused()) socket.resume();
}
