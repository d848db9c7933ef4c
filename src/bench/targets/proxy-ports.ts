/** The ports of a proxy whose configuration names them up front (HAProxy, NGINX, the naive proxy). */
import { type Endpoint, type RunningTarget, UPSTREAM_KINDS, type UpstreamKind } from '../types.js';
import { freeLoopbackPorts, LOOPBACK } from './free-port.js';

/** One port per upstream kind plus the mutual-TLS port, all on 127.0.0.1. */
export interface ProxyPorts {
  plain: Record<UpstreamKind, number>;
  mtls: number;
}

/** Picks distinct free loopback ports for a proxy's listeners: one per upstream kind and the mTLS one. */
export async function pickProxyPorts(): Promise<ProxyPorts> {
  const free = await freeLoopbackPorts(UPSTREAM_KINDS.length + 1);
  const plain = Object.fromEntries(UPSTREAM_KINDS.map((kind, i) => [kind, free[i]])) as Record<
    UpstreamKind,
    number
  >;
  return { plain, mtls: free[UPSTREAM_KINDS.length] };
}

/** Every port of `ports`, plain ones first. */
export function allPorts(ports: ProxyPorts): number[] {
  return [...UPSTREAM_KINDS.map((kind) => ports.plain[kind]), ports.mtls];
}

/** A loopback endpoint on `port`. */
export function loopbackEndpoint(port: number): Endpoint {
  return { host: LOOPBACK, port };
}

/** The endpoints a proxy on `ports` serves, in the shape of a running target. */
export function proxyEndpoints(ports: ProxyPorts): Pick<RunningTarget, 'plain' | 'mtls'> {
  const plain = Object.fromEntries(
    UPSTREAM_KINDS.map((kind) => [kind, loopbackEndpoint(ports.plain[kind])]),
  ) as Record<UpstreamKind, Endpoint>;
  return { plain, mtls: loopbackEndpoint(ports.mtls) };
}
