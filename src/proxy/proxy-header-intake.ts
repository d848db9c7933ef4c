import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { type ErrorCode, ErrorCodes } from '../lib/errors.js';
import type { ProxiedConnection } from './proxy-header.js';
import { type AcceptedProxyVersions, readProxyHeader, V2_MAX_BYTES } from './proxy-header-reader.js';

/**
 * Reading the PROXY protocol header a load balancer in front sends before the client's bytes,
 * from a connection just accepted: bounded in bytes (the reader's limits) and in time (the
 * listener's handshake timeout), so a peer that dribbles or never finishes costs one timer and a
 * few hundred bytes. What follows the header is put back on the socket for whatever reads next
 * (the TLS handshake, or the relay).
 */

// The connection as the header described it, kept on the accepted socket itself (as the TLS
// handshake's start time is) rather than in a map every connection would insert into.
const carried = Symbol('proxiedConnection');

type CarryingSocket = Socket & { [carried]?: ProxiedConnection };

/** How reading a header ended: the socket is the caller's again either way. */
export type ProxyHeaderOutcome = { ok: true } | { ok: false; code: ErrorCode; detail: string };

/**
 * Reads the header at the start of `socket`, then calls `done` once: ok (the addresses it carried,
 * if any, are now the client's, see {@link clientEndpoint}) or refused with a reason. The socket
 * is left paused with the bytes after the header unread.
 */
export function awaitProxyHeader(
  socket: Socket,
  accepted: AcceptedProxyVersions,
  timeoutMs: number,
  done: (outcome: ProxyHeaderOutcome) => void,
): void {
  let received: Buffer = Buffer.alloc(0);
  let finished = false;
  const finish = (outcome: ProxyHeaderOutcome): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('end', onEnd);
    socket.removeListener('error', onError);
    socket.pause();
    done(outcome);
  };
  const onData = (chunk: Buffer): void => {
    received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
    const read = readProxyHeader(received, accepted);
    if (read.state === 'partial') {
      // the reader bounds a header it recognizes; this bounds bytes it has not judged yet
      if (received.length > V2_MAX_BYTES) {
        finish({
          ok: false,
          code: ErrorCodes.ERR_PROXY_HEADER_TOO_LARGE,
          detail: `no header end within ${V2_MAX_BYTES} bytes`,
        });
      }
      return;
    }
    if (read.state === 'refused') {
      finish({ ok: false, code: read.code, detail: read.detail });
      return;
    }
    const { header } = read;
    if (header.connection !== undefined) (socket as CarryingSocket)[carried] = header.connection;
    const rest = received.subarray(header.length);
    // Put back before `done`: what reads next may take the buffered bytes at once (a TLS socket
    // wrapping this one does, when it is created) and never look again.
    socket.removeListener('data', onData);
    socket.pause();
    if (rest.length > 0) socket.unshift(rest);
    finish({ ok: true });
  };
  const onEnd = (): void =>
    finish({
      ok: false,
      code: ErrorCodes.ERR_PROXY_HEADER_INVALID,
      detail: `connection ended after ${received.length} bytes of the header`,
    });
  const onError = (err: NodeJS.ErrnoException): void =>
    finish({ ok: false, code: ErrorCodes.ERR_CLIENT_RESET, detail: err.code ?? String(err) });
  const timer = setTimeout(
    () =>
      finish({
        ok: false,
        code: ErrorCodes.ERR_PROXY_HEADER_TIMEOUT,
        detail: `${received.length} bytes within ${timeoutMs} ms`,
      }),
    timeoutMs,
  );
  socket.on('data', onData);
  socket.on('end', onEnd);
  socket.on('error', onError);
}

/**
 * The connection as a PROXY protocol header described it, or undefined when none did (no header
 * expected, or one without addresses: then the socket's own stand). For a TLS socket the header
 * was read from the raw socket it wraps, which Node keeps in `_parent` (as `tls-handshakes.ts` notes).
 */
export function carriedConnection(socket: Socket): ProxiedConnection | undefined {
  return (
    (socket as CarryingSocket)[carried] ??
    (socket as TLSSocket & { _parent?: CarryingSocket })._parent?.[carried]
  );
}

/** The client's address: the one a PROXY protocol header carried, else the socket's peer. */
export function clientAddressOf(socket: Socket): string {
  return carriedConnection(socket)?.sourceAddress ?? socket.remoteAddress ?? '';
}
