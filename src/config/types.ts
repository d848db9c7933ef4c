// The validated configuration model: what `parseConfigText` and `loadConfigFile` return. Every
// default is filled in, every duration is a number of milliseconds and every file path is absolute.

import type { AcceptProxyProtocol, ProxyProtocolVersion } from '../lib/proxy-protocol.js';

/** A TLS protocol version Switchyard accepts; older ones are refused at load time. */
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** Balancer names a group may use. */
export type BalancerName =
  | 'least-connections'
  | 'round-robin'
  | 'weighted-round-robin'
  | 'random'
  | 'power-of-two'
  | 'consistent-hash';

/** What a consistent-hash group hashes: the client certificate's CN, or the client's IP address. */
export type HashKey = 'client-id' | 'source-ip';

/** Administrative state of an upstream as configured. */
export type UpstreamStateName = 'up' | 'down' | 'draining' | 'maintenance';

/** PROXY protocol header sent to upstreams: none, text v1 or binary v2 (one list, in lib). */
export type { ProxyProtocolVersion };

/** Rate-limit algorithm names. */
export type RateLimitAlgorithm = 'fixed-window' | 'token-bucket' | 'sliding-window' | 'gcra';

/** Log levels, most verbose first. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** How a certificate with several O values is matched against routes. */
export type OrgRule = 'first' | 'any';

/** The whole validated configuration. */
export interface SwitchyardConfig {
  /** Where clients connect; at least one, names unique. */
  listeners: ListenerConfig[];
  /** Upstream groups by name; routes and plain TCP listeners refer to them. */
  groups: Record<string, GroupConfig>;
  /** Per-client admission rate; undefined means no rate limit. */
  rateLimit?: RateLimitConfig;
  /** Per-client concurrent connection cap. */
  concurrency: ConcurrencyConfig;
  /** Where the per-client rate limit and concurrency cap keep their counts: this process, or Redis. */
  limitStore: LimitStoreConfig;
  /** Every timeout, in milliseconds. */
  timeouts: TimeoutsConfig;
  /** Upstream connect behaviour. */
  connect: ConnectConfig;
  /** Admin HTTP API; undefined means no admin server. */
  admin?: AdminConfig;
  /** Logging. */
  log: LogConfig;
  /** What is re-read when files change. */
  reload: ReloadConfig;
  /** Data-plane processes: a count, or `auto` for one per available core. 1 runs everything in one process. */
  workers: WorkersSetting;
}

/** Where per-client limits are counted: `memory` (this balancer alone) or a Redis shared by replicas. */
export type LimitStoreConfig = { type: 'memory' } | RedisLimitStoreConfig;

/** A Redis that several balancers share their per-client counts through. */
export interface RedisLimitStoreConfig {
  type: 'redis';
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  /** Files for `rediss://`: the CA that signed Redis's certificate, and a client certificate and key. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** Put before every key, so several balancers (or other users) can share one Redis. */
  keyPrefix: string;
  /** Longest a connection attempt to Redis may take, ms. */
  connectTimeout: number;
  /** Longest a decision may wait for Redis before the failure policy decides, ms. */
  commandTimeout: number;
  /** When Redis cannot answer in time: `open` admits, `closed` refuses. */
  failurePolicy: 'open' | 'closed';
}

/** The `workers` setting as written: a count of processes, or `auto` (one per available core). */
export type WorkersSetting = number | 'auto';

/** File watching for hot reload; SIGHUP always reloads. */
export interface ReloadConfig {
  /** Re-read the configuration file when it changes. */
  watchConfig: boolean;
  /** Re-read certificate, key, CA and CRL files when they change (new handshakes only). */
  watchCertificates: boolean;
  /** How often watched files are checked, in milliseconds. */
  interval: number;
}

