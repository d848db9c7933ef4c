import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { type ErrorCode, ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { Upstream } from '../lib/upstreams/upstream.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';
import type { ListenerKind } from './kinds/listener-kind.js';
import { ignoreError, type OwnedSocket, sessionOf } from './owned-socket.js';
import { managedReadOptions } from './relay.js';
import type { ListenerRuntime, ProxyRuntime } from './runtime.js';
import type { SessionHost } from './session.js';
import { type UpstreamTls, upstreamTlsFailure } from './upstream-tls.js';

/**
 * An admitted session as connect-with-retry sees it. The fields below `group` are this module's
 * state, kept on the session itself so that a connection stays one object; nothing else writes them.
 */
export interface ConnectingSession {
  readonly host: SessionHost;
  readonly runtime: ProxyRuntime;
  readonly listener: ListenerRuntime;
  readonly kind: ListenerKind;
  readonly clientAddress: string;
  readonly clientId: string;
  /** True while the session waits for an upstream connection. */
  readonly connecting: boolean;
  /** True once the session is being closed. */
  readonly closing: boolean;
  /** The admitted session's group. */
  readonly group: UpstreamGroup | null;
  /** The upstream picked last: connected, being connected to, or null after a failed attempt. */
  upstream: Upstream | null;
  upstreamSocket: Socket | null;
  /** Attempts made so far. */
  attempt: number;
  /** Upstreams that failed this session, their leases held until it settles. */
  failedUpstreams: Upstream[] | null;
  /** True once an upstream connection succeeded. */
  connected: boolean;
  /** True while no upstream socket is open. */
  upstreamClosed: boolean;
  connectStartedAt: number;
  /** How long the successful connect took. */
  connectMs: number;
  /** No upstream could be reached: refuse with the last failure. */
  fail(code: ErrorCode): void;
  /** The upstream connection is up (TLS included): relaying starts. */
  upstreamConnected(): void;
  /** The PROXY protocol header the upstream connection starts with, or null when it sends none. */
  proxyHeader(): Buffer | null;
  /** An attempt ended while the session was closing: it may be able to finish now. */
  settle(): void;
  /** The connected upstream's socket failed. */
  upstreamSocketError(err: NodeJS.ErrnoException): void;
  /** The upstream socket closed (the session's, whatever phase it is in). */
  upstreamSocketClosed(): void;
}

type UpstreamSocket = OwnedSocket<ConnectingSession>;

// One handler per event for every session: each finds its session through the socket.
function onConnect(this: UpstreamSocket): void {
  const s = this[sessionOf]!;
  const tls = upstreamTlsOf(s);
  if (tls === undefined) connected(s);
  // Gone while the TCP connect ran: no handshake for nobody; the close settles the session.
  else if (s.closing) this.destroy();
  else startTls(s, this, tls);
}
function onSecureConnect(this: UpstreamSocket): void {
  connected(this[sessionOf]!);
}
function onError(this: UpstreamSocket, err: NodeJS.ErrnoException): void {
  const s = this[sessionOf]!;
  // Only the TLS socket is encrypted: its failures are the handshake's, with a code per reason.
  if (s.connecting)
    attemptFailed(
      s,
      (this as TLSSocket).encrypted === true ? upstreamTlsFailure(err) : ErrorCodes.ERR_UPSTREAM_CONNECT,
    );
  else s.upstreamSocketError(err);
}
function onSession(this: UpstreamSocket, session: Buffer): void {
  const s = this[sessionOf]!;
  if (s.upstream !== null) upstreamTlsOf(s)?.remember(s.upstream, session);
}
function onTimeout(this: UpstreamSocket): void {
  const s = this[sessionOf]!;
  if (s.connecting) attemptFailed(s, ErrorCodes.ERR_UPSTREAM_CONNECT_TIMEOUT);
}
function onClose(this: UpstreamSocket): void {
  this[sessionOf]!.upstreamSocketClosed();
}

/**
 * Picks an upstream and connects to it with the connect timeout; while attempts remain, a failed
 * attempt goes on to the next pick, and when none remain the session is refused with the last
 * failure (`lastFailure` when this call cannot pick at all).
 */
export function connectNext(s: ConnectingSession, lastFailure: ErrorCode): void {
  if (s.attempt >= s.runtime.connectAttempts) {
    s.fail(lastFailure);
    return;
  }
  const group = s.group!;
  let upstream: Upstream;
  try {
    upstream = pickUpstream(group, attemptKey(s, group), s.failedUpstreams);
  } catch (err) {
    s.fail(
      err instanceof SwitchyardError && s.attempt > 0 ? lastFailure : ErrorCodes.ERR_NO_HEALTHY_UPSTREAM,
    );
    return;
  }
  s.attempt++;
  s.upstream = upstream;
  const picked = s.host.events.upstreamPicked;
  if (picked.hasSubscribers)
    picked.publish({
      listener: s.listener.name,
      group: group.name,
      upstream: upstream.id,
      attempt: s.attempt,
    });
  s.connectStartedAt = performance.now();
  // A socket TLS will wrap reads through the TLS layer, never into the relay's managed buffers.
  const socket = netConnect({
    host: upstream.host,
    port: upstream.port,
    allowHalfOpen: true,
    noDelay: true,
    onread: upstreamTlsOf(s) === undefined ? managedReadOptions : undefined,
  });
  s.upstreamSocket = socket;
  s.upstreamClosed = false;
  socket.setTimeout(s.runtime.timeouts.connect);
  (socket as UpstreamSocket)[sessionOf] = s;
  // `on`, not `once`, for events a socket emits once: `once` allocates a wrapper and its state per
  // call, which an idle connection would otherwise keep.
  socket.on('connect', onConnect);
  socket.on('error', onError);
  socket.on('timeout', onTimeout);
  socket.on('close', onClose);
}

/** The session's group's TLS to its upstreams, undefined for plain TCP. */
function upstreamTlsOf(s: ConnectingSession): UpstreamTls | undefined {
  return s.runtime.upstreamTls?.get(s.group!.name);
}

/**
 * The TCP connection is up: the PROXY header goes first, in the clear (as HAProxy's `send-proxy`
 * with `ssl` does, and as servers that take both read it), then the handshake over the same socket.
 * The TLS socket takes over the attempt with what is left of the connect timeout.
 */
function startTls(s: ConnectingSession, tcp: UpstreamSocket, tls: UpstreamTls): void {
  detach(tcp);
  tcp.setTimeout(0);
  const header = s.proxyHeader();
  if (header !== null) tcp.write(header);
  const socket = tls.connect(tcp, s.upstream!) as TLSSocket & UpstreamSocket;
  s.upstreamSocket = socket;
  socket[sessionOf] = s;
  const left = s.runtime.timeouts.connect - (performance.now() - s.connectStartedAt);
  socket.setTimeout(Math.max(1, Math.ceil(left)));
  socket.on('secureConnect', onSecureConnect);
  socket.on('session', onSession);
  socket.on('error', onError);
  socket.on('timeout', onTimeout);
  socket.on('close', onClose);
}

/** Takes this module's handlers off a socket; its later errors are ignored. */
function detach(socket: Socket): void {
  socket.removeListener('close', onClose);
  socket.removeListener('timeout', onTimeout);
  socket.removeListener('connect', onConnect);
  socket.removeListener('secureConnect', onSecureConnect);
  socket.removeListener('error', onError);
  socket.on('error', ignoreError);
}

/** What the group's hashing balancer hashes for this attempt. */
function attemptKey(s: ConnectingSession, group: UpstreamGroup): string {
  const key = s.kind.hashKey(s.runtime, group.name) === 'source-ip' ? s.clientAddress : s.clientId;
  // A retry must not hash to the upstream that just failed.
  return s.attempt === 0 ? key : `${key}#${s.attempt}`;
}

/** A retry prefers an upstream that has not failed this session; the failed ones only if nothing else is left. */
function pickUpstream(group: UpstreamGroup, key: string, failed: Upstream[] | null): Upstream {
  if (failed === null) return group.pick(key);
  try {
    return group.pickExcept(key, failed);
  } catch {
    return group.pick(key);
  }
}

function connected(s: ConnectingSession): void {
  const socket = s.upstreamSocket!;
  const group = s.group!;
  s.connectMs = performance.now() - s.connectStartedAt;
  group.connected(s.upstream!);
  s.runtime.outcomes.get(group.name)?.recordSuccess(s.upstream!);
  s.connected = true;
  releaseFailedAttempts(s);
  if (s.closing) {
    socket.destroy();
    return;
  }
  socket.setTimeout(0);
  s.upstreamConnected();
}

/** A connect attempt failed: passive health hears of it, and the next pick is tried while attempts remain. */
function attemptFailed(s: ConnectingSession, code: ErrorCode): void {
  const socket = s.upstreamSocket!;
  const upstream = s.upstream!;
  const group = s.group!;
  detach(socket);
  socket.destroy();
  // a session that led to a failed handshake is not offered again
  if ((socket as TLSSocket).encrypted === true) upstreamTlsOf(s)?.forget(upstream);
  s.upstreamSocket = null;
  s.upstreamClosed = true;
  s.upstream = null;
  s.host.logger.warn(
    { listener: s.listener.name, group: group.name, upstream: upstream.id, reason: code },
    'upstream connect failed',
  );
  s.runtime.outcomes.get(group.name)?.recordFailure(upstream, code);
  // Hold the failed lease until the session settles, so load-aware balancers look elsewhere.
  (s.failedUpstreams ??= []).push(upstream);
  if (s.closing) {
    s.settle();
    return;
  }
  connectNext(s, code);
}

function releaseFailedAttempts(s: ConnectingSession): void {
  const failed = s.failedUpstreams;
  if (failed === null) return;
  s.failedUpstreams = null;
  for (const u of failed) s.group!.failed(u);
}

/** Gives back what the session's attempts hold in its group: failed leases, and the upstream it reached or was reaching. */
export function releaseUpstream(s: ConnectingSession): void {
  releaseFailedAttempts(s);
  const upstream = s.upstream;
  const socket = s.upstreamSocket;
  if (upstream === null || socket === null) return;
  if (s.connected) s.group!.release(upstream, socket.bytesRead, socket.bytesWritten);
  else s.group!.cancelled(upstream);
}
