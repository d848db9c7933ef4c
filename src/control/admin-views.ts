/**
 * What the admin API shows, computed from the proxy's plain-data snapshots: it never touches a live
 * listener, group or session.
 */
import type { UpstreamState } from '../lib/upstreams/upstream.js';
import type {
  GroupSnapshot,
  ListenerSnapshot,
  ProxySnapshot,
  SessionSnapshot,
  UpstreamSnapshot,
} from '../proxy/snapshot.js';

/** What the health checker last saw of one upstream; every field optional. */
export interface HealthStatus {
  /** When the last check finished, ms since the epoch. */
  lastCheckAt?: number;
  /** Outcome of the last check, e.g. `ok` or `timeout`. */
  lastResult?: string;
  /** Error text of the last failed check. */
  lastError?: string;
  /** When the checks last changed the upstream's health, ms since the epoch. */
  lastChangeAt?: number;
  /** While its weight ramps up after it came back (slow start): when the ramp ends, ms since the epoch. */
  slowStartUntil?: number;
}

/** Answers what the health checker knows of an upstream, or undefined when it knows nothing. */
export type HealthStatusFn = (group: string, id: string) => HealthStatus | undefined;

/** What the admin API reads from the proxy; a {@link ProxyServer} is one. */
export interface AdminSource {
  /** Listeners, groups and counters as plain data. */
  snapshot(): ProxySnapshot;
  /** Every open session as plain data. */
  sessionSnapshots(): SessionSnapshot[];
  /** Brings the two reads above up to date, when they come from elsewhere (other processes); awaited before each request. */
  refresh?(): Promise<void>;
}

/** One listener as the API shows it. */
export interface ListenerView {
  name: string;
  /** The listener kind, e.g. `tls` or `tcp`. */
  kind: string;
  /** Configured `host:port` (port 0 when a free port was asked for). */
  bind: string;
  /** Bound `host:port`, or null when not bound. */
  address: string | null;
  listening: boolean;
  /** Plain TCP listeners: the group every connection goes to. */
  group?: string;
  /** TLS passthrough listeners: server name to group, and the group for the rest. */
  sniRoutes?: ListenerSnapshot['sniRoutes'];
  defaultGroup?: string;
  /** UDP listeners: most flows at once, and how long a quiet flow lives (ms). */
  maxFlows?: number;
  flowIdleTimeoutMs?: number;
  /** Counts, with refusals and bad endings by reason code. */
  stats: ListenerSnapshot['stats'];
}

/** One upstream as the API shows it. */
export interface UpstreamView {
  id: string;
  address: string;
  state: UpstreamState;
  weight: number;
  maxConnections: number;
  /** In rotation (state up, healthy, not ejected): may take new connections, caps aside. */
  up: boolean;
  active: number;
  connecting: number;
  total: number;
  /** Bytes received from the upstream (towards clients), of ended connections. */
  bytesIn: number;
  /** Bytes sent to the upstream, of ended connections. */
  bytesOut: number;
  failures: number;
  /** `ejected`: taken out by passive health checking (outlier ejection). */
  health: { healthy: boolean; ejected: boolean } & HealthStatus;
}

/** One group as the API shows it. */
export interface GroupView {
  name: string;
  balancer: string;
  /** Upstreams in rotation: in state up, healthy and not ejected. */
  upstreamsUp: number;
  active: number;
  upstreams: UpstreamView[];
}

/** The clients with live sessions, aggregated by identity. */
export interface ClientView {
  /** Certificate CN, or the source address on plain TCP (and before a TLS identity is known). */
  id: string;
  /** Authorized org; empty on plain TCP. */
  org: string;
  /** Live sessions. */
  connections: number;
  bytesFromClient: number;
  bytesToClient: number;
}

/** One page of {@link ClientView}s. */
export interface ClientsPage {
  total: number;
  offset: number;
  limit: number;
  clients: ClientView[];
}

/** Whether the proxy should receive traffic, and if not, why. */
export interface Readiness {
  ready: boolean;
  reasons: string[];
}

