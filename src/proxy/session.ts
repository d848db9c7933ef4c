import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { type ErrorCode, ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Upstream } from '../lib/upstreams/upstream.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';
import type { Authorizer } from './authorize.js';
import type { ProxyEvents, SessionRecord } from './events.js';
import { identityFromPeerCertificate } from './identity.js';
import { proxyHeader } from './proxy-header.js';
import { managedReadOptions, relay } from './relay.js';
import type { ConcurrencyGate, ListenerRuntime, ProxyRuntime } from './runtime.js';
import type { SessionPhase, SessionSnapshot } from './snapshot.js';
import type { ListenerStats } from './stats.js';
import { certificateRefusal } from './tls.js';

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

function ignoreError(): void {}

// The session a client or upstream socket belongs to, for the shared event handlers.
const sessionOf = Symbol('session');

type OwnedSocket = Socket & { [sessionOf]?: Session };

/** How long a refused client gets to read our close before the socket is destroyed. */
const CLOSE_LINGER_MS = 2000;

/**
 * One client connection from a finished handshake (or accept, on plain TCP) to close: the only place
 * that knows the order of the steps (identity, authorization, admission, pick, connect, relay, release). Every refusal
 * goes through {@link Session.fail}, so each one is counted, logged once and closed the same way.
 */
export class Session {
  readonly #host: SessionHost;
  readonly #listener: ListenerRuntime;
  readonly #stats: ListenerStats;
  readonly #runtime: ProxyRuntime;
  #client: Socket;
  #upstreamSocket: Socket | null = null;
  #group: UpstreamGroup | null = null;
  #upstream: Upstream | null = null;
  #failedUpstreams: Upstream[] | null = null;
  #attempt = 0;
  #connected = false;
  readonly #clientAddress: string;
  readonly #clientPort: number;
  #clientId = '';
  #org = '';
  #admissionKey = '';
  /** The gate this session holds a slot of; a reload may swap the runtime's gate meanwhile. */
  #concurrencyHeld: ConcurrencyGate | null = null;
  #phase = Phase.Admission;
  #termination: ErrorCode | 'OK' = 'OK';
  #clientClosed = false;
  #upstreamClosed = true;
  #lifetimeTimer: NodeJS.Timeout | null = null;
  readonly #startedAt = performance.now();
  #connectStartedAt = 0;
  #connectMs = 0;
  readonly #handshakeMs: number;
  /** What the TLS handshake agreed, for the access log; empty on plain TCP. */
  #tlsVersion = '';
  #tlsCipher = '';
  #serverName = '';