/** Settings every listener has, whatever it speaks. */
export interface ListenerBaseConfig {
  /** Unique name, used in logs and metrics. */
  name: string;
  /** `host:port` to listen on; port 0 picks a free port. */
  bind: string;
  /** Transport: `tcp` for every stream kind, `udp` for datagram flows. */
  protocol: 'tcp' | 'udp';
  /** Most simultaneous client connections; 0 means unlimited. */
  maxConnections: number;
  /** New connections allowed per source address per window, before any TLS work. */
  handshakeRate: HandshakeRateConfig;
  /** Most TLS handshakes in progress at once; 0 means unlimited. */
  maxPendingHandshakes: number;
  /** PROXY protocol header to send upstream. */
  proxyProtocol: ProxyProtocolVersion;
  /** PROXY protocol header to read from the load balancer in front, before anything else. */
  acceptProxyProtocol: AcceptProxyProtocol;
  /** Addresses and CIDR ranges a PROXY protocol header is taken from; every other source is refused. */
  trustedProxies: string[];
  /** When not empty, only client addresses in these ranges are let in. */
  allow: string[];
  /** Client addresses in these ranges are refused, even when `allow` has them. */
  deny: string[];
}

/** A mutual-TLS listener: routes pick a group from the client certificate's org. */
export interface TlsListenerConfig extends ListenerBaseConfig {
  /** Discriminant. */
  kind: 'tls';
  /** Server certificate, client CA and protocol settings. */
  tls: TlsConfig;
  /** Ordered routes; the first that matches the client decides the group. */
  routes: RouteConfig[];
}

/** A plain TCP listener: every connection goes to one group. */
export interface TcpListenerConfig extends ListenerBaseConfig {
  /** Discriminant. */
  kind: 'tcp';
  /** Name of the group all connections go to. */
  group: string;
}

/** A TLS passthrough listener: the ClientHello's server name picks the group; TLS ends upstream. */
export interface TlsPassthroughListenerConfig extends ListenerBaseConfig {
  /** Discriminant. */
  kind: 'tls-passthrough';
  /** Server name (exact, or `*.` and one label) to group; exact names win over wildcards. */
  sniRoutes: SniRouteConfig[];
  /** Group for clients without a server name or with one no route names; absent: refused. */
  defaultGroup?: string;
}

/** One `sniRoutes` entry. */
export interface SniRouteConfig {
  /** `api.example.com`, or `*.example.com` for exactly one more label. */
  serverName: string;
  /** Group the connection goes to. */
  group: string;
}

/** A UDP listener: datagrams from one client address and port form a flow pinned to one upstream of `group`. */
export interface UdpListenerConfig extends ListenerBaseConfig {
  /** Discriminant. */
  kind: 'udp';
  /** Name of the group all flows go to. */
  group: string;
  /** A flow with no datagram either way for this long ends, in milliseconds. */
  flowIdleTimeout: number;
  /** Most flows tracked at once; datagrams of new clients beyond it are dropped and counted. */
  maxFlows: number;
}

/** One listener, told apart by `kind` (or `'tls' in listener`). */
export type ListenerConfig =
  | TlsListenerConfig
  | TcpListenerConfig
  | TlsPassthroughListenerConfig
  | UdpListenerConfig;

/** Per-source limit on new connections; `perSource` 0 disables it. */
export interface HandshakeRateConfig {
  /** Connections allowed per source address per window; 0 disables the limit. */
  perSource: number;
  /** Window length in milliseconds. */
  window: number;
}

/** A TLS listener's certificate material and protocol settings. Paths are absolute. */
export interface TlsConfig {
  /** Server certificate chain (PEM). */
  cert: string;
  /** Server private key (PEM). */
  key: string;
  /** CA bundle client certificates must chain to (PEM). */
  clientCa: string;
  /** Certificate revocation list (PEM), if any. */
  crl?: string;
  /** Lowest TLS version offered. */
  minVersion: TlsVersion;
  /** Highest TLS version offered; never below `minVersion`. */
  maxVersion: TlsVersion;
  /** OpenSSL cipher list, if not Node's default. */
  ciphers?: string;
  /** OpenSSL curve list, if not Node's default. */
  ecdhCurve?: string;
  /** `any`: the first O (in certificate order) that has a route wins; `first`: only the first O counts. */
  orgRule: OrgRule;
}

