import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { type ErrorCode, ErrorCodes } from '../lib/errors.js';
import { awaitPreface, type PrefaceRules } from './preface-reader.js';
import type { ProxiedConnection } from './proxy-header.js';
import {
  type AcceptedProxyVersions,
  type ProxyHeader,
  readProxyHeader,
  V2_MAX_BYTES,
} from './proxy-header-reader.js';

/**
 * Reading the PROXY protocol header a load balancer in front sends before the client's bytes,
 * from a connection just accepted: bounded in bytes (the reader's limits) and in time (the
 * listener's handshake timeout) by `preface-reader.ts`, so a peer that dribbles or never finishes
 * costs one timer and a few hundred bytes; what follows the header is put back on the socket.
 */

// The connection as the header described it, kept on the accepted socket itself (as the TLS
// handshake's start time is) rather than in a map every connection would insert into.
const carried = Symbol('proxiedConnection');
// Bytes of the header read off this very socket: the load balancer's, not the client's.
const headerBytes = Symbol('proxyHeaderBytes');

type CarryingSocket = Socket & { [carried]?: ProxiedConnection; [headerBytes]?: number };

/** How reading a header ended: the socket is the caller's again either way. */
export type ProxyHeaderOutcome = { ok: true } | { ok: false; code: ErrorCode; detail: string };

/**
 * Reads the header at the start of `socket`, then calls `done` once: ok (the addresses it carried,
 * if any, are now the client's, see {@link carriedConnection}) or refused with a reason. The socket
 * is left paused with the bytes after the header unread.
 */
export function awaitProxyHeader(
  socket: Socket,
  accepted: AcceptedProxyVersions,
  timeoutMs: number,
  done: (outcome: ProxyHeaderOutcome) => void,
): void {
  awaitPreface(socket, proxyHeaderRules(accepted), timeoutMs, (outcome) => {
    if (!outcome.ok) {
      done(outcome);
      return;
    }
    if (outcome.value.connection !== undefined)
      (socket as CarryingSocket)[carried] = outcome.value.connection;
    (socket as CarryingSocket)[headerBytes] = outcome.value.length;
    done({ ok: true });
  });
}

const rulesByVersions = new Map<AcceptedProxyVersions, PrefaceRules<ProxyHeader>>();

function proxyHeaderRules(accepted: AcceptedProxyVersions): PrefaceRules<ProxyHeader> {
  let rules = rulesByVersions.get(accepted);
  if (rules === undefined) {
    rules = {
      read(received) {
        const read = readProxyHeader(received, accepted);
        if (read.state === 'complete')
          return { state: 'complete', length: read.header.length, value: read.header };
        // the reader bounds a header it recognizes; this bounds bytes it has not judged yet
        if (read.state === 'partial' && received.length > V2_MAX_BYTES) {
          return {
            state: 'refused',
            code: ErrorCodes.ERR_PROXY_HEADER_TOO_LARGE,
            detail: `no header end within ${V2_MAX_BYTES} bytes`,
          };
        }
        return read;
      },
      putBack: 'rest',
      timeoutCode: ErrorCodes.ERR_PROXY_HEADER_TIMEOUT,
      endedCode: ErrorCodes.ERR_PROXY_HEADER_INVALID,
      what: 'the header',
    };
    rulesByVersions.set(accepted, rules);
  }
  return rules;
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

/**
 * Bytes the client sent on `socket`, without a PROXY header read off it (the load balancer's
 * bytes). A TLS socket counts cleartext only, so nothing is taken off there.
 */
export function clientBytesRead(socket: Socket): number {
  return socket.bytesRead - ((socket as CarryingSocket)[headerBytes] ?? 0);
}
