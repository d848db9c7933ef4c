import type { Socket } from 'node:net';
import type { ErrorCode } from '../../lib/errors.js';
import type { ProxyEvents } from '../events.js';
import type { ProxiedTls } from '../proxy-header.js';
import type { ListenerRuntime, ProxyRuntime } from '../runtime.js';
import type { ListenerSnapshot } from '../snapshot.js';
import type { ListenerStats } from '../stats.js';

/**
 * One kind of listener (`tcp`, `tls`): everything a listener and a session do differently by kind,
 * so that neither of them branches on it.
 *
 * A new stream kind is one module implementing this interface plus one line in `registry.ts` (and
 * its runtime shape in `runtime.ts` and config schema outside the proxy); datagrams (UDP) fit none
 * of it and have a listener class of their own behind `proxy-listener.ts`. It
 * says what happens to an accepted connection before a session starts ({@link intake}: a plain
 * start, a handshake, a guard of its own), how a session finds its group ({@link route}: a fixed
 * group, or an identity and an authorizer), which key a hashing balancer hashes by default
 * ({@link hashKey}), what a PROXY protocol v2 header says about the client's TLS
 * ({@link proxiedTls}), whether cutting a session must first tell the client
 * ({@link endsWithCloseNotify}) and what `check` and the admin API show of it ({@link describe}).
 */
export interface ListenerKind<R extends ListenerRuntime = ListenerRuntime> {
  /** The config name of the kind, the `kind` of its listener runtimes. */
  readonly name: R['kind'];
  /** The per-listener part that takes accepted connections; a listener has one while it is of this kind. */
  intake(listener: AcceptingListener, rt: R, handshakeTimeoutMs: number): ConnectionIntake<R>;
  /**
   * Finds the group of a session that just started and tells the session, which goes on to
   * admission with it; or refuses the session through {@link RoutedSession.fail}.
   */
  route(client: Socket, rt: R, session: RoutedSession): void;
  /** What a hashing balancer of `group` hashes for sessions of this kind. */
  hashKey(runtime: ProxyRuntime, group: string): HashKeySource;
  /** The TLS facts a PROXY protocol v2 header carries for this client; undefined when there are none. */
  proxiedTls(client: Socket, clientId: string): ProxiedTls | undefined;
  /** True when a client must be told before we cut its session (TLS: close_notify, so it can tell a cut from a truncated stream). */
  readonly endsWithCloseNotify: boolean;
  /**
   * True when the relay reads the accepted socket itself (its managed buffers, no allocation per
   * read); false when something else reads it first (TLS: OpenSSL reads the raw socket and the relay
   * gets the cleartext).
   */
  readonly relayReadsSocket: boolean;
  /** The kind's own fields of a listener's picture (for `check` and the admin API). */
  describe(rt: R): KindFields;
}

/** Which key a hashing balancer hashes: the client's id or its source address. */
export type HashKeySource = 'client-id' | 'source-ip';

/** The fields of a listener snapshot that only some kinds have. */
export type KindFields = Pick<ListenerSnapshot, 'group' | 'sniRoutes' | 'defaultGroup'>;

/** What a listener offers its kind's intake. */
export interface AcceptingListener {
  /** Listener name, for events and logs. */
  readonly name: string;
  /** The listener's live counters. */
  readonly stats: ListenerStats;
  /** The proxy's event stream. */
  readonly events: ProxyEvents;
  /** Starts a session on a connection the kind is done with; `handshakeMs` is 0 without a handshake. */
  startSession(socket: Socket, handshakeMs: number): void;
  /** Counts, publishes and logs (rate-limited) a refusal before any session; the caller closed the socket. */
  refused(code: ErrorCode, clientAddress: string, detail: string): void;
}

/** A kind's part of one listener: what happens to connections between accept and session. */
export interface ConnectionIntake<R extends ListenerRuntime = ListenerRuntime> {
  /**
   * A refusal of the kind's own before any work (e.g. too many handshakes in progress), or
   * undefined. Runs after the connection cap and before the per-source rate.
   */
  guard(stats: ListenerStats): ErrorCode | undefined;
  /** Takes a connection that passed every guard (already counted active) on towards a session. */
  accept(socket: Socket): void;
  /** New settings of the same kind for connections accepted from now on. */
  update(rt: R, handshakeTimeoutMs: number): void;
  /** Session-ticket keys derived anew from the process's shared secret (kinds with TLS handshakes). */
  renewTicketKeys?(): void;
}

/** A starting session as its kind's {@link ListenerKind.route} sees it. */
export interface RoutedSession {
  /** The client's source address. */
  readonly clientAddress: string;
  /**
   * What a TLS handshake agreed, for the session's record (read while the socket is open); `alpn`
   * is what a ClientHello offered, comma-separated, for kinds that read one without answering it.
   */
  negotiated(tlsVersion: string, tlsCipher: string, serverName: string, alpn?: string): void;
  /** Who the client is, as far as known, for the session's record: also a refused session has one. */
  identified(clientId: string, org: string): void;
  /** The group the session goes to, and the key the per-client limits count it under. */
  routed(group: string, admissionKey: string): void;
  /** Refuses the session with `code`. */
  fail(code: ErrorCode): void;
}