/** One route of a TLS listener. */
export interface RouteConfig {
  /** Organization (certificate O) to match; `*` matches any. */
  org: string;
  /** If set, only these client ids (certificate CN) match. */
  clientIds?: string[];
  /** Group name, or the literal `{org}` for the group named like the client's org. */
  group: string;
}

/** A named set of upstreams and how to balance across them. */
export interface GroupConfig {
  /** Balancer name. */
  balancer: BalancerName;
  /** What consistent-hash hashes; plain TCP listeners always use the source IP. */
  hashKey: HashKey;
  /** consistent-hash: how far above average load one upstream may go (1.25 = 25 %); 0 (default) disables, keeping keys strictly sticky. */
  boundedLoad: number;
  /** Active health checks; absent means none (upstreams count as healthy). */
  healthCheck?: HealthCheckConfig;
  /** Passive checks: eject an upstream after consecutive connect failures; absent means none. */
  passiveHealth?: PassiveHealthConfig;
  /** Milliseconds over which a recovered upstream's weight ramps back up; 0 disables. */
  slowStart: number;
  /** Close live sessions of an upstream when health checks mark it down. */
  shutdownSessionsOnDown: boolean;
  /** Upstreams in configured order; ids unique. */
  upstreams: UpstreamConfig[];
  /** Connect to the upstreams over TLS (verified); absent means plain TCP. */
  upstreamTls?: UpstreamTlsConfig;
}

/** TLS from Switchyard to a group's upstreams; verification is always on. Paths are absolute. */
export interface UpstreamTlsConfig {
  /** CA certificates (PEM) the upstreams' certificates must chain to; absent: Node's public roots. */
  ca?: string;
  /** Name verified and sent as SNI; absent: the upstream's host (an IP address is verified, not sent). */
  serverName?: string;
  /** Client certificate chain (PEM) shown to upstreams; comes with `key`. */
  cert?: string;
  /** Private key (PEM) of `cert`. */
  key?: string;
  /** Lowest TLS version offered. */
  minVersion: TlsVersion;
}

/** What an active health check does: connect, TLS handshake, send and expect, or an HTTP GET. */
export type HealthCheckType = 'tcp' | 'tls' | 'send-expect' | 'http' | 'udp';

/** Active health checking of a group's upstreams. Durations in milliseconds; file paths absolute. */
export interface HealthCheckConfig {
  /** What a check does. */
  type: HealthCheckType;
  /** False checks no upstream unless its own `healthCheck` turns checking on. */
  enabled: boolean;
  /** Time between checks of a healthy upstream. */
  interval: number;
  /** Time between checks of an unhealthy upstream; defaults to `interval`. */
  downInterval?: number;
  /** Longest one check may take. */
  timeout: number;
  /** Consecutive passes that make an unhealthy upstream healthy. */
  rise: number;
  /** Consecutive failures that make a healthy upstream unhealthy. */
  fall: number;
  /** Random spread of each interval, as a fraction (0.1 = plus or minus 10 %), below 1. */
  jitter: number;
  /** Health assumed before the first check. */
  initialState: 'healthy' | 'unhealthy';
  /** Port to check instead of the upstream's own. */
  port?: number;
  /** http: request path. */
  path?: string;
  /** http: accepted statuses, e.g. "200-399" or "200,204". */
  expectStatus?: string;
  /** send-expect and udp: bytes to send. */
  send?: string;
  /** send-expect and udp: text the reply must contain. */
  expect?: string;
  /** Client TLS of the check: the handshake for `tls`, HTTPS for `http`, send-expect over TLS. */
  tls?: HealthCheckTlsConfig;
}

