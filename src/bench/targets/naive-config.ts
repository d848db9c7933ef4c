/** The naive proxy's configuration: written by the target, read by the proxy process. */
import type { Endpoint } from '../types.js';

/** One listening port and the upstreams it spreads connections over. */
export interface NaiveListener {
  host: string;
  port: number;
  upstreams: Endpoint[];
  /** PEM file paths; present for the listener that terminates mutual TLS. */
  tls?: { cert: string; key: string; ca: string };
}

/** The UDP port and the one upstream its datagrams go to. */
export interface NaiveUdpListener {
  host: string;
  port: number;
  upstream: Endpoint;
}

/** The whole file: every listener the proxy opens. */
export interface NaiveProxyConfig {
  listeners: NaiveListener[];
  /** UDP listeners, each relaying datagrams to its upstream; absent or empty for none. */
  udp?: NaiveUdpListener[];
}
