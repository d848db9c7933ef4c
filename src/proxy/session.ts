import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { type ErrorCode, ErrorCodes } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Upstream } from '../lib/upstreams/upstream.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';
import { type AdmissionSubject, admit, announceAdmission } from './admission.js';
import { cutClient, endClient } from './client-close.js';
import { type ConnectingSession, connectNext, releaseUpstream } from './connect.js';
import type { ProxyEvents } from './events.js';
import type { ListenerKind, RoutedSession } from './kinds/listener-kind.js';
import { listenerKind } from './kinds/registry.js';
import { type OwnedSocket, sessionOf } from './owned-socket.js';
import { proxyHeader } from './proxy-header.js';
import { carriedConnection, clientBytesRead } from './proxy-header-intake.js';
import { relay } from './relay.js';
import type { ConcurrencyGate, ProxyRuntime, StreamListenerRuntime } from './runtime.js';
import { publishSessionEnded, type SessionFacts, sessionSnapshot } from './session-record.js';
import type { SessionPhase, SessionSnapshot } from './snapshot.js';
import type { ListenerStats } from './stats.js';

/** What a session needs from the proxy that owns it. */
export interface SessionHost {
  /** The model in force when the session was accepted. */
  readonly runtime: ProxyRuntime;
  /** Where the session's one line goes. */
  readonly logger: Logger;
  /** Where admissions, picks and session ends are published. */
  readonly events: ProxyEvents;
  /** Called exactly once when the session has fully ended. */
  sessionClosed(session: Session): void;
}

enum Phase {
  Admission = 1,
  Connecting = 2,
  Relaying = 3,
  Closing = 4,
  Closed = 5,
}

export type { SessionSnapshot } from './snapshot.js';

type ClientSocket = OwnedSocket<Session>;

/**
 * One client connection from a finished handshake (or accept, on plain TCP) to close, and the only
 * place that knows the order of its steps: identity and authorization (the listener's kind,
 * `kinds/`), admission (`admission.ts`), pick and connect (`connect.ts`), relay (`relay.ts`),
 * release. Every refusal goes through {@link Session.fail}, so each one is counted, logged once and
 * closed the same way.
 *
 * The public fields are the session's state as its step modules read and write it (each declares
 * what it uses); keeping it on this one object means a connection allocates nothing per step.
 */
export class Session implements RoutedSession, AdmissionSubject, ConnectingSession, SessionFacts {
  readonly host: SessionHost;
  readonly runtime: ProxyRuntime;
  readonly listener: StreamListenerRuntime;
  readonly kind: ListenerKind;
  readonly client: Socket;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly startedAt = performance.now();
  /** How long the TLS handshake took from accept (0 without one). */
  readonly handshakeMs: number;
  readonly #stats: ListenerStats;
  clientId = '';
  org = '';
  /** What the TLS handshake agreed, for the access log; empty on plain TCP. */
  tlsVersion = '';
  tlsCipher = '';
  serverName = '';
  /** The ALPN protocols a ClientHello offered, comma-separated, when the kind read one itself. */
  alpn = '';
  group: UpstreamGroup | null = null;
  admissionKey = '';
  upstream: Upstream | null = null;
  upstreamSocket: Socket | null = null;
  attempt = 0;
  failedUpstreams: Upstream[] | null = null;
  connected = false;
  upstreamClosed = true;
  connectStartedAt = 0;
  connectMs = 0;
  termination: ErrorCode | 'OK' = 'OK';
  /** The gate this session holds a slot of; a reload may swap the runtime's gate meanwhile. */
  #concurrencyHeld: ConcurrencyGate | null = null;
  #phase = Phase.Admission;
  #clientClosed = false;
  #lifetimeTimer: NodeJS.Timeout | null = null;