  // One handler per event for every session: each finds its session through the socket, so a
  // session registers shared functions instead of allocating a closure per event.
  static readonly #clientError = function (this: OwnedSocket, err: NodeJS.ErrnoException): void {
    this[sessionOf]!.#onClientError(err);
  };
  static readonly #clientTimeout = function (this: OwnedSocket): void {
    this[sessionOf]!.#onClientTimeout();
  };
  static readonly #clientClose = function (this: OwnedSocket): void {
    this[sessionOf]!.#onClientClose();
  };
  static readonly #upstreamConnect = function (this: OwnedSocket): void {
    this[sessionOf]!.#onUpstreamConnect();
  };
  static readonly #upstreamError = function (this: OwnedSocket, err: NodeJS.ErrnoException): void {
    this[sessionOf]!.#onUpstreamError(err);
  };
  static readonly #upstreamTimeout = function (this: OwnedSocket): void {
    this[sessionOf]!.#onUpstreamTimeout();
  };
  static readonly #upstreamClose = function (this: OwnedSocket): void {
    this[sessionOf]!.#onUpstreamClose();
  };
  static readonly #lifetimeEnd = (session: Session): void => session.#onLifetimeEnd();

  /**
   * Starts a session on a connection that passed the listener's guards: for TLS listeners the
   * handshake is already done, for plain TCP the raw socket. `handshakeMs` is how long the TLS
   * handshake took from accept (0 on plain TCP).
   */
  constructor(
    host: SessionHost,
    listener: ListenerRuntime,
    stats: ListenerStats,
    client: Socket,
    handshakeMs = 0,
  ) {
    this.#host = host;
    this.#handshakeMs = handshakeMs;
    this.#runtime = host.runtime;
    this.#listener = listener;
    this.#stats = stats;
    this.#client = client;
    this.#clientAddress = client.remoteAddress ?? '';
    this.#clientPort = client.remotePort ?? 0;
    // Half-open from here on: a client that shuts its write side must still get the whole response.
    client.allowHalfOpen = true;
    (client as OwnedSocket)[sessionOf] = this;
    client.on('error', Session.#clientError);
    client.on('timeout', Session.#clientTimeout);
    client.once('close', Session.#clientClose);
    if (listener.kind === 'tls') {
      this.#noteTls(client as TLSSocket);
      this.#identify(client as TLSSocket, listener.authorizer);
    } else {
      this.#admissionKey = this.#clientAddress;
      this.#admit(listener.group);
    }
  }

  /** Ends the session now (shutdown after the grace period). */
  close(code: ErrorCode): void {
    if (this.#phase >= Phase.Closing) return;
    this.#setTermination(code);
    this.#destroyBoth();
  }

  /** What the admin API shows of a live session; built on request, never on the hot path. */
  snapshot(): SessionSnapshot {
    const client = this.#client;
    return {
      listener: this.#listener.name,
      clientAddress: this.#clientAddress,
      clientPort: this.#clientPort,
      clientId: this.#clientId,
      org: this.#org,
      group: this.#group?.name ?? '',
      upstream: this.#upstream?.id ?? '',
      phase: this.phase,
      bytesFromClient: client.bytesRead,
      bytesToClient: client.bytesWritten,
      ageMs: performance.now() - this.#startedAt,
    };
  }

  /** The upstream this session is connected or connecting to, if any. */
  get upstream(): Upstream | null {
    return this.#upstream;
  }

  /** Where the session is in its life, for status pages. */
  get phase(): SessionPhase {
    return (['admission', 'admission', 'connecting', 'relaying', 'closing', 'closed'] as const)[this.#phase];
  }

  #identify(tls: TLSSocket, authorizer: Authorizer): void {
    // The listener refuses a missing or unverified certificate during the handshake, with an alert;
    // these two checks only keep a session from ever reading an identity nobody verified.
    // (An empty object when the client sent no certificate, null once the socket is destroyed.)
    const cert = tls.getPeerCertificate();
    if (cert === null || cert.subject === undefined) {
      this.fail(ErrorCodes.ERR_NO_CLIENT_CERT);
      return;
    }
    if (!tls.authorized) {
      this.fail(certificateRefusal(tls)!.code);
      return;
    }
    const identity = identityFromPeerCertificate(cert);
    if (identity.id === '') {
      this.fail(ErrorCodes.ERR_CERT_MISSING_CN);
      return;
    }
    this.#clientId = identity.id;
    if (identity.orgs.length === 0) {
      this.fail(ErrorCodes.ERR_CERT_MISSING_ORG);
      return;
    }
    const group = authorizer.authorize(identity.id, identity.orgs);
    if (group === undefined) {
      this.#org = identity.orgs[0];
      this.fail(ErrorCodes.ERR_UNAUTHORIZED_ORG);
      return;
    }
    this.#org = identity.orgs.length === 1 ? identity.orgs[0] : this.#orgFor(identity.orgs, group);
    this.#admissionKey = identity.id;
    this.#admit(group);
  }

  /** Read while the socket is open: once destroyed it no longer knows what was negotiated. */
  #noteTls(tls: TLSSocket): void {
    this.#tlsVersion = tls.getProtocol() ?? '';
    this.#tlsCipher = tls.getCipher()?.name ?? '';
    const sni = (tls as TLSSocket & { servername?: string | false }).servername;
    this.#serverName = typeof sni === 'string' ? sni : '';
  }

  #orgFor(orgs: readonly string[], group: string): string {
    return orgs.includes(group) ? group : orgs[0];
  }

  #admit(groupName: string): void {
    const group = this.#runtime.groups.get(groupName);
    if (group === undefined) {
      // The validator refuses routes to unknown groups, but a reload removes groups before it
      // rewires the listeners' routes, and a hand-built runtime has no validator.
      this.fail(ErrorCodes.ERR_UNKNOWN_GROUP);
      return;
    }
    this.#group = group;
    const gate = this.#runtime.rateLimit;
    if (gate === undefined) {
      this.#afterRateLimit(0);
      return;
    }
    const verdict = gate.take(this.#admissionKey);
    if (typeof verdict === 'number') {
      this.#afterRateLimit(verdict);
      return;
    }
    verdict.then(
      (retryAfterMs) => this.#afterRateLimit(retryAfterMs),
      (err: unknown) => this.#onRateStoreError(err),
    );
  }

  #onRateStoreError(err: unknown): void {
    // A limiter store outage must not take the service down with it: admit, and say so once per session.
    this.#host.logger.warn(
      {
        listener: this.#listener.name,
        clientId: this.#clientId,
        code: ErrorCodes.ERR_STORE_UNAVAILABLE,
        err: String(err),
      },
      'rate limit store failed; admitting',
    );
    this.#afterRateLimit(0);
  }

  #afterRateLimit(retryAfterMs: number): void {
    if (this.#phase >= Phase.Closing) return;
    if (retryAfterMs > 0) {
      this.fail(ErrorCodes.ERR_RATE_LIMITED);
      return;
    }
    const concurrency = this.#runtime.concurrency;
    if (concurrency !== undefined) {
      if (!concurrency.tryAcquire(this.#admissionKey)) {
        this.fail(ErrorCodes.ERR_CONCURRENCY_LIMIT);
        return;
      }
      this.#concurrencyHeld = concurrency;
    }
    this.#phase = Phase.Connecting;
    const admitted = this.#host.events.sessionAdmitted;
    if (admitted.hasSubscribers)
      admitted.publish({
        listener: this.#listener.name,
        clientId: this.#clientId,
        clientAddress: this.#clientAddress,
        clientPort: this.#clientPort,
        group: this.#group!.name,
        rateChecked: this.#runtime.rateLimit !== undefined,
        concurrencyChecked: concurrency !== undefined,
      });
    this.#connectNext(ErrorCodes.ERR_NO_HEALTHY_UPSTREAM);
  }

  #hashKey(): string {
    const useSource =
      this.#listener.kind === 'tcp' || this.#runtime.hashKeys.get(this.#group!.name) === 'source-ip';
    const key = useSource ? this.#clientAddress : this.#clientId;
    // A retry must not hash to the upstream that just failed.
    return this.#attempt === 0 ? key : `${key}#${this.#attempt}`;
  }

  /** A retry prefers an upstream that has not failed this session; the failed ones only if nothing else is left. */
  #pickUpstream(): Upstream {
    const group = this.#group!;
    const failed = this.#failedUpstreams;
    if (failed === null) return group.pick(this.#hashKey());
    try {
      return group.pickExcept(this.#hashKey(), failed);
    } catch {
      return group.pick(this.#hashKey());
    }
  }

  #connectNext(lastFailure: ErrorCode): void {
    if (this.#attempt >= this.#runtime.connectAttempts) {
      this.fail(lastFailure);
      return;
    }
    let upstream: Upstream;
    try {
      upstream = this.#pickUpstream();
    } catch (err) {
      if (err instanceof SwitchyardError && this.#attempt > 0) {
        this.fail(lastFailure);
        return;
      }
      this.fail(ErrorCodes.ERR_NO_HEALTHY_UPSTREAM);
      return;
    }
    this.#attempt++;
    this.#upstream = upstream;
    const picked = this.#host.events.upstreamPicked;
    if (picked.hasSubscribers)
      picked.publish({
        listener: this.#listener.name,
        group: this.#group!.name,
        upstream: upstream.id,
        attempt: this.#attempt,
      });
    this.#connectStartedAt = performance.now();
    const socket = netConnect({
      host: upstream.host,
      port: upstream.port,
      allowHalfOpen: true,
      noDelay: true,
      onread: managedReadOptions,
    });
    this.#upstreamSocket = socket;
    this.#upstreamClosed = false;
    socket.setTimeout(this.#runtime.timeouts.connect);
    (socket as OwnedSocket)[sessionOf] = this;
    socket.once('connect', Session.#upstreamConnect);
    socket.on('error', Session.#upstreamError);
    socket.on('timeout', Session.#upstreamTimeout);
    socket.once('close', Session.#upstreamClose);
  }

  #onUpstreamConnect(): void {
    const upstream = this.#upstreamSocket!;
    this.#connectMs = performance.now() - this.#connectStartedAt;
    this.#group!.connected(this.#upstream!);
    this.#runtime.outcomes.get(this.#group!.name)?.recordSuccess(this.#upstream!);
    this.#connected = true;
    this.#releaseFailedAttempts();
    if (this.#phase >= Phase.Closing) {
      upstream.destroy();
      return;
    }
    this.#phase = Phase.Relaying;
    this.#stats.proxied++;
    upstream.setTimeout(0);
    const client = this.#client;
    const idle = this.#runtime.timeouts.idle;
    // Activity in either direction touches the client socket (reads one way, writes the other),
    // so one idle timer per session is enough.
    client.setTimeout(idle);
    const lifetime = this.#runtime.timeouts.maxLifetime;
    if (lifetime > 0) this.#lifetimeTimer = setTimeout(Session.#lifetimeEnd, lifetime, this);
    // Written before relaying starts, so it is the first thing the upstream reads.
    if (this.#listener.proxyProtocol !== 'none') upstream.write(this.#proxyHeader());
    relay(client, upstream);
  }

  /** The PROXY protocol header for this session's upstream connection. */
  #proxyHeader(): Buffer {
    const client = this.#client;
    const connection = {
      sourceAddress: this.#clientAddress,
      sourcePort: this.#clientPort,
      destinationAddress: client.localAddress ?? '',
      destinationPort: client.localPort ?? 0,
    };
    const tls =
      this.#listener.kind === 'tls'
        ? {
            version: (client as TLSSocket).getProtocol() ?? '',
            clientCn: this.#clientId,
            certOnThisConnection: !(client as TLSSocket).isSessionReused(),
          }
        : undefined;
    return proxyHeader(this.#listener.proxyProtocol, connection, tls)!;
  }

  #onLifetimeEnd(): void {
    this.#lifetimeTimer = null;
    this.close(ErrorCodes.ERR_MAX_LIFETIME);
  }

  /** A connect attempt failed: remember it, and try the next pick while attempts remain. */
  #attemptFailed(code: ErrorCode): void {
    const socket = this.#upstreamSocket!;
    const upstream = this.#upstream!;
    socket.removeListener('close', Session.#upstreamClose);
    socket.removeListener('timeout', Session.#upstreamTimeout);
    socket.removeListener('connect', Session.#upstreamConnect);
    socket.removeListener('error', Session.#upstreamError);
    socket.on('error', ignoreError);
    socket.destroy();
    this.#upstreamSocket = null;
    this.#upstreamClosed = true;
    this.#upstream = null;
    this.#host.logger.warn(
      { listener: this.#listener.name, group: this.#group!.name, upstream: upstream.id, reason: code },
      'upstream connect failed',
    );
    this.#runtime.outcomes.get(this.#group!.name)?.recordFailure(upstream, code);
    // Hold the failed lease until the session settles, so load-aware balancers look elsewhere.
    (this.#failedUpstreams ??= []).push(upstream);
    if (this.#phase >= Phase.Closing) {
      this.#maybeFinish();
      return;
    }
    this.#connectNext(code);
  }

  #releaseFailedAttempts(): void {
    const failed = this.#failedUpstreams;
    if (failed === null) return;
    this.#failedUpstreams = null;
    for (const u of failed) this.#group!.failed(u);
  }

  #onUpstreamError(err: NodeJS.ErrnoException): void {
    if (this.#phase === Phase.Connecting) {
      this.#attemptFailed(ErrorCodes.ERR_UPSTREAM_CONNECT);
      return;
    }
    if (this.#phase === Phase.Relaying) {
      this.#setTermination(ErrorCodes.ERR_UPSTREAM_RESET);
      this.#host.logger.debug({ listener: this.#listener.name, err: err.code }, 'upstream socket error');
      this.#client.destroy();
    }
  }

  #onUpstreamTimeout(): void {
    if (this.#phase === Phase.Connecting) this.#attemptFailed(ErrorCodes.ERR_UPSTREAM_CONNECT_TIMEOUT);
  }

  #onUpstreamClose(): void {
    this.#upstreamClosed = true;
    // Closing cleanly after a half-close is normal; the client side finishes on its own. Only an
    // upstream that vanished before ending its stream takes the client down with it.
    const upstream = this.#upstreamSocket!;
    if (!upstream.readableEnded && !this.#clientClosed) {
      this.#setTermination(ErrorCodes.ERR_UPSTREAM_RESET);
      this.#client.destroy();
    }
    this.#maybeFinish();
  }

  #onClientError(_err: NodeJS.ErrnoException): void {
    this.#setTermination(ErrorCodes.ERR_CLIENT_RESET);
    this.#upstreamSocket?.destroy();
  }

  #onClientTimeout(): void {
    // In relay this is the idle timeout; otherwise the linger after a refusal ran out.
    if (this.#phase === Phase.Relaying) this.#setTermination(ErrorCodes.ERR_IDLE_TIMEOUT);
    this.#destroyBoth();
  }

  #onClientClose(): void {
    this.#clientClosed = true;
    const client = this.#client;
    if (this.#phase < Phase.Relaying) {
      // Gone before we reached an upstream: abandon any connect in flight.
      if (this.#phase !== Phase.Closing) this.#phase = Phase.Closing;
      this.#upstreamSocket?.destroy();
    } else if (!client.readableEnded && this.#upstreamSocket !== null && !this.#upstreamClosed) {
      this.#setTermination(ErrorCodes.ERR_CLIENT_RESET);
      this.#upstreamSocket.destroy();
    }
    this.#maybeFinish();
  }

  /** Refuses the session: counted and logged once (at finish) and closed without a word to the client. */
  fail(code: ErrorCode): void {
    if (this.#phase >= Phase.Closing) return;
    this.#setTermination(code);
    this.#phase = Phase.Closing;
    const client = this.#client;
    if (client.destroyed) return;
    // end() sends FIN (and close_notify on TLS); the short linger bounds how long a silent client keeps it.
    client.setTimeout(CLOSE_LINGER_MS);
    client.end();
    client.resume();
  }

  #setTermination(code: ErrorCode): void {
    if (this.#termination === 'OK') this.#termination = code;
  }

  /**
   * Cuts the session from our side (shutdown, idle timeout, max lifetime, upstream taken down). A
   * TLS client is sent close_notify first, so it can tell our close from a truncated stream, and
   * gets the refusal's short linger to answer before it is destroyed: the linger's 'timeout' comes
   * back here, and a client whose side is already ended is destroyed at once.
   */
  #destroyBoth(): void {
    if (this.#phase < Phase.Closing) this.#phase = Phase.Closing;
    const client = this.#client;
    if (this.#listener.kind === 'tls' && !client.writableEnded && !client.destroyed) {
      client.setTimeout(CLOSE_LINGER_MS);
      client.end();
      // Read on (and drop: the upstream is gone) so the client's own close is seen.
      client.resume();
    } else {
      client.destroy();
    }
    this.#upstreamSocket?.destroy();
  }

  #maybeFinish(): void {
    if (!this.#clientClosed || !this.#upstreamClosed || this.#phase === Phase.Closed) return;
    this.#phase = Phase.Closed;
    if (this.#lifetimeTimer !== null) clearTimeout(this.#lifetimeTimer);
    this.#releaseFailedAttempts();
    const upstream = this.#upstream;
    const socket = this.#upstreamSocket;
    if (upstream !== null && socket !== null) {
      if (this.#connected) this.#group!.release(upstream, socket.bytesRead, socket.bytesWritten);
      else this.#group!.cancelled(upstream);
    }
    if (this.#concurrencyHeld !== null) {
      this.#concurrencyHeld.release(this.#admissionKey);
      this.#concurrencyHeld = null;
    }
    const client = this.#client;
    const stats = this.#stats;
    stats.active--;
    stats.bytesFromClients += client.bytesRead;
    stats.bytesToClients += client.bytesWritten;
    const termination = this.#termination;
    if (termination !== 'OK') stats.reject(termination);
    this.#host.sessionClosed(this);
    const ended = this.#host.events.sessionEnded;
    if (!ended.hasSubscribers) return;
    const record: SessionRecord = {
      listener: this.#listener.name,
      clientAddress: this.#clientAddress,
      clientPort: this.#clientPort,
      clientId: this.#clientId,
      org: this.#org,
      group: this.#group?.name ?? '',
      upstream: upstream?.id ?? '',
      upstreamAddress: upstream?.address ?? '',
      bytesFromClient: client.bytesRead,
      bytesToClient: client.bytesWritten,
      durationMs: performance.now() - this.#startedAt,
      handshakeMs: this.#handshakeMs,
      connectMs: this.#connectMs,
      connectAttempts: this.#attempt,
      tlsVersion: this.#tlsVersion,
      tlsCipher: this.#tlsCipher,
      serverName: this.#serverName,
      termination,
    };
    ended.publish(record);
  }
}