/** The client side of a health check's TLS. Paths are absolute. */
export interface HealthCheckTlsConfig {
  /** Client certificate chain (PEM) shown to upstreams that require one; comes with `key`. */
  cert?: string;
  /** Private key (PEM) of `cert`. */
  key?: string;
  /** CA certificates (PEM) the upstream's certificate must chain to when verified. */
  ca?: string;
  /** SNI and the name verified; default the upstream's host when it is a DNS name. */
  servername?: string;
  /** Verify the upstream's certificate; absent means "verify when `ca` is given". */
  verify?: boolean;
}

/**
 * An upstream's changes to its group's health check, as written: every key optional, none
 * defaulted, so only what the upstream sets replaces the group's setting (`tls` key by key).
 */
export type HealthCheckOverride = Partial<HealthCheckConfig>;

/** Outlier ejection after consecutive connect failures. Durations in milliseconds. */
export interface PassiveHealthConfig {
  /** Consecutive connect failures or timeouts that eject an upstream. */
  consecutiveFailures: number;
  /** First ejection's length; repeated ejections last longer. */
  baseEjectionTime: number;
  /** Longest ejection. */
  maxEjectionTime: number;
  /** Most of a group's upstreams ejected at once, percent. */
  maxEjectionPercent: number;
}

/** One upstream as configured. */
export interface UpstreamConfig {
  /** Canonical `host:port`, IPv6 literals in brackets. */
  address: string;
  /** Stable name; defaults to the address. */
  id: string;
  /** Relative share of connections, above 0. */
  weight: number;
  /** Most simultaneous connections; 0 means no cap. */
  maxConnections: number;
  /** Initial administrative state. */
  state: UpstreamStateName;
  /** This upstream's changes to the group's health check; with none in the group, its own check. */
  healthCheck?: HealthCheckOverride;
}

/** Per-client admission rate limit. */
export interface RateLimitConfig {
  /** Algorithm name. */
  algorithm: RateLimitAlgorithm;
  /** Connections allowed per window. */
  limit: number;
  /** Window length in milliseconds, above 0. */
  window: number;
  /** Extra connections allowed in a burst (token-bucket and gcra only). */
  burst?: number;
}

/** Per-client concurrency cap. */
export interface ConcurrencyConfig {
  /** Most simultaneous connections per client id; 0 means unlimited. */
  perClient: number;
}

/** Every timeout in milliseconds; 0 disables the ones documented as optional. */
export interface TimeoutsConfig {
  /** Longest a TLS handshake may take. */
  handshake: number;
  /** Longest an upstream connect may take, per attempt. */
  connect: number;
  /** Close a session with no traffic either way for this long; 0 disables. */
  idle: number;
  /** Close a session this long after it started; 0 disables. */
  maxLifetime: number;
  /** How long shutdown waits for sessions to finish before closing them. */
  shutdownGrace: number;
  /** Up to this much random delay added per session when closing, to spread reconnects. */
  shutdownJitter: number;
}

/** Upstream connect behaviour. */
export interface ConnectConfig {
  /** Upstreams tried per connection before giving up, 1 to 10. */
  attempts: number;
}

/** The admin HTTP API. */
export interface AdminConfig {
  /** `host:port` to listen on. */
  bind: string;
  /** Bearer token required for changes, if set. */
  token?: string;
}

/** Logging settings. */
export interface LogConfig {
  /** Lowest level written. */
  level: LogLevel;
  /** `json` lines, `pretty` lines for people, or `auto`: pretty when stdout is a terminal. */
  format: 'auto' | 'json' | 'pretty';
  /**
   * Where the per-session access lines go: `stdout` (with the other lines), `off`, or a file path
   * (absolute, or relative to the configuration file) written as JSON lines and reopened on SIGUSR1.
   */
  accessLog: string;
}
