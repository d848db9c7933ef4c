/**
 * The data plane's one event stream. Everything that watches the proxy (metrics, the access log,
 * the admin API, later the dashboard and the aggregation of worker processes) subscribes here
 * instead of reaching into listeners or sessions.
 *
 * Shaped like `node:diagnostics_channel` (undici's use of it): a publisher asks `hasSubscribers`
 * first and builds the message only when someone listens, so an unwatched event costs one field
 * read. The channels belong to one proxy rather than to the process, because several proxies share
 * a process (tests, programs embedding the library) and must not hear each other; each message is
 * also published on the process-wide channel of the same name (`switchyard:session:ended`, ...)
 * when that one has subscribers, for tracing tools.
 */
import { channel as processChannel } from 'node:diagnostics_channel';
import type { ErrorCode } from '../lib/errors.js';

/** Told when a subscriber of channel `name` threw. */
export type SubscriberErrorHandler = (name: string, err: unknown) => void;

function rethrowLater(_name: string, err: unknown): void {
  // Without a handler a bug in a subscriber must still be seen, but not in the middle of the data plane.
  setImmediate(() => {
    throw err;
  });
}

/** One kind of event; subscribers are called synchronously, in subscription order. */
export class EventChannel<T> {
  /** The process-wide channel name this one mirrors, e.g. `switchyard:session:ended`. */
  readonly name: string;
  #subscribers: ((message: T) => void)[] = [];
  readonly #mirror: ReturnType<typeof processChannel>;
  readonly #onError: SubscriberErrorHandler;

  constructor(name: string, onError: SubscriberErrorHandler = rethrowLater) {
    this.name = name;
    this.#mirror = processChannel(name);
    this.#onError = onError;
  }

  /** True when publishing would reach anyone; check it before building a message. */
  get hasSubscribers(): boolean {
    return this.#subscribers.length > 0 || this.#mirror.hasSubscribers;
  }

  /** Calls `fn` with every later message. */
  subscribe(fn: (message: T) => void): void {
    // Copy on write: a subscriber that unsubscribes while a message is delivered does not skip another.
    this.#subscribers = [...this.#subscribers, fn];
  }

  /** Stops calling `fn`; true if it was subscribed. */
  unsubscribe(fn: (message: T) => void): boolean {
    const i = this.#subscribers.indexOf(fn);
    if (i < 0) return false;
    this.#subscribers = this.#subscribers.filter((_, j) => j !== i);
    return true;
  }

  /**
   * Delivers `message` to every subscriber. A subscriber that throws does not stop the others or
   * the data plane: its error goes to the channel's error handler (the proxy logs it).
   */
  publish(message: T): void {
    const subscribers = this.#subscribers;
    for (let i = 0; i < subscribers.length; i++) {
      try {
        subscribers[i](message);
      } catch (err) {
        this.#onError(this.name, err);
      }
    }
    if (this.#mirror.hasSubscribers) this.#mirror.publish(message);
  }
}

/** A connection refused before a session existed: a listener guard, a failed handshake, a certificate. */
export interface ConnectionRefusedEvent {
  listener: string;
  reason: ErrorCode;
  clientAddress: string;
}

/** A session passed authorization and the per-client gates and goes on to pick an upstream. */
export interface SessionAdmittedEvent {
  listener: string;
  /** Certificate CN; empty on plain TCP. */
  clientId: string;
  clientAddress: string;
  clientPort: number;
  group: string;
  /** A rate limit was asked (and allowed the session). */
  rateChecked: boolean;
  /** A concurrency cap was asked (and gave the session a slot). */
  concurrencyChecked: boolean;
}

/** An upstream was picked for one connect attempt of a session. */
export interface UpstreamPickedEvent {
  listener: string;
  group: string;
  upstream: string;
  /** 1 for the first attempt. */
  attempt: number;
}

/** What the access log and metrics learn when a session ends, refused or not. */
export interface SessionEndedEvent {
  /** Listener name. */
  listener: string;
  /** Client source address and port. */
  clientAddress: string;
  clientPort: number;
  /** Client id (certificate CN); empty on plain TCP listeners. */
  clientId: string;
  /** The org that was authorized; empty on plain TCP listeners. */
  org: string;
  /** Group that served the session; empty when refused before routing. */
  group: string;
  /** Upstream id; empty when none was reached. */
  upstream: string;
  /** The upstream's `host:port` (IPv6 in brackets), also when it has an id; empty when none was picked. */
  upstreamAddress: string;
  /** Bytes read from the client. */
  bytesFromClient: number;
  /** Bytes written to the client. */
  bytesToClient: number;
  /** Datagrams from the client (UDP flows only). */
  packetsFromClient?: number;
  /** Datagrams to the client (UDP flows only). */
  packetsToClient?: number;
  /** Milliseconds from session start (handshake done, or accept on plain TCP) to close. */
  durationMs: number;
  /** Milliseconds the TLS handshake took from accept (0 on plain TCP). */
  handshakeMs: number;
  /** Milliseconds the successful upstream connect took (0 when none). */
  connectMs: number;
  /** Upstream connects tried, the successful one included; retries are this minus one. */
  connectAttempts: number;
  /** Negotiated TLS version (`TLSv1.3`); empty on plain TCP. */
  tlsVersion: string;
  /** Negotiated cipher suite, OpenSSL's name; empty on plain TCP. */
  tlsCipher: string;
  /** Server name (SNI) the client asked for; empty when it sent none. */
  serverName: string;
  /** ALPN protocols the client offered, comma-separated (TLS passthrough, which reads its hello); else empty. */
  alpn: string;
  /** `OK` for a normal end, otherwise the reason code. */
  termination: ErrorCode | 'OK';
}

/** The record of one ended session (the access log's line). */
export type SessionRecord = SessionEndedEvent;

/** A TLS handshake on a listener succeeded. */
export interface HandshakeEvent {
  listener: string;
  /** From accept to the finished handshake. */
  ms: number;
}

/** A listener's socket was bound and accepts connections. */
export interface ListenerBoundEvent {
  listener: string;
  kind: string;
  address: string;
  port: number;
}

/** A listener stopped accepting (removed, moved away from this address, or shutdown). */
export interface ListenerClosedEvent {
  listener: string;
  address: string;
  port: number;
}

/** Every channel of one proxy. */
export class ProxyEvents {
  readonly connectionRefused: EventChannel<ConnectionRefusedEvent>;
  readonly sessionAdmitted: EventChannel<SessionAdmittedEvent>;
  readonly upstreamPicked: EventChannel<UpstreamPickedEvent>;
  readonly sessionEnded: EventChannel<SessionEndedEvent>;
  readonly handshake: EventChannel<HandshakeEvent>;
  readonly listenerBound: EventChannel<ListenerBoundEvent>;
  readonly listenerClosed: EventChannel<ListenerClosedEvent>;

  constructor(onError?: SubscriberErrorHandler) {
    this.connectionRefused = new EventChannel('switchyard:connection:refused', onError);
    this.sessionAdmitted = new EventChannel('switchyard:session:admitted', onError);
    this.upstreamPicked = new EventChannel('switchyard:upstream:picked', onError);
    this.sessionEnded = new EventChannel('switchyard:session:ended', onError);
    this.handshake = new EventChannel('switchyard:handshake', onError);
    this.listenerBound = new EventChannel('switchyard:listener:bound', onError);
    this.listenerClosed = new EventChannel('switchyard:listener:closed', onError);
  }
}
