import type { ProxyObserver, SessionRecord } from '../proxy/stats.js';

/**
 * One observer that tells every given observer, in order, so the access log and the metrics can
 * both listen to a proxy that takes a single observer. Every observer runs even if an earlier one
 * throws; the first error is rethrown afterwards so a bug is not hidden.
 */
export function combineObservers(...observers: (ProxyObserver | undefined)[]): ProxyObserver {
  const enders: ((record: SessionRecord) => void)[] = [];
  const handshakes: ((listener: string, ms: number) => void)[] = [];
  for (const o of observers) {
    if (o?.sessionEnded !== undefined) enders.push(o.sessionEnded.bind(o));
    if (o?.handshakeDone !== undefined) handshakes.push(o.handshakeDone.bind(o));
  }
  const combined: ProxyObserver = {};
  if (enders.length > 0) {
    combined.sessionEnded = enders.length === 1 ? enders[0] : (record) => callAll(enders, record);
  }
  if (handshakes.length > 0) {
    combined.handshakeDone =
      handshakes.length === 1 ? handshakes[0] : (listener, ms) => callAll(handshakes, listener, ms);
  }
  return combined;
}

function callAll<A extends unknown[]>(fns: ((...args: A) => void)[], ...args: A): void {
  let failure: { err: unknown } | undefined;
  for (const fn of fns) {
    try {
      fn(...args);
    } catch (err) {
      failure ??= { err };
    }
  }
  if (failure !== undefined) throw failure.err;
}
