import type { Socket } from 'node:net';
import type { TLSSocket, Server as TlsServer } from 'node:tls';
import { ErrorCodes } from '../../lib/errors.js';
import { clientAddressOf } from '../proxy-header-intake.js';
import type { ListenerRuntime } from '../runtime.js';
import type { ListenerStats } from '../stats.js';
import { certificateRefusal, createHandshakeServer, renewTicketKeys, updateHandshakeServer } from '../tls.js';
import { dropAlertSecret, refuseWithAlert } from '../tls-alert.js';
import type { AcceptingListener, ConnectionIntake } from './listener-kind.js';

/** The runtime of a TLS listener. */
export type TlsRuntime = Extract<ListenerRuntime, { kind: 'tls' }>;

// When the raw socket was accepted, kept on the socket itself: a per-listener map would cost a
// hash insert and delete per connection, a property on a socket of one shape costs a store.
const acceptedAt = Symbol('acceptedAt');

type TimedSocket = Socket & { [acceptedAt]?: number };

/**
 * A TLS listener's handshakes: accepted sockets go to a tls.Server that never listens itself (see
 * `tls.ts` for why), and only a handshake whose client certificate passes starts a session. The
 * certificate is decided in `secureConnection`, while the handshake's last records are still
 * unsent, so a refused client gets a TLS alert during its handshake, as from a server that
 * enforces verification itself.
 */
export class TlsHandshakes implements ConnectionIntake<TlsRuntime> {
  readonly #listener: AcceptingListener;
  #runtime: TlsRuntime;
  #server: TlsServer;
  #timeoutMs: number;

  constructor(listener: AcceptingListener, rt: TlsRuntime, handshakeTimeoutMs: number) {
    this.#listener = listener;
    this.#runtime = rt;
    this.#timeoutMs = handshakeTimeoutMs;
    this.#server = this.#createServer(rt, handshakeTimeoutMs);
  }

  guard(stats: ListenerStats): typeof ErrorCodes.ERR_HANDSHAKE_BACKLOG | undefined {
    const cap = this.#runtime.maxPendingHandshakes;
    return cap > 0 && stats.handshaking >= cap ? ErrorCodes.ERR_HANDSHAKE_BACKLOG : undefined;
  }

  accept(socket: Socket): void {
    this.#listener.stats.handshaking++;
    (socket as TimedSocket)[acceptedAt] = performance.now();
    this.#server.emit('connection', socket);
  }

  /**
   * New material goes into the existing handshake server (Node gives the new context new
   * session-ticket keys, so a client revoked by a new CRL cannot resume an old session past it); a
   * new handshake timeout needs a new handshake server, and handshakes in flight finish on the old one.
   */
  update(rt: TlsRuntime, handshakeTimeoutMs: number): void {
    if (handshakeTimeoutMs !== this.#timeoutMs) this.#server = this.#createServer(rt, handshakeTimeoutMs);
    else if (rt.tls !== this.#runtime.tls) updateHandshakeServer(this.#server, rt.tls);
    this.#timeoutMs = handshakeTimeoutMs;
    this.#runtime = rt;
  }

  renewTicketKeys(): void {
    renewTicketKeys(this.#server, this.#runtime.tls);
  }

  #createServer(rt: TlsRuntime, timeoutMs: number): TlsServer {
    const server = createHandshakeServer(rt.tls, timeoutMs);
    server.on('secureConnection', this.#onSecure);
    server.on('tlsClientError', this.#onHandshakeError);
    return server;
  }

  #onSecure = (socket: TLSSocket): void => {
    const listener = this.#listener;
    const stats = listener.stats;
    stats.handshaking--;
    const refusal = certificateRefusal(socket);
    if (refusal !== undefined) {
      stats.active--;
      const clientAddress = clientAddressOf(socket);
      // OpenSSL's verification error; with no certificate it names a missing issuer, which misleads.
      const detail =
        refusal.code === ErrorCodes.ERR_NO_CLIENT_CERT ? '' : String(socket.authorizationError ?? '');
      refuseWithAlert(socket, refusal.alert);
      listener.refused(refusal.code, clientAddress, detail);
      return;
    }
    dropAlertSecret(socket);
    // Node keeps the accepted socket a server-side TLSSocket wraps in `_parent` (since 0.x); no
    // public API links the two. Without it the time is simply not recorded.
    const start = (socket as unknown as { _parent?: TimedSocket })._parent?.[acceptedAt];
    const handshakeMs = start === undefined ? 0 : performance.now() - start;
    const handshake = listener.events.handshake;
    if (start !== undefined && handshake.hasSubscribers)
      handshake.publish({ listener: listener.name, ms: handshakeMs });
    listener.startSession(socket, handshakeMs);
  };

  #onHandshakeError = (err: NodeJS.ErrnoException, socket: TLSSocket): void => {
    const stats = this.#listener.stats;
    stats.handshaking--;
    stats.active--;
    const clientAddress = clientAddressOf(socket);
    socket.destroy();
    const code =
      err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT'
        ? ErrorCodes.ERR_HANDSHAKE_TIMEOUT
        : ErrorCodes.ERR_TLS_HANDSHAKE;
    this.#listener.refused(code, clientAddress, err.code ?? '');
  };
}
