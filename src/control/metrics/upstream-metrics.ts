import type { Registry } from 'prom-client';
import { UPSTREAM_STATES } from '../../lib/upstreams/upstream.js';
import type { UpstreamPickedEvent } from '../../proxy/events.js';
import type { GroupSnapshot, ProxySnapshot, UpstreamSnapshot } from '../../proxy/snapshot.js';
import { type Put, type ScrapeSnapshot, snapshotMetric } from './source.js';

/**
 * Connections ever picked per group, counted from `upstreamPicked` events on top of the totals the
 * group's upstreams carried when counting began. A removed upstream's picks stay in its group's
 * total, which a sum over the snapshot's upstreams would lose; a group gone from the snapshot is
 * forgotten, so its label disappears with it.
 */
export class GroupConnectionTotals {
  readonly #totals = new Map<string, number>();

  /** Starts from the upstreams' own totals in `snapshot`. */
  start(snapshot: ProxySnapshot): void {
    this.#totals.clear();
    for (const g of snapshot.groups) {
      let total = 0;
      for (const u of g.upstreams) total += u.total;
      this.#totals.set(g.name, total);
    }
  }

  /** Counts one pick; a `upstreamPicked` subscriber. */
  readonly picked = (e: UpstreamPickedEvent): void => {
    this.#totals.set(e.group, (this.#totals.get(e.group) ?? 0) + 1);
  };

  /** The total of every group in `snapshot`; forgets the groups it no longer has. */
  read(snapshot: ProxySnapshot): Map<string, number> {
    const out = new Map<string, number>();
    for (const g of snapshot.groups) out.set(g.name, this.#totals.get(g.name) ?? 0);
    for (const name of this.#totals.keys()) if (!out.has(name)) this.#totals.delete(name);
    return out;
  }
}

/** One sample per upstream of every group of the snapshot. */
function perUpstream(read: (u: UpstreamSnapshot) => number) {
  return (snap: ProxySnapshot, put: Put): void => {
    for (const g of snap.groups) for (const u of g.upstreams) put({ group: g.name, upstream: u.id }, read(u));
  };
}

/** One sample per group of the snapshot. */
function perGroup(read: (g: GroupSnapshot) => number) {
  return (snap: ProxySnapshot, put: Put): void => {
    for (const g of snap.groups) put({ group: g.name }, read(g));
  };
}

function sum(g: GroupSnapshot, read: (u: UpstreamSnapshot) => number): number {
  let n = 0;
  for (const u of g.upstreams) n += read(u);
  return n;
}

/** The `switchyard_group_*` and `switchyard_upstream_*` gauges and counters (histograms aside). */
export function registerUpstreamMetrics(
  registry: Registry,
  scrape: ScrapeSnapshot,
  totals: GroupConnectionTotals,
): void {
  const group = ['group'];
  const upstream = ['group', 'upstream'];
  snapshotMetric(
    'gauge',
    {
      name: 'switchyard_group_connections_active',
      help: 'Connections open to the upstreams of a group (including removed upstreams still draining).',
      labelNames: group,
    },
    registry,
    scrape,
    perGroup((g) => sum(g, (u) => u.active) + g.retiredActive),
  );
  snapshotMetric(
    'counter',
    {
      name: 'switchyard_group_connections_total',
      help: 'Connections ever picked in a group, including those of upstreams since removed.',
      labelNames: group,
    },
    registry,
    scrape,
    (snap, put) => {
      for (const [name, total] of totals.read(snap)) put({ group: name }, total);
    },
  );
  snapshotMetric(
    'gauge',
    {
      name: 'switchyard_group_upstreams_up',
      help: 'Upstreams of a group in rotation: state up, healthy and not ejected.',
      labelNames: group,
    },
    registry,
    scrape,
    perGroup((g) => sum(g, (u) => (u.up ? 1 : 0))),
  );
  snapshotMetric(
    'gauge',
    {
      name: 'switchyard_upstream_connections_active',
      help: 'Connections open to an upstream, including those still connecting.',
      labelNames: upstream,
    },
    registry,
    scrape,
    perUpstream((u) => u.active),
  );
  snapshotMetric(
    'counter',
    {
      name: 'switchyard_upstream_connections_total',
      help: 'Connections ever picked for an upstream.',
      labelNames: upstream,
    },
    registry,
    scrape,
    perUpstream((u) => u.total),
  );
  snapshotMetric(
    'counter',
    {
      name: 'switchyard_upstream_failures_total',
      help: 'Failed or timed-out connects to an upstream.',
      labelNames: upstream,
    },
    registry,
    scrape,
    perUpstream((u) => u.failures),
  );
  snapshotMetric(
    'gauge',
    {
      name: 'switchyard_upstream_up',
      help: '1 when an upstream is in rotation (state up, healthy, not ejected), else 0.',
      labelNames: upstream,
    },
    registry,
    scrape,
    perUpstream((u) => (u.up ? 1 : 0)),
  );
  snapshotMetric(
    'gauge',
    {
      name: 'switchyard_upstream_healthy',
      help: '1 when health checking considers an upstream healthy, else 0.',
      labelNames: upstream,
    },
    registry,
    scrape,
    perUpstream((u) => (u.healthy ? 1 : 0)),
  );
  snapshotMetric(
    'gauge',
    {
      name: 'switchyard_upstream_ejected',
      help: '1 while passive health checking has ejected an upstream (outlier ejection), else 0.',
      labelNames: upstream,
    },
    registry,
    scrape,
    perUpstream((u) => (u.ejected ? 1 : 0)),
  );
  snapshotMetric(
    'counter',
    {
      name: 'switchyard_upstream_bytes_total',
      help: 'Bytes of ended connections to an upstream; in = received from it, out = sent to it.',
      labelNames: ['group', 'upstream', 'direction'],
    },
    registry,
    scrape,
    (snap, put) => {
      for (const g of snap.groups) {
        for (const u of g.upstreams) {
          put({ group: g.name, upstream: u.id, direction: 'in' }, u.bytesIn);
          put({ group: g.name, upstream: u.id, direction: 'out' }, u.bytesOut);
        }
      }
    },
  );
  snapshotMetric(
    'gauge',
    {
      name: 'switchyard_upstream_state',
      help: 'Administrative state of an upstream: 1 for the current state, 0 for the others.',
      labelNames: ['group', 'upstream', 'state'],
    },
    registry,
    scrape,
    (snap, put) => {
      for (const g of snap.groups) {
        for (const u of g.upstreams) {
          for (const state of UPSTREAM_STATES)
            put({ group: g.name, upstream: u.id, state }, u.state === state ? 1 : 0);
        }
      }
    },
  );
}