/** The view of one listener (the snapshot without its port, in the API's key order). */
export function listenerView(l: ListenerSnapshot): ListenerView {
  const s = l.stats;
  return {
    name: l.name,
    kind: l.kind,
    bind: l.bind,
    address: l.address,
    listening: l.listening,
    ...(l.group === undefined ? {} : { group: l.group }),
    ...(l.sniRoutes === undefined ? {} : { sniRoutes: l.sniRoutes }),
    ...(l.defaultGroup === undefined ? {} : { defaultGroup: l.defaultGroup }),
    ...(l.maxFlows === undefined ? {} : { maxFlows: l.maxFlows, flowIdleTimeoutMs: l.flowIdleTimeoutMs }),
    stats: {
      accepted: s.accepted,
      active: s.active,
      handshaking: s.handshaking,
      proxied: s.proxied,
      bytesFromClients: s.bytesFromClients,
      bytesToClients: s.bytesToClients,
      rejections: s.rejections,
    },
  };
}

/** The view of one upstream of `group`. */
export function upstreamView(group: string, u: UpstreamSnapshot, health?: HealthStatusFn): UpstreamView {
  const h = health?.(group, u.id);
  return {
    id: u.id,
    address: u.address,
    state: u.state,
    weight: u.weight,
    maxConnections: u.maxConnections,
    up: u.up,
    active: u.active,
    connecting: u.connecting,
    total: u.total,
    bytesIn: u.bytesIn,
    bytesOut: u.bytesOut,
    failures: u.failures,
    health: {
      healthy: u.healthy,
      ejected: u.ejected,
      ...(h?.lastCheckAt === undefined ? {} : { lastCheckAt: h.lastCheckAt }),
      ...(h?.lastResult === undefined ? {} : { lastResult: h.lastResult }),
      ...(h?.lastError === undefined ? {} : { lastError: h.lastError }),
      ...(h?.lastChangeAt === undefined ? {} : { lastChangeAt: h.lastChangeAt }),
      ...(h?.slowStartUntil === undefined ? {} : { slowStartUntil: h.slowStartUntil }),
    },
  };
}

/** The view of one group and its upstreams. */
export function groupView(g: GroupSnapshot, health?: HealthStatusFn): GroupView {
  const upstreams = g.upstreams.map((u) => upstreamView(g.name, u, health));
  let upstreamsUp = 0;
  let active = 0;
  for (const u of upstreams) {
    if (u.up) upstreamsUp++;
    active += u.active;
  }
  return { name: g.name, balancer: g.balancer, upstreamsUp, active, upstreams };
}

/**
 * Live clients aggregated by id (the certificate CN; the source address on plain TCP), sorted by id
 * and paged. Sessions being refused or torn down (phase `closing`) are not connected clients.
 */
export function clientsPage(
  sessions: readonly SessionSnapshot[],
  offset: number,
  limit: number,
): ClientsPage {
  const byId = new Map<string, ClientView>();
  for (const s of sessions) {
    if (s.phase === 'closing' || s.phase === 'closed') continue;
    const id = s.clientId === '' ? s.clientAddress : s.clientId;
    let c = byId.get(id);
    if (c === undefined) {
      c = { id, org: s.org, connections: 0, bytesFromClient: 0, bytesToClient: 0 };
      byId.set(id, c);
    }
    if (c.org === '') c.org = s.org;
    c.connections++;
    c.bytesFromClient += s.bytesFromClient;
    c.bytesToClient += s.bytesToClient;
  }
  const all = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { total: all.length, offset, limit, clients: all.slice(offset, offset + limit) };
}

/**
 * Ready when not shutting down, every listener is bound and listening, and every group has at
 * least one upstream in rotation (state up, healthy, not ejected).
 */
export function readiness(snapshot: ProxySnapshot): Readiness {
  const reasons: string[] = [];
  if (snapshot.stopping) reasons.push('shutting down');
  for (const l of snapshot.listeners) {
    if (!l.listening) reasons.push(`listener "${l.name}" is not listening`);
  }
  for (const g of snapshot.groups) {
    if (!g.upstreams.some((u) => u.up)) {
      reasons.push(`group "${g.name}" has no upstream in rotation (up, healthy, not ejected)`);
    }
  }
  return { ready: reasons.length === 0, reasons };
}
