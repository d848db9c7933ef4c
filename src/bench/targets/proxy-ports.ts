/** The ports of a proxy whose configuration names them up front (HAProxy, NGINX). */
import type { Endpoint, RunningTarget, UpstreamKind } from '../types.js';
import { freeLoopbackPorts, LOOPBACK } from './free-port.js';

/** One port per upstream kind plus the mutual-TLS port, all on 127.0.0.1. */
export interface ProxyPorts {
  plain: Record<UpstreamKind, number>;
  mtls: number;
}

/** Picks four distinct free loopback ports for a proxy's listeners. */
export async function pickProxyPorts(): Promise<ProxyPorts> {
  const [http, bulk, echo, mtls] = await freeLoopbackPorts(4);
  return { plain: { http, bulk, echo }, mtls };
}

/** Every port of `ports`, plain ones first. */
export function allPorts(ports: ProxyPorts): number[] {
  return [ports.plain.http, ports.plain.bulk, ports.plain.echo, ports.mtls];
}

/** A loopback endpoint on `port`. */
export function loopbackEndpoint(port: number): Endpoint {
  return { host: LOOPBACK, port };
}

/** The endpoints a proxy on `ports` serves, in the shape of a running target. */
export function proxyEndpoints(ports: ProxyPorts): Pick<RunningTarget, 'plain' | 'mtls'> {
  return {
    plain: {
      http: loopbackEndpoint(ports.plain.http),
      bulk: loopbackEndpoint(ports.plain.bulk),
      echo: loopbackEndpoint(ports.plain.echo),
    },
    mtls: loopbackEndpoint(ports.mtls),
  };
}
