import type {
  GroupSnapshot,
  ListenerCounters,
  ListenerSnapshot,
  ProxySnapshot,
  UpstreamSnapshot,
} from '../proxy/snapshot.js';

/**
 * One picture of the whole balancer from its workers' pictures: counters and gauges summed; states,
 * weights and addresses from the first worker (every worker applies the same commands). `retired`
 * are the last pictures of workers that exited: their counters still count (so totals never go
 * backwards when a worker is replaced), their gauges do not (their connections are gone).
 */
export function mergeSnapshots(live: ProxySnapshot[], retired: ProxySnapshot[] = []): ProxySnapshot {
  const all = [...live, ...retired.map((r) => countersOnly(live.length > 0 ? stillKnown(r, live) : r))];
  const first = live[0] ?? all[0];
  if (first === undefined) {
    return {
      stopping: false,
      sessionCount: 0,
      limits: { rate: false, concurrency: false },
      listeners: [],
      groups: [],
    };
  }
  return {
    stopping: live.some((s) => s.stopping),
    sessionCount: sum(all, (s) => s.sessionCount),
    limits: first.limits,
    listeners: mergeBy(
      all.map((s) => s.listeners),
      (l) => l.name,
      mergeListeners,
    ),
    groups: mergeBy(
      all.map((s) => s.groups),
      (g) => g.name,
      mergeGroups,
    ),
  };
}

/** A retired worker's picture without the listeners, groups and upstreams the live workers no longer have. */
function stillKnown(r: ProxySnapshot, live: ProxySnapshot[]): ProxySnapshot {
  const listeners = new Set(live.flatMap((s) => s.listeners.map((l) => l.name)));
  const upstreams = new Set(
    live.flatMap((s) => s.groups.flatMap((g) => g.upstreams.map((u) => `${g.name}/${u.id}`))),
  );
  const groups = new Set(live.flatMap((s) => s.groups.map((g) => g.name)));
  return {
    ...r,
    listeners: r.listeners.filter((l) => listeners.has(l.name)),
    groups: r.groups
      .filter((g) => groups.has(g.name))
      .map((g) => ({ ...g, upstreams: g.upstreams.filter((u) => upstreams.has(`${g.name}/${u.id}`)) })),
  };
}

/** A retired worker's picture with its gauges zeroed. */
function countersOnly(s: ProxySnapshot): ProxySnapshot {
  return {
    ...s,
    sessionCount: 0,
    listeners: s.listeners.map((l) => ({ ...l, stats: { ...l.stats, active: 0, handshaking: 0 } })),
    groups: s.groups.map((g) => ({
      ...g,
      retiredActive: 0,
      upstreams: g.upstreams.map((u) => ({ ...u, active: 0, connecting: 0 })),
    })),
  };
}

function mergeListeners(parts: ListenerSnapshot[]): ListenerSnapshot {
  const stats = parts.map((p) => p.stats);
  const rejections: Record<string, number> = {};
  for (const s of stats)
    for (const [code, n] of Object.entries(s.rejections)) rejections[code] = (rejections[code] ?? 0) + n;
  const counters: ListenerCounters = {
    accepted: sum(stats, (s) => s.accepted),
    active: sum(stats, (s) => s.active),
    handshaking: sum(stats, (s) => s.handshaking),
    proxied: sum(stats, (s) => s.proxied),
    bytesFromClients: sum(stats, (s) => s.bytesFromClients),
    bytesToClients: sum(stats, (s) => s.bytesToClients),
    rejections,
  };
  // The address is a listening worker's: a UDP listener's other workers are dormant, without one.
  const listening = parts.find((p) => p.listening);
  return { ...(listening ?? parts[0]), listening: listening !== undefined, stats: counters };
}

function mergeGroups(parts: GroupSnapshot[]): GroupSnapshot {
  return {
    ...parts[0],
    retiredActive: sum(parts, (g) => g.retiredActive),
    upstreams: mergeBy(
      parts.map((g) => g.upstreams),
      (u) => u.id,
      mergeUpstreams,
    ),
  };
}

function mergeUpstreams(parts: UpstreamSnapshot[]): UpstreamSnapshot {
  return {
    ...parts[0],
    ejected: parts.some((u) => u.ejected),
    active: sum(parts, (u) => u.active),
    connecting: sum(parts, (u) => u.connecting),
    total: sum(parts, (u) => u.total),
    bytesIn: sum(parts, (u) => u.bytesIn),
    bytesOut: sum(parts, (u) => u.bytesOut),
    failures: sum(parts, (u) => u.failures),
  };
}

/** Items of several lists grouped by key, in the order keys first appear, each group merged. */
function mergeBy<T>(lists: T[][], key: (item: T) => string, merge: (parts: T[]) => T): T[] {
  const byKey = new Map<string, T[]>();
  for (const list of lists) {
    for (const item of list) {
      const k = key(item);
      const parts = byKey.get(k);
      if (parts === undefined) byKey.set(k, [item]);
      else parts.push(item);
    }
  }
  return [...byKey.values()].map(merge);
}

function sum<T>(items: T[], value: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += value(item);
  return total;
}
