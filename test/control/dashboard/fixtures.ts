/** Hand-made pictures of a proxy for the dashboard's unit tests. */
import type { ProxySnapshot, SessionSnapshot, UpstreamSnapshot } from '../../../src/proxy/snapshot.js';

/** Listener counters of one picture. */
export interface Counts {
  accepted?: number;
  active?: number;
  bytesIn?: number;
  bytesOut?: number;
  rejections?: Record<string, number>;
}

/** An upstream with defaults; `fields` overrides. */
export function upstream(id: string, fields: Partial<UpstreamSnapshot> = {}): UpstreamSnapshot {
  return {
    id,
    address: `127.0.0.1:${1000 + id.length}`,
    state: 'up',
    weight: 1,
    maxConnections: 0,
    up: true,
    healthy: true,
    ejected: false,
    active: 0,
    connecting: 0,
    total: 0,
    bytesIn: 0,
    bytesOut: 0,
    failures: 0,
    ...fields,
  };
}

/** A proxy with one listener `edge` counting `counts` and group `web` of `upstreams`. */
export function picture(
  counts: Counts = {},
  upstreams: UpstreamSnapshot[] = [upstream('a')],
  balancer = 'round-robin',
): ProxySnapshot {
  return {
    stopping: false,
    sessionCount: counts.active ?? 0,
    limits: { rate: false, concurrency: false },
    listeners: [
      {
        name: 'edge',
        kind: 'tls',
        bind: '127.0.0.1:0',
        address: '127.0.0.1:4443',
        port: 4443,
        listening: true,
        stats: {
          accepted: counts.accepted ?? 0,
          active: counts.active ?? 0,
          handshaking: 0,
          proxied: 0,
          bytesFromClients: counts.bytesIn ?? 0,
          bytesToClients: counts.bytesOut ?? 0,
          rejections: counts.rejections ?? {},
        },
      },
    ],
    groups: [{ name: 'web', balancer, upstreams, retiredActive: 0 }],
  };
}

/** A live session of client `id` (org `org`) that relayed the given bytes. */
export function session(id: string, org: string, bytesFromClient = 0, bytesToClient = 0): SessionSnapshot {
  return {
    listener: 'edge',
    clientAddress: '127.0.0.1',
    clientPort: 50000,
    clientId: id,
    org,
    group: 'web',
    upstream: 'a',
    phase: 'relaying',
    bytesFromClient,
    bytesToClient,
    ageMs: 10,
  };
}
