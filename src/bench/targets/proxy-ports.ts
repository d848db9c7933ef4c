/** The ports of a proxy whose configuration names them up front (HAProxy, NGINX, the naive proxy). */
import { type Endpoint, type RunningTarget, UPSTREAM_KINDS, type UpstreamKind } from '../types.js';
import { freeLoopbackPorts, freeLoopbackUdpPort, LOOPBACK } from './free-port.js';

/** One port per upstream kind plus the mutual-TLS port, all on 127.0.0.1; a UDP port when the proxy has UDP. */
export interface ProxyPorts {
  plain: Record<UpstreamKind, number>;
  mtls: number;
  /** The UDP port in front of the UDP echo; absent for a proxy without UDP. */
  udp?: number;
}

/**
 * Picks distinct free loopback ports for a proxy's listeners: one per upstream kind and the mTLS
 * one, and a UDP port when `udp` is true.
 */
export async function pickProxyPorts(options: { udp?: boolean } = {}): Promise<ProxyPorts> {
  const free = await freeLoopbackPorts(UPSTREAM_KINDS.length + 1);
  const plain = Object.fromEntries(UPSTREAM_KINDS.map((kind, i) => [kind, free[i]])) as Record<
    UpstreamKind,
    number
  >;
  const ports: ProxyPorts = { plain, mtls: free[UPSTREAM_KINDS.length] };
  if (options.udp === true) ports.udp = await freeLoopbackUdpPort();
  return ports;
}

/** Every TCP port of `ports`, plain ones first. */
export function allPorts(ports: ProxyPorts): number[] {
  return [...UPSTREAM_KINDS.map((kind) => ports.plain[kind]), ports.mtls];
}

/** A loopback endpoint on `port`. */
export function loopbackEndpoint(port: number): Endpoint {
  return { host: LOOPBACK, port };
}

/** The endpoints a proxy on `ports` serves, in the shape of a running target. */
export function proxyEndpoints(ports: ProxyPorts): Pick<RunningTarget, 'plain' | 'mtls' | 'udp'> {
  const plain = Object.fromEntries(
    UPSTREAM_KINDS.map((kind) => [kind, loopbackEndpoint(ports.plain[kind])]),
  ) as Record<UpstreamKind, Endpoint>;
  const udp = ports.udp === undefined ? {} : { udp: loopbackEndpoint(ports.udp) };
  return { plain, mtls: loopbackEndpoint(ports.mtls), ...udp };
}
