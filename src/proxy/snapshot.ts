/**
 * Plain-data pictures of the data plane for whoever watches it (admin API, metrics, later the
 * dashboard and the sum over worker processes). Built on request, never on the hot path; they hold
 * no live object, so they can be serialized, compared and added up.
 */
import type { UpstreamState } from '../lib/upstreams/upstream.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';

/** Where a live session is in its life. */
export type SessionPhase = 'admission' | 'connecting' | 'relaying' | 'closing' | 'closed';

/** A live session as the admin API lists it. */
export interface SessionSnapshot {
  listener: string;
  clientAddress: string;
  clientPort: number;
  /** Certificate CN; empty on plain TCP. */
  clientId: string;
  org: string;
  group: string;
  upstream: string;
  phase: SessionPhase;
  bytesFromClient: number;
  bytesToClient: number;
  /** Milliseconds since the session started. */
  ageMs: number;
}

/** The counters of one listener. */
export interface ListenerCounters {
  /** Connections accepted by the socket layer. */
  accepted: number;
  /** Sessions open (from accept to close, handshakes included). */
  active: number;
  /** TLS handshakes in progress. */
  handshaking: number;
  /** Sessions that reached an upstream. */
  proxied: number;
  /** Bytes read from clients, of ended sessions. */
  bytesFromClients: number;
  /** Bytes written to clients, of ended sessions. */
  bytesToClients: number;
  /** Refusals and bad endings by reason code, sorted by code. */
  rejections: Record<string, number>;
}

/** One listener: what it is, where it listens and its counters. */
export interface ListenerSnapshot {
  name: string;
  /** The listener kind, e.g. `tls` or `tcp`. */
  kind: string;
  /** Configured `host:port` (port 0 when a free port was asked for). */
  bind: string;
  /** Bound `host:port`, or null when not bound. */
  address: string | null;
  /** The bound port, or null when not bound. */
  port: number | null;
  listening: boolean;
  /** The group every connection goes to, for kinds that route without an identity (plain TCP). */
  group?: string;
  /** Most flows at once (UDP). */
  maxFlows?: number;
  /** A flow idle this long ends, ms (UDP). */
  flowIdleTimeoutMs?: number;
  /** Server name to group, for kinds that route by the ClientHello's SNI (TLS passthrough). */
  sniRoutes?: { serverName: string; group: string }[];
  /** Where clients without a server name, or one no route names, go (TLS passthrough). */
  defaultGroup?: string;
  stats: ListenerCounters;
}

/** One upstream's state and counters. */
export interface UpstreamSnapshot {
  id: string;
  address: string;
  state: UpstreamState;
  weight: number;
  maxConnections: number;
  /** In rotation (state up, healthy, not ejected): may take new connections, caps aside. */
  up: boolean;
  healthy: boolean;
  /** Taken out by passive health checking (outlier ejection). */
  ejected: boolean;
  active: number;
  connecting: number;
  total: number;
  /** Bytes received from the upstream, of ended connections. */
  bytesIn: number;
  /** Bytes sent to the upstream, of ended connections. */
  bytesOut: number;
  failures: number;
}

/** One group, its balancer and upstreams. */
export interface GroupSnapshot {
  name: string;
  balancer: string;
  upstreams: UpstreamSnapshot[];
  /** Connections still open on upstreams removed from the group (they run to their end). */
  retiredActive: number;
}

/** The whole data plane at one moment. */
export interface ProxySnapshot {
  /** True once shutdown has begun. */
  stopping: boolean;
  /** Sessions open, in any phase. */
  sessionCount: number;
  /** Whether a per-client rate limit and a concurrency cap are in force. */
  limits: { rate: boolean; concurrency: boolean };
  /** Every listener of the runtime in force, in configured order, bound or not. */
  listeners: ListenerSnapshot[];
  /** Every group of the runtime in force. */
  groups: GroupSnapshot[];
}

/** The picture of one group. */
export function groupSnapshot(g: UpstreamGroup): GroupSnapshot {
  return {
    name: g.name,
    balancer: g.balancer.name,
    upstreams: g.upstreams.map((u) => ({
      id: u.id,
      address: u.address,
      state: u.state,
      weight: u.weight,
      maxConnections: u.maxConnections,
      up: u.inRotation(),
      healthy: u.healthy,
      ejected: u.ejected,
      active: u.active,
      connecting: u.connecting,
      total: u.total,
      bytesIn: u.bytesIn,
      bytesOut: u.bytesOut,
      failures: u.failures,
    })),
    retiredActive: g.retiredActive,
  };
}