  // One handler per event for every session: each finds its session through the socket, so a
  // session registers shared functions instead of allocating a closure per event.
  static readonly #clientError = function (this: ClientSocket): void {
    this[sessionOf]!.#onClientError();
  };
  static readonly #clientTimeout = function (this: ClientSocket): void {
    this[sessionOf]!.#onClientTimeout();
  };
  static readonly #clientClose = function (this: ClientSocket): void {
    this[sessionOf]!.#onClientClose();
  };
  static readonly #lifetimeEnd = (session: Session): void => {
    session.#lifetimeTimer = null;
    session.close(ErrorCodes.ERR_MAX_LIFETIME);
  };

  /**
   * Starts a session on a connection that passed the listener's guards and its kind's intake (for
   * TLS the handshake is done). `handshakeMs` is how long that handshake took from accept.
   */
  constructor(
    host: SessionHost,
    listener: StreamListenerRuntime,
    stats: ListenerStats,
    client: Socket,
    handshakeMs = 0,
  ) {
    this.host = host;
    this.runtime = host.runtime;
    this.listener = listener;
    this.kind = listenerKind(listener);
    this.#stats = stats;
    this.client = client;
    this.handshakeMs = handshakeMs;
    // A PROXY protocol header from a trusted load balancer names the real client.
    const carried = carriedConnection(client);
    this.clientAddress = carried?.sourceAddress ?? client.remoteAddress ?? '';
    this.clientPort = carried?.sourcePort ?? client.remotePort ?? 0;
    // Half-open from here on: a client that shuts its write side must still get the whole response.
    client.allowHalfOpen = true;
    (client as ClientSocket)[sessionOf] = this;
    client.on('error', Session.#clientError);
    client.on('timeout', Session.#clientTimeout);
    client.on('close', Session.#clientClose);
    // Identity and authorization: the kind answers with routed() or fail().
    this.kind.route(client, listener, this);
  }

  negotiated(tlsVersion: string, tlsCipher: string, serverName: string, alpn = ''): void {
    this.tlsVersion = tlsVersion;
    this.tlsCipher = tlsCipher;
    this.serverName = serverName;
    this.alpn = alpn;
  }

  identified(clientId: string, org: string): void {
    this.clientId = clientId;
    this.org = org;
  }

  /** Routed to `groupName`: admission next. */
  routed(groupName: string, admissionKey: string): void {
    const group = this.runtime.groups.get(groupName);
    if (group === undefined) {
      // The validator refuses routes to unknown groups, but a reload removes groups before it
      // rewires the listeners' routes, and a hand-built runtime has no validator.
      this.fail(ErrorCodes.ERR_UNKNOWN_GROUP);
      return;
    }
    this.group = group;
    this.admissionKey = admissionKey;
    admit(this);
  }

  /** Admitted: pick an upstream and connect to it. */
  admitted(held: ConcurrencyGate | null): void {
    this.#concurrencyHeld = held;
    this.#phase = Phase.Connecting;
    announceAdmission(this);
    connectNext(this, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM);
  }

  /** Connected: relay both ways until either side ends. */
  upstreamConnected(): void {
    const upstream = this.upstreamSocket!;
    this.#phase = Phase.Relaying;
    this.#stats.proxied++;
    const client = this.client;
    // Activity in either direction touches the client socket (reads one way, writes the other),
    // so one idle timer per session is enough.
    client.setTimeout(this.runtime.timeouts.idle);
    const lifetime = this.runtime.timeouts.maxLifetime;
    if (lifetime > 0) this.#lifetimeTimer = setTimeout(Session.#lifetimeEnd, lifetime, this);
    // Written before relaying starts, so it is the first thing the upstream reads; over TLS it
    // went out before the handshake (connect.ts).
    if (this.listener.proxyProtocol !== 'none' && (upstream as TLSSocket).encrypted !== true)
      upstream.write(this.proxyHeader()!);
    relay(client, upstream);
  }

  /** The PROXY protocol header for this session's upstream connection, or null when it sends none. */
  proxyHeader(): Buffer | null {
    if (this.listener.proxyProtocol === 'none') return null;
    const client = this.client;
    const carried = carriedConnection(client);
    const connection = {
      sourceAddress: this.clientAddress,
      sourcePort: this.clientPort,
      destinationAddress: carried?.destinationAddress ?? client.localAddress ?? '',
      destinationPort: carried?.destinationPort ?? client.localPort ?? 0,
    };
    const tls = this.kind.proxiedTls(client, this.clientId);
    return proxyHeader(this.listener.proxyProtocol, connection, tls) ?? null;
  }

  /** Ends the session now (shutdown after the grace period, max lifetime, its upstream taken down). */
  close(code: ErrorCode): void {
    if (this.#phase >= Phase.Closing) return;
    this.#setTermination(code);
    this.#cut();
  }

  /** What the admin API shows of a live session; built on request, never on the hot path. */
  snapshot(): SessionSnapshot {
    return sessionSnapshot(this);
  }

  /** Where the session is in its life, for status pages. */
  get phase(): SessionPhase {
    return (['admission', 'admission', 'connecting', 'relaying', 'closing', 'closed'] as const)[this.#phase];
  }

  /** True while the session waits for an upstream connection. */
  get connecting(): boolean {
    return this.#phase === Phase.Connecting;
  }

  /** True once the session is being closed. */
  get closing(): boolean {
    return this.#phase >= Phase.Closing;
  }

  upstreamSocketError(err: NodeJS.ErrnoException): void {
    if (this.#phase !== Phase.Relaying) return;
    this.#setTermination(ErrorCodes.ERR_UPSTREAM_RESET);
    this.host.logger.debug({ listener: this.listener.name, err: err.code }, 'upstream socket error');
    this.client.destroy();
  }

  upstreamSocketClosed(): void {
    this.upstreamClosed = true;
    // Closing cleanly after a half-close is normal; the client side finishes on its own. Only an
    // upstream that vanished before ending its stream takes the client down with it.
    if (!this.upstreamSocket!.readableEnded && !this.#clientClosed) {
      this.#setTermination(ErrorCodes.ERR_UPSTREAM_RESET);
      this.client.destroy();
    }
    this.settle();
  }

  #onClientError(): void {
    this.#setTermination(ErrorCodes.ERR_CLIENT_RESET);
    this.upstreamSocket?.destroy();
  }

  #onClientTimeout(): void {
    // In relay this is the idle timeout; otherwise the linger after a refusal ran out.
    if (this.#phase === Phase.Relaying) this.#setTermination(ErrorCodes.ERR_IDLE_TIMEOUT);
    this.#cut();
  }

  #onClientClose(): void {
    this.#clientClosed = true;
    if (this.#phase < Phase.Relaying) {
      // Gone before we reached an upstream: abandon any connect in flight.
      this.#phase = Phase.Closing;
      this.upstreamSocket?.destroy();
    } else if (!this.client.readableEnded && this.upstreamSocket !== null && !this.upstreamClosed) {
      this.#setTermination(ErrorCodes.ERR_CLIENT_RESET);
      this.upstreamSocket.destroy();
    }
    this.settle();
  }

  /** Refuses the session: counted and logged once (at the end) and closed without a word to the client. */
  fail(code: ErrorCode): void {
    if (this.#phase >= Phase.Closing) return;
    this.#setTermination(code);
    this.#phase = Phase.Closing;
    if (!this.client.destroyed) endClient(this.client);
  }

  #setTermination(code: ErrorCode): void {
    if (this.termination === 'OK') this.termination = code;
  }

  /** Cuts the session from our side; the client is told first when its kind asks for it. */
  #cut(): void {
    if (this.#phase < Phase.Closing) this.#phase = Phase.Closing;
    cutClient(this.client, this.kind.endsWithCloseNotify);
    this.upstreamSocket?.destroy();
  }

  /** Ends the session once both sides are closed: releases what it holds, counts it, tells its record. */
  settle(): void {
    if (!this.#clientClosed || !this.upstreamClosed || this.#phase === Phase.Closed) return;
    this.#phase = Phase.Closed;
    if (this.#lifetimeTimer !== null) clearTimeout(this.#lifetimeTimer);
    releaseUpstream(this);
    if (this.#concurrencyHeld !== null) {
      this.#concurrencyHeld.release(this.admissionKey);
      this.#concurrencyHeld = null;
    }
    const client = this.client;
    const stats = this.#stats;
    stats.active--;
    stats.bytesFromClients += clientBytesRead(client);
    stats.bytesToClients += client.bytesWritten;
    if (this.termination !== 'OK') stats.reject(this.termination);
    this.host.sessionClosed(this);
    publishSessionEnded(this);
  }
}
