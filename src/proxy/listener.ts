import { createServer, type Server, type Socket } from 'node:net';
import { type ErrorCode, ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { formatHostPort } from '../lib/upstreams/address.js';
import type { ProxyEvents } from './events.js';
import type { AcceptingListener, ConnectionIntake, ListenerKind } from './kinds/listener-kind.js';
import { listenerKind } from './kinds/registry.js';
import { noDelayOnListeningSocket } from './listening-nodelay.js';
import { LogThrottle } from './log-throttle.js';
import { acceptIntoManagedBuffers } from './managed-accept.js';
import { ignoreError } from './owned-socket.js';
import { awaitProxyHeader, clientAddressOf } from './proxy-header-intake.js';
import type { AcceptedProxyVersions } from './proxy-header-reader.js';
import type { ProxyListener } from './proxy-listener.js';
import type { ListenerRuntime, StreamListenerRuntime } from './runtime.js';
import type { ListenerSnapshot } from './snapshot.js';
import type { SocketSource } from './socket-source.js';
import { ListenerStats } from './stats.js';

/** Receives each connection that passed the listener's guards (and its kind's handshake), with the handshake's ms (0 without one). */
export type AcceptHandler = (listener: Listener, socket: Socket, handshakeMs?: number) => void;

/** Connections the kernel queues for accept() (capped by net.core.somaxconn). */
const BACKLOG = 1024;

/** How often a flood of refusals may write a log line, per listener and reason. */
const REFUSAL_LOG_INTERVAL_MS = 1000;

/**
 * A bound socket and its guards; what happens next (a handshake, for TLS) is its kind's
 * ({@link ConnectionIntake}). The guards (connection cap, the kind's own, per-source rate) run
 * before any TLS work and before a session object exists, so a connection flood costs an accept
 * and a close, not a handshake. Refusals before a session exists are counted and logged at most
 * once per interval per reason, with a count of those not logged.
 */
export class Listener implements AcceptingListener, ProxyListener {
  /** Live counters; a listener moved to a new address by a reload shares them with the one it replaces. */
  readonly stats: ListenerStats;
  /** Current settings; replaced on reload, read at each accept. */
  runtime: StreamListenerRuntime;
  /** The proxy's event stream. */
  readonly events: ProxyEvents;
  readonly #server: Server;
  #kind: ListenerKind;
  #intake: ConnectionIntake;
  #handshakeTimeoutMs: number;
  readonly #onAccept: AcceptHandler;
  readonly #logger: Logger;
  readonly #refusalLog = new LogThrottle<ErrorCode>(REFUSAL_LOG_INTERVAL_MS);

  constructor(
    runtime: StreamListenerRuntime,
    handshakeTimeoutMs: number,
    onAccept: AcceptHandler,
    logger: Logger,
    events: ProxyEvents,
    stats: ListenerStats = new ListenerStats(),
  ) {
    this.stats = stats;
    this.runtime = runtime;
    this.#onAccept = onAccept;
    this.events = events;
    this.#logger = logger;
    // Half-open stays off until a session starts relaying: a client that hangs up mid-handshake
    // must close the socket, not leave it waiting for the handshake timeout.
    // TCP_NODELAY is set once on the listening socket when the kernel passes it on (see listen()).
    this.#server = createServer({ allowHalfOpen: false, noDelay: false }, this.#onConnection);
    this.#kind = listenerKind(runtime);
    this.#intake = this.#kind.intake(this, runtime, handshakeTimeoutMs);
    this.#handshakeTimeoutMs = handshakeTimeoutMs;
  }

  /** Listener name. */
  get name(): string {
    return this.runtime.name;
  }

  /** Binds the socket (or listens on the one `sockets` hands over); resolves once listening. */
  async listen(sockets?: SocketSource): Promise<void> {
    const handle = await sockets?.listeningHandle(this.name, this.runtime.host, this.runtime.port);
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.#server.once('error', onError);
      const onListening = () => {
        this.#server.removeListener('error', onError);
        // Where accepted sockets cannot inherit TCP_NODELAY, Node sets it on each one.
        const inherited = noDelayOnListeningSocket(this.#server);
        if (!inherited) (this.#server as unknown as { noDelay: boolean }).noDelay = true;
        // A header to read first needs the socket's ordinary reads (and `unshift`).
        acceptIntoManagedBuffers(
          this.#server,
          () => this.#kind.relayReadsSocket && this.runtime.acceptProxyProtocol === 'none',
          !inherited,
        );
        // Only errors after the bind are logged here: a failed bind is the caller's to report, with
        // the listener's config line, and one line is enough.
        this.#server.on('error', (err) =>
          this.#logger.error({ listener: this.name, err: String(err) }, 'listener error'),
        );
        resolve();
      };
      if (handle === undefined) {
        this.#server.listen(
          { host: this.runtime.host, port: this.runtime.port, backlog: BACKLOG },
          onListening,
        );
      } else {
        this.#server.listen(handle, BACKLOG, onListening);
      }
    });
  }

  /** Session-ticket keys derived anew from the shared secret, for handshakes from now on. */
  renewTicketKeys(): void {
    this.#intake.renewTicketKeys?.();
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
  static unboundSnapshot(rt: StreamListenerRuntime): ListenerSnapshot {
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
    // Behind a load balancer the rules judge the client its header names, once it is read.
    if (
      rt.addressRules !== undefined &&
      rt.acceptProxyProtocol === 'none' &&
      !rt.addressRules.admits(socket.remoteAddress ?? '')
    ) {
      this.#refuse(socket, ErrorCodes.ERR_ADDRESS_DENIED);
      return;
    }
    if (rt.maxConnections > 0 && stats.active >= rt.maxConnections) {
      this.#refuse(socket, ErrorCodes.ERR_LISTENER_FULL);
      return;
    }
    const kindRefusal = this.#intake.guard(stats);
    if (kindRefusal !== undefined) {
      this.#refuse(socket, kindRefusal);
      return;
    }
    if (rt.acceptProxyProtocol !== 'none') {
      this.#acceptProxied(socket, rt, rt.acceptProxyProtocol);
      return;
    }
    if (rt.sourceGuard !== undefined && rt.sourceGuard.take(socket.remoteAddress ?? '') > 0) {
      this.#refuse(socket, ErrorCodes.ERR_HANDSHAKE_RATE);
      return;
    }
    stats.active++;
    this.#intake.accept(socket);
  };

  /**
   * A listener behind a load balancer: the header comes first, from a trusted address only, and
   * the address it carries is the one the per-source guard (and everything after) counts.
   */
  #acceptProxied(socket: Socket, rt: StreamListenerRuntime, accepted: AcceptedProxyVersions): void {
    const peer = socket.remoteAddress ?? '';
    if (rt.trustedProxies === undefined || !rt.trustedProxies.has(peer)) {
      this.#refuse(socket, ErrorCodes.ERR_PROXY_UNTRUSTED);
      return;
    }
    const stats = this.stats;
    // Counted active while the header is read, so the connection cap covers slow senders too.
    stats.active++;
    awaitProxyHeader(socket, accepted, this.#handshakeTimeoutMs, (outcome) => {
      if (!outcome.ok) {
        stats.active--;
        socket.on('error', ignoreError);
        socket.destroy();
        this.refused(outcome.code, peer, outcome.detail);
        return;
      }
      const client = clientAddressOf(socket);
      const now = this.runtime;
      const refusal =
        now.addressRules !== undefined && !now.addressRules.admits(client)
          ? ErrorCodes.ERR_ADDRESS_DENIED
          : now.sourceGuard !== undefined && now.sourceGuard.take(client) > 0
            ? ErrorCodes.ERR_HANDSHAKE_RATE
            : undefined;
      if (refusal !== undefined) {
        stats.active--;
        socket.on('error', ignoreError);
        socket.destroy();
        this.refused(refusal, client, '');
        return;
      }
      this.#intake.accept(socket);
    });
  }

  /** Hands a connection its kind is done with to the proxy, which starts its session. */
  startSession(socket: Socket, handshakeMs: number): void {
    this.#onAccept(this, socket, handshakeMs);
  }

  /**
   * Applies new settings to new connections; live sessions keep what they started with, and the
   * kind's intake takes what concerns it (new TLS material, a new handshake timeout). The kind may
   * change too (tcp <-> tls on the same socket, so no connection is refused meanwhile): handshakes
   * in flight finish on the intake they started on. The bind address cannot change here: the
   * caller binds a new listener and replaces this one.
   */
  update(runtime: ListenerRuntime, handshakeTimeoutMs: number): void {
    // Another transport (UDP) is bound as a new listener in this one's place.
    if (runtime.kind === 'udp') return;
    const kind = listenerKind(runtime);
    if (kind === this.#kind) {
      this.#intake.update(runtime, handshakeTimeoutMs);
    } else {
      this.#kind = kind;
      this.#intake = kind.intake(this, runtime, handshakeTimeoutMs);
    }
    this.#handshakeTimeoutMs = handshakeTimeoutMs;
    this.runtime = runtime;
  }

  /** Sessions belong to the proxy, which ends them itself; a stream listener holds none. */
  closeSessionsOf(): number {
    return 0;
  }

  #refuse(socket: Socket, code: ErrorCode): void {
    // Read the address first: a destroyed socket no longer knows its peer.
    const clientAddress = socket.remoteAddress ?? '';
    socket.on('error', ignoreError);
    socket.destroy();
    this.refused(code, clientAddress, '');
  }

  /** Counted, published and logged at most once per reason per interval, with how many were not logged. */
  refused(code: ErrorCode, clientAddress: string, detail: string): void {
    this.stats.reject(code);
    const refused = this.events.connectionRefused;
    if (refused.hasSubscribers) refused.publish({ listener: this.name, reason: code, clientAddress });
    const suppressed = this.#refusalLog.pass(code);
    if (suppressed === undefined) return;
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
    case ErrorCodes.ERR_ADDRESS_DENIED:
      return `the client's address is outside allow or inside deny ${of}`;
    case ErrorCodes.ERR_PROXY_UNTRUSTED:
      return `a connection from an address outside trustedProxies ${of}, which takes only PROXY protocol connections; add the load balancer's address or range to trustedProxies`;
    case ErrorCodes.ERR_HANDSHAKE_BACKLOG:
      return `too many TLS handshakes in progress; raise maxPendingHandshakes ${of} if the CPU has room (0: no cap)`;
    default:
      return '';
  }
}

function describe(
  rt: StreamListenerRuntime,
): Omit<ListenerSnapshot, 'address' | 'port' | 'listening' | 'stats'> {
  return {
    name: rt.name,
    kind: rt.kind,
    bind: formatHostPort(rt.host, rt.port),
    ...listenerKind(rt).describe(rt),
  };
}
