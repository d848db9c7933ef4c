import { createServer, type Server, type Socket } from 'node:net';
import type { TLSSocket, Server as TlsServer } from 'node:tls';
import { type ErrorCode, ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { formatHostPort } from '../lib/upstreams/address.js';
import type { ProxyEvents } from './events.js';
import type { ListenerRuntime } from './runtime.js';
import type { ListenerSnapshot } from './snapshot.js';
import { ListenerStats } from './stats.js';
import { certificateRefusal, createHandshakeServer, type TlsMaterial, updateHandshakeServer } from './tls.js';
import { dropAlertSecret, refuseWithAlert } from './tls-alert.js';

/** Receives each connection that passed the listener's cheap guards, with its TLS handshake's ms (0 on plain TCP). */
export type AcceptHandler = (listener: Listener, socket: Socket, handshakeMs?: number) => void;

// When the raw socket was accepted, kept on the socket itself: a per-listener map would cost a
// hash insert and delete per connection, a property on a socket of one shape costs a store.
const acceptedAt = Symbol('acceptedAt');

type TimedSocket = Socket & { [acceptedAt]?: number };

/** How often a flood of refusals may write a log line, per listener and reason. */
const REFUSAL_LOG_INTERVAL_MS = 1000;

/**
 * A bound socket, its guards and (for TLS) its handshakes. The guards (connection cap, handshake
 * backlog, per-source rate) run before any TLS work and before a session object exists, so a
 * connection flood costs an accept and a close, not a handshake. Refusals before a session exists
 * are counted and logged at most once per interval per reason, with a count of those not logged.
 */
export class Listener {
  /** Live counters; a listener moved to a new address by a reload shares them with the one it replaces. */
  readonly stats: ListenerStats;
  /** Current settings; replaced on reload, read at each accept. */
  runtime: ListenerRuntime;
  readonly #server: Server;
  #handshakes: TlsServer | null;
  #handshakeTimeoutMs: number;
  readonly #onAccept: AcceptHandler;
  readonly #events: ProxyEvents;
  readonly #logger: Logger;
  readonly #lastRefusalLog = new Map<ErrorCode, { at: number; suppressed: number }>();

  constructor(
    runtime: ListenerRuntime,
    handshakeTimeoutMs: number,
    onAccept: AcceptHandler,
    logger: Logger,
    events: ProxyEvents,
    stats: ListenerStats = new ListenerStats(),
  ) {
    this.stats = stats;
    this.runtime = runtime;
    this.#onAccept = onAccept;
    this.#events = events;
    this.#logger = logger;
    // Half-open stays off until a session starts relaying: a client that hangs up mid-handshake
    // must close the socket, not leave it waiting for the handshake timeout.
    this.#server = createServer({ allowHalfOpen: false, noDelay: true }, this.#onConnection);
    this.#handshakeTimeoutMs = handshakeTimeoutMs;
    this.#handshakes =
      runtime.kind === 'tls' ? this.#createHandshakes(runtime.tls, handshakeTimeoutMs) : null;
  }

  /** Listener name. */
  get name(): string {
    return this.runtime.name;
  }

  /** Binds the socket; resolves once listening. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once('error', onError);
      this.#server.listen({ host: this.runtime.host, port: this.runtime.port, backlog: 1024 }, () => {
        this.#server.removeListener('error', onError);
        // Only errors after the bind are logged here: a failed bind is the caller's to report, with
        // the listener's config line, and one line is enough.
        this.#server.on('error', (err) =>
          this.#logger.error({ listener: this.name, err: String(err) }, 'listener error'),
        );
        resolve();
      });
    });
  }

  /** The bound address and port (the real port when 0 was asked for). */
  address(): { address: string; port: number; family: string } {
    const a = this.#server.address();
    if (a === null || typeof a === 'string') {
      throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, `listener ${this.name} is not bound`);
    }
    return a;
  }

  /** What the listener is, where it listens and its counters, as plain data. */
  snapshot(): ListenerSnapshot {
    let address: string | null = null;
    let port: number | null = null;
    if (this.#server.listening) {
      const a = this.address();
      address = formatHostPort(a.address, a.port);
      port = a.port;
    }
    return {
      ...describe(this.runtime),
      address,
      port,
      listening: this.#server.listening,
      stats: this.stats.counters(),
    };
  }

  /** The picture of a listener of the runtime that has no socket (yet, or any more). */
  static unboundSnapshot(rt: ListenerRuntime): ListenerSnapshot {
    return {
      ...describe(rt),
      address: null,
      port: null,
      listening: false,
      stats: new ListenerStats().counters(),
    };
  }

  /** True while the socket accepts connections. */
  get listening(): boolean {
    return this.#server.listening;
  }

  /**
   * Stops accepting; live sessions are not touched. Resolves as soon as the socket is unbound:
   * net.Server's own close callback would wait for every live connection to end.
   */
  close(): Promise<void> {
    if (this.#server.listening) this.#server.close();
    return Promise.resolve();
  }

  #onConnection = (socket: Socket): void => {
    const stats = this.stats;
    const rt = this.runtime;
    stats.accepted++;
    if (rt.maxConnections > 0 && stats.active >= rt.maxConnections) {
      this.#refuse(socket, ErrorCodes.ERR_LISTENER_FULL);
      return;
    }
    if (rt.kind === 'tls' && rt.maxPendingHandshakes > 0 && stats.handshaking >= rt.maxPendingHandshakes) {
      this.#refuse(socket, ErrorCodes.ERR_HANDSHAKE_BACKLOG);
      return;
    }
    if (rt.sourceGuard !== undefined && rt.sourceGuard.take(socket.remoteAddress ?? '') > 0) {
      this.#refuse(socket, ErrorCodes.ERR_HANDSHAKE_RATE);
      return;
    }
    stats.active++;
    if (this.#handshakes === null) {
      this.#onAccept(this, socket);
      return;
    }
    stats.handshaking++;
    (socket as TimedSocket)[acceptedAt] = performance.now();
    this.#handshakes.emit('connection', socket);
  };

  #onSecure = (socket: TLSSocket): void => {
    const stats = this.stats;
    stats.handshaking--;
    // Decided here, while the handshake's last records are still unsent: a refused client gets a TLS
    // alert during its handshake, as from a server that enforces verification itself.
    const refusal = certificateRefusal(socket);
    if (refusal !== undefined) {
      stats.active--;
      const clientAddress = socket.remoteAddress ?? '';
      // OpenSSL's verification error; with no certificate it names a missing issuer, which misleads.
      const detail =
        refusal.code === ErrorCodes.ERR_NO_CLIENT_CERT ? '' : String(socket.authorizationError ?? '');
      refuseWithAlert(socket, refusal.alert);
      stats.reject(refusal.code);
      this.#logRefusal(refusal.code, clientAddress, detail);
      return;
    }
    dropAlertSecret(socket);
    // Node keeps the accepted socket a server-side TLSSocket wraps in `_parent` (since 0.x); no
    // public API links the two. Without it the time is simply not recorded.
    const start = (socket as unknown as { _parent?: TimedSocket })._parent?.[acceptedAt];
    const handshakeMs = start === undefined ? 0 : performance.now() - start;
    if (start !== undefined && this.#events.handshake.hasSubscribers)
      this.#events.handshake.publish({ listener: this.runtime.name, ms: handshakeMs });
    this.#onAccept(this, socket, handshakeMs);
  };

  #onHandshakeError = (err: NodeJS.ErrnoException, socket: TLSSocket): void => {
    const stats = this.stats;
    stats.handshaking--;
    stats.active--;
    const clientAddress = socket.remoteAddress ?? '';
    socket.destroy();
    const code =
      err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT'
        ? ErrorCodes.ERR_HANDSHAKE_TIMEOUT
        : ErrorCodes.ERR_TLS_HANDSHAKE;
    stats.reject(code);
    this.#logRefusal(code, clientAddress, err.code ?? '');
  };

  /**
   * Applies new settings to new connections; live sessions keep what they started with. New TLS
   * material goes into the existing handshake server (Node gives the new context new session-ticket
   * keys, so a client revoked by a new CRL cannot resume an old session past it); a new
   * handshake timeout needs a new handshake server, and handshakes in flight finish on the old one.
   * The kind may change too (tcp <-> tls on the same socket, so no connection is refused meanwhile):
   * handshakes in flight finish on the handshake server they started on. The bind address cannot
   * change here: the caller binds a new listener and replaces this one.
   */
  update(runtime: ListenerRuntime, handshakeTimeoutMs: number): void {
    const old = this.runtime;
    if (runtime.kind === 'tcp') {
      this.#handshakes = null;
    } else if (old.kind !== 'tls' || handshakeTimeoutMs !== this.#handshakeTimeoutMs) {
      this.#handshakes = this.#createHandshakes(runtime.tls, handshakeTimeoutMs);
    } else if (runtime.tls !== old.tls) {
      updateHandshakeServer(this.#handshakes!, runtime.tls);
    }
    this.#handshakeTimeoutMs = handshakeTimeoutMs;
    this.runtime = runtime;
  }

  #createHandshakes(tls: TlsMaterial, timeoutMs: number): TlsServer {
    const server = createHandshakeServer(tls, timeoutMs);
    server.on('secureConnection', this.#onSecure);
    server.on('tlsClientError', this.#onHandshakeError);
    return server;
  }

  #refuse(socket: Socket, code: ErrorCode): void {
    // Read the address first: a destroyed socket no longer knows its peer.
    const clientAddress = socket.remoteAddress ?? '';
    socket.on('error', ignoreError);
    socket.destroy();
    this.stats.reject(code);
    this.#logRefusal(code, clientAddress, '');
  }

  /** Counted, published and logged at most once per reason per interval, with how many were not logged. */
  #logRefusal(code: ErrorCode, clientAddress: string, detail: string): void {
    const refused = this.#events.connectionRefused;
    if (refused.hasSubscribers) refused.publish({ listener: this.name, reason: code, clientAddress });
    const now = Date.now();
    const last = this.#lastRefusalLog.get(code);
    if (last !== undefined && now - last.at < REFUSAL_LOG_INTERVAL_MS) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.#lastRefusalLog.set(code, { at: now, suppressed: 0 });
    const hint = guardHint(code, this.name);
    this.#logger.warn(
      { listener: this.name, reason: code, clientAddress, detail, hint, suppressed },
      'connection refused',
    );
  }
}

/**
 * Which guard refused and which key to change, for the refusals a listener's own settings cause: a
 * guard that refuses legitimate traffic (a NAT gateway, a load test) must be easy to find and undo.
 */
function guardHint(code: ErrorCode, listener: string): string {
  const of = `of listener "${listener}"`;
  switch (code) {
    case ErrorCodes.ERR_HANDSHAKE_RATE:
      return `per-source handshake rate exceeded; raise handshakeRate.perSource ${of}, or set it to 0 to turn this guard off`;
    case ErrorCodes.ERR_LISTENER_FULL:
      return `connection cap reached; raise maxConnections ${of} (0: no cap)`;
    case ErrorCodes.ERR_HANDSHAKE_BACKLOG:
      return `too many TLS handshakes in progress; raise maxPendingHandshakes ${of} if the CPU has room (0: no cap)`;
    default:
      return '';
  }
}

function describe(rt: ListenerRuntime): Pick<ListenerSnapshot, 'name' | 'kind' | 'bind' | 'group'> {
  return {
    name: rt.name,
    kind: rt.kind,
    bind: formatHostPort(rt.host, rt.port),
    ...(rt.kind === 'tcp' ? { group: rt.group } : {}),
  };
}

function ignoreError(): void {}
