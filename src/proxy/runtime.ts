import type { AddressRanges, AddressRules } from '../lib/address-ranges.js';
import type { AcceptProxyProtocol } from '../lib/proxy-protocol.js';
import type { RateLimitPeek } from '../lib/ratelimit/rate-limit-peek.js';
import type { Upstream } from '../lib/upstreams/upstream.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';
import type { Authorizer } from './authorize.js';
import type { ProxyProtocolVersion } from './proxy-header.js';
import type { SniRoutes } from './sni-routes.js';
import type { TlsMaterial } from './tls.js';
import type { UpstreamTls } from './upstream-tls.js';

/** Anything that answers "may this key go ahead?": 0 means yes, otherwise ms until it may retry. */
export interface RateGate {
  /** Takes one unit for `key`; a store that talks to a server answers with a promise. */
  take(key: string): number | Promise<number>;
  /** What `key` would be allowed now, counting nothing (for views); absent or undefined: cannot tell. */
  peek?(key: string): Promise<RateLimitPeek | undefined>;
}

/** A rate gate that answers at once; guards that run before any TLS work must not wait on a store. */
export interface SyncRateGate {
  /** 0 means go ahead, otherwise ms until `key` may retry. */
  take(key: string): number;
}

/** Caps simultaneous sessions per key. */
export interface ConcurrencyGate {
  /** Counts one more session for `key`, or returns false when it is at its cap; a shared gate answers later. */
  tryAcquire(key: string): boolean | Promise<boolean>;
  /** Counts one session of `key` less. */
  release(key: string): void;
  /** Sessions `key` holds now (for views); a shared gate answers later. */
  count?(key: string): number | Promise<number>;
  /** The cap, when the gate has one to show. */
  readonly limit?: number;
}

/** Told how each upstream connect attempt ended (passive health checking). */
export interface ConnectOutcomes {
  /** The connect succeeded. */
  recordSuccess(upstream: Upstream): void;
  /** The connect failed or timed out, with the reason code. */
  recordFailure(upstream: Upstream, reason: string): void;
}

/** Time limits of a session, in milliseconds; 0 disables the ones marked optional. */
export interface SessionTimeouts {
  /** From accept to a finished TLS handshake. */
  handshake: number;
  /** For one upstream connect attempt. */
  connect: number;
  /** No bytes either way for this long closes the session (0: never). */
  idle: number;
  /** A session never lives longer than this (0: no limit). */
  maxLifetime: number;
}

/** What a TLS listener needs beyond the common part. */
export interface TlsListenerRuntime {
  kind: 'tls';
  /** Certificates and protocol settings; a reload applies new material to new handshakes only. */
  tls: TlsMaterial;
  /** Maps a verified identity to a group name. */
  authorizer: Authorizer;
}

/** A plain TCP listener sends every connection to one group. */
export interface TcpListenerRuntime {
  kind: 'tcp';
  /** Group that takes every connection. */
  group: string;
}

/** A TLS passthrough listener routes by the ClientHello's server name and never terminates TLS. */
export interface TlsPassthroughListenerRuntime {
  kind: 'tls-passthrough';
  /** Server name to group, with the default for the rest. */
  sni: SniRoutes;
}

/** A UDP listener pins the flows of each client address and port to one upstream of one group. */
export interface UdpListenerRuntime {
  kind: 'udp';
  /** Group that takes every flow. */
  group: string;
  /** A flow with no datagram either way for this long ends, ms. */
  flowIdleTimeoutMs: number;
  /** Most flows at once; new clients' datagrams beyond it are dropped and counted. */
  maxFlows: number;
}

/** Everything one listener needs to run. */
export type ListenerRuntime = {
  /** Name used in logs and metrics. */
  name: string;
  /** Host to bind; `::` binds dual-stack. */
  host: string;
  /** Port to bind; 0 picks a free one (tests). */
  port: number;
  /** Most live sessions on this listener (0: no cap). */
  maxConnections: number;
  /** Limits new connections per source address before any TLS work; absent for none. */
  sourceGuard?: SyncRateGate;
  /** Most handshakes in progress at once on this listener (0: no cap). */
  maxPendingHandshakes: number;
  /** PROXY protocol header each upstream connection starts with. */
  proxyProtocol: ProxyProtocolVersion;
  /** PROXY protocol header read from the load balancer in front before anything else (`none`: none). */
  acceptProxyProtocol: AcceptProxyProtocol;
  /** Where a PROXY protocol header is taken from; every other source is refused. Absent with `none`. */
  trustedProxies?: AddressRanges;
  /** Which client addresses are let in (`allow` / `deny`); absent when both lists are empty. */
  addressRules?: AddressRules;
} & (TlsListenerRuntime | TcpListenerRuntime | TlsPassthroughListenerRuntime | UdpListenerRuntime);

/** A listener that accepts connections (every kind but UDP): the ones `kinds/` describe. */
export type StreamListenerRuntime = Exclude<ListenerRuntime, { kind: 'udp' }>;

/** A listener of datagrams. */
export type DatagramListenerRuntime = Extract<ListenerRuntime, { kind: 'udp' }>;

/** The whole typed model the data plane runs on; built from config by the composition root. */
export interface ProxyRuntime {
  /** Listeners to bind. */
  listeners: ListenerRuntime[];
  /** Upstream groups by name. */
  groups: Map<string, UpstreamGroup>;
  /** Which key a group's hashing balancer hashes: the client id or the source address. */
  hashKeys: Map<string, 'client-id' | 'source-ip'>;
  /** Per-client rate limit, absent for none. */
  rateLimit?: RateGate;
  /** Per-client concurrency cap, absent for none. */
  concurrency?: ConcurrencyGate;
  /** Session time limits. */
  timeouts: SessionTimeouts;
  /** Connect outcome listeners by group name (passive health); absent for groups without. */
  outcomes: Map<string, ConnectOutcomes>;
  /** Upstream connect attempts per session, at least 1. */
  connectAttempts: number;
  /** TLS to the upstreams of the groups that ask for it, by group name; absent or missing: plain TCP. */
  upstreamTls?: ReadonlyMap<string, UpstreamTls>;
}
