/**
 * The dashboard's charts: one sample per second computed from two pictures of the proxy. Counters
 * in snapshots only grow, so a rate is the difference of two totals over the time between them.
 */
import type { ProxySnapshot, SessionSnapshot } from '../../proxy/snapshot.js';

/** Running totals of the whole proxy at one moment. */
export interface TrafficTotals {
  /** ms on the sampler's clock. */
  at: number;
  accepted: number;
  active: number;
  /** Bytes from clients: of ended sessions (listener counters) plus what live sessions relayed so far. */
  bytesIn: number;
  /** Bytes to clients, counted the same way. */
  bytesOut: number;
  /** Refusals and bad endings by reason code. */
  refusals: Record<string, number>;
}

/** One point of the charts: rates per second over the time since the previous sample. */
export interface TrafficSample {
  /** ms since the epoch. */
  at: number;
  /** New connections per second. */
  connections: number;
  /** Open connections at the sample. */
  active: number;
  /** Bytes per second from clients. */
  bytesIn: number;
  /** Bytes per second to clients. */
  bytesOut: number;
  /** Refusals per second by reason code (codes with none left out). */
  refusals: Record<string, number>;
}

/** The totals in `snapshot` and the live `sessions` at time `at`. */
export function trafficTotals(
  snapshot: ProxySnapshot,
  sessions: readonly SessionSnapshot[],
  at: number,
): TrafficTotals {
  const totals: TrafficTotals = { at, accepted: 0, active: 0, bytesIn: 0, bytesOut: 0, refusals: {} };
  for (const l of snapshot.listeners) {
    const s = l.stats;
    totals.accepted += s.accepted;
    totals.active += s.active;
    totals.bytesIn += s.bytesFromClients;
    totals.bytesOut += s.bytesToClients;
    for (const code in s.rejections)
      totals.refusals[code] = (totals.refusals[code] ?? 0) + s.rejections[code];
  }
  for (const s of sessions) {
    totals.bytesIn += s.bytesFromClient;
    totals.bytesOut += s.bytesToClient;
  }
  return totals;
}

// A total can step back (a listener removed by a reload, a worker replaced): that is no negative traffic.
function rate(before: number, after: number, seconds: number): number {
  return after > before ? (after - before) / seconds : 0;
}

/** The rates between two totals, stamped `wallAt` (ms since the epoch). */
export function sampleBetween(before: TrafficTotals, after: TrafficTotals, wallAt: number): TrafficSample {
  const seconds = Math.max(after.at - before.at, 1) / 1000;
  const refusals: Record<string, number> = {};
  for (const code in after.refusals) {
    const r = rate(before.refusals[code] ?? 0, after.refusals[code], seconds);
    if (r > 0) refusals[code] = r;
  }
  return {
    at: wallAt,
    connections: rate(before.accepted, after.accepted, seconds),
    active: after.active,
    bytesIn: rate(before.bytesIn, after.bytesIn, seconds),
    bytesOut: rate(before.bytesOut, after.bytesOut, seconds),
    refusals,
  };
}

/** Refusals per second of a sample, all codes together. */
export function refusalRate(sample: TrafficSample): number {
  let sum = 0;
  for (const code in sample.refusals) sum += sample.refusals[code];
  return sum;
}
