/**
 * What changed between two pictures of the proxy that an operator wants to read about: an upstream's
 * state (drain, maintenance, ready), weight, ejection, arrival or removal, and a group's balancer.
 * Read from snapshots, so changes made in any worker, by the API or by a reload, are all seen.
 */
import type { GroupSnapshot, ProxySnapshot, UpstreamSnapshot } from '../../proxy/snapshot.js';
import type { NotableEvent } from '../server-history.js';

/** An event without its time (the caller stamps it). */
export type Change = Omit<NotableEvent, 'at'>;

function upstreamChanges(
  group: string,
  before: UpstreamSnapshot,
  after: UpstreamSnapshot,
  out: Change[],
): void {
  const at = { group, upstream: after.id };
  const name = `${group}/${after.id}`;
  if (before.state !== after.state) {
    out.push({
      kind: 'state',
      message: `${name} is now ${after.state}`,
      ...at,
      ...(after.state === 'up' ? {} : { bad: true }),
    });
  }
  if (before.weight !== after.weight) {
    out.push({ kind: 'weight', message: `${name} weight ${before.weight} → ${after.weight}`, ...at });
  }
  if (before.ejected !== after.ejected) {
    out.push(
      after.ejected
        ? { kind: 'ejection', message: `${name} ejected by passive health checks`, ...at, bad: true }
        : { kind: 'ejection', message: `${name} back from ejection`, ...at },
    );
  }
}

function groupChanges(before: GroupSnapshot, after: GroupSnapshot, out: Change[]): void {
  if (before.balancer !== after.balancer) {
    out.push({
      kind: 'balancer',
      message: `${after.name} balancer ${before.balancer} → ${after.balancer}`,
      group: after.name,
    });
  }
  const old = new Map(before.upstreams.map((u) => [u.id, u]));
  for (const u of after.upstreams) {
    const was = old.get(u.id);
    if (was === undefined)
      out.push({
        kind: 'upstream',
        message: `${after.name}/${u.id} added (${u.address})`,
        group: after.name,
        upstream: u.id,
      });
    else upstreamChanges(after.name, was, u, out);
    old.delete(u.id);
  }
  for (const u of old.values()) {
    out.push({
      kind: 'upstream',
      message: `${after.name}/${u.id} removed`,
      group: after.name,
      upstream: u.id,
    });
  }
}

/** The changes from `before` to `after`, in group and upstream order. */
export function snapshotChanges(before: ProxySnapshot, after: ProxySnapshot): Change[] {
  const out: Change[] = [];
  const groups = new Map(before.groups.map((g) => [g.name, g]));
  for (const g of after.groups) {
    const was = groups.get(g.name);
    if (was !== undefined) groupChanges(was, g, out);
  }
  return out;
}
