/**
 * The shapes the proxy benchmark suite is built from: upstreams that serve the load, targets that
 * carry it (directly, through Switchyard, HAProxy or NGINX), the load generator's results and the
 * rows of the report. Every part of `src/bench/` meets the others through these types only.
 */

/** A host and port on loopback. */
export interface Endpoint {
  host: string;
  port: number;
}

/**
 * What the benchmark upstreams serve; each kind listens on its own port.
 * - `http`: answers every request head (up to `\r\n\r\n`) with one fixed small HTTP/1.1 response;
 *   closes after the response when the request says `Connection: close`.
 * - `bulk`: writes a fixed 256 KiB buffer over and over to every connection, reads and discards
 *   whatever the client sends; for throughput.
 * - `echo`: writes back what it reads; the handshake and idle scenarios send one byte and wait for
 *   it, which proves the connection reached the upstream.
 * - `iperf3`: an `iperf3 -s` server, for the iperf3 rows. Where iperf3 is not installed the echo
 *   upstream stands in, so every target keeps the same listeners; the iperf3 rows are then left out.
 */
export type UpstreamKind = 'http' | 'bulk' | 'echo' | 'iperf3';

/** The kinds in a fixed order, for loops. */
export const UPSTREAM_KINDS: readonly UpstreamKind[] = ['http', 'bulk', 'echo', 'iperf3'];

/** The running benchmark upstreams (one child process). */
export interface BenchUpstreams {
  /** Where each kind listens (plain TCP, 127.0.0.1). */
  endpoints: Record<UpstreamKind, Endpoint>;
  /**
   * The echo upstream again, but terminating mutual TLS itself with the bench certificates, so the
   * `direct` target has a TLS row to compare against.
   */
  tlsEcho: Endpoint;
  /**
   * A UDP echo: every datagram goes back to its sender as it came. Not an {@link UpstreamKind}: those
   * are TCP, and every proxy target has a listener for each; only some targets proxy UDP.
   */
  udpEcho: Endpoint;
  /** PID of the upstream process, to leave out of (or report beside) proxy CPU. */
  pid: number;
  /** Whether `endpoints.iperf3` is a real iperf3 server (false: the echo upstream stands in). */
  iperf3: boolean;
  stop(): Promise<void>;
}

/** PEM file paths of the bench PKI (ECDSA P-256), all under the suite's work directory. */
export interface BenchCertFiles {
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** The server certificate followed by its key, for HAProxy's `crt`. */
  serverCombined: string;
  /** A client with CN `bench-client`, O `bench`: the org the proxies authorize. */
  clientCert: string;
  clientKey: string;
}

/**
 * The targets in the order they run and are reported. `switchyard` runs with its per-source guards
 * opened wide, `switchyard-defaults` with them at their defaults, as a user runs it,
 * `switchyard-workers` as `switchyard` with `workers: 2`; `naive` is a
 * plain Node.js `pipe` proxy, the floor Switchyard must never fall below.
 */
export type TargetName =
  | 'direct'
  | 'switchyard'
  | 'switchyard-defaults'
  | 'switchyard-workers'
  | 'naive'
  | 'haproxy'
  | 'nginx';

/** Everything a target needs to start. */
export interface TargetContext {
  upstreams: BenchUpstreams;
  certs: BenchCertFiles;
  /** A private directory for the target's config, logs and pid files; removed by the suite. */
  workDir: string;
}

/** A started target: where the load goes and which processes do its work. */
export interface RunningTarget {
  name: TargetName;
  /** Plain TCP endpoint that reaches upstream `kind`. */
  plain: Record<UpstreamKind, Endpoint>;
  /** Mutual-TLS endpoint (client certificate required) that reaches the echo upstream. */
  mtls: Endpoint;
  /** UDP endpoint that reaches the UDP echo upstream; absent when the target cannot proxy UDP. */
  udp?: Endpoint;
  /**
   * PIDs whose process trees (children and threads included) do the proxying; empty for `direct`.
   * CPU and memory are read from `/proc` of these trees.
   */
  pids: number[];
  /**
   * Connections the target's guards and limits have refused since it started, by reason code, for
   * targets that count them (Switchyard's /metrics); the suite reads it before and after each run so
   * a figure set by a guard is marked instead of reported as the proxy's.
   */
  refusals?(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** A proxy the suite can run; `direct` is the null target that hands out the upstreams themselves. */
export interface Target {
  name: TargetName;
  /** The version string when the target can run here, or undefined when it is not installed. */
  detect(): Promise<string | undefined>;
  start(context: TargetContext): Promise<RunningTarget>;
}

/** Latency percentiles in milliseconds. */
export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** What one load-generator run measured. */
export interface LoadResult {
  /** Completed units of work: requests, connections, handshakes, or bytes for bulk. */
  units: number;
  /** Failed attempts (refused, reset, timed out, bad response); reported, never hidden. */
  errors: number;
  /** Wall time of the measured span in ms. */
  elapsedMs: number;
  /** Per-unit latency when the scenario has one. */
  latency?: Latency;
  /** CPU the load generator itself used in the span, ms (user + system). */
  generatorCpuMs: number;
  /** Which generator produced it: `switchyard` (ours), `wrk`. */
  tool: string;
}

/** CPU and memory of a process tree, as read from `/proc`. */
export interface TreeUsage {
  /** user + system CPU in ms, summed over every process of the tree. */
  cpuMs: number;
  /** Resident set size summed over the tree, bytes. */
  rssBytes: number;
  /** PIDs that were found and read. */
  pids: number[];
}

/** One measured cell: a scenario through a target, median over repetitions. */
export interface BenchResult {
  scenario: string;
  target: TargetName;
  /** Median of the scenario's headline figure over the repetitions. */
  value: number;
  /** Every repetition's figure, in run order. */
  samples: number[];
  /** Unit of `value`, e.g. `req/s`, `Gbit/s`, `µs/conn`, `KB/conn`. */
  unit: string;
  /** Whether a larger value is better (rates) or a smaller one (CPU and memory per unit). */
  higherIsBetter: boolean;
  /** value / HAProxy's value in the same run, oriented so > 1 means better than HAProxy. */
  vsHaproxy?: number;
  /** value / direct's value in the same run, same orientation. */
  vsDirect?: number;
  /** value / the naive Node.js proxy's value in the same run, same orientation. */
  vsNaive?: number;
  /**
   * value / NGINX's value in the same run, same orientation; the report shows it where HAProxy has no
   * figure (UDP), so those rows keep a comparison with a production proxy.
   */
  vsNginx?: number;
  /** Median generator CPU share of the wall time (1 = one core busy), to show when it was the bottleneck. */
  generatorLoad?: number;
  /** Median of the scenario's latency percentiles, when it has them. */
  latency?: Latency;
  /** Errors over all repetitions. */
  errors: number;
  /**
   * Connections the target's guards refused during the runs, by reason code, over all repetitions;
   * absent when none were (or the target does not count them). A row with refusals measured a guard.
   */
  refused?: Record<string, number>;
}
