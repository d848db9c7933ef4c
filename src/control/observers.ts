import type { ProxyObserver, SessionRecord } from '../proxy/stats.js';

/**
 * One observer that tells every given observer, in order, so the access log and the metrics can
 * both listen to a proxy that takes a single observer. Every observer runs even if an earlier one
 * throws; the first error is rethrown afterwards so a bug is not hidden.
 */
export function combineObservers(...observers: (ProxyObserver | undefined)[]): ProxyObserver {
  const enders: ((record: SessionRecord) => void)[] = [];
  for (const o of observers) {
    const ended = o?.sessionEnded;
    if (ended !== undefined) enders.push(ended.bind(o));
  }
  if (enders.length === 0) return {};
  if (enders.length === 1) return { sessionEnded: enders[0] };
  return {
    sessionEnded(record: SessionRecord): void {
      let failure: { err: unknown } | undefined;
      for (const ended of enders) {
        try {
          ended(record);
        } catch (err) {
          failure ??= { err };
        }
      }
      if (failure !== undefined) throw failure.err;
    },
  };
}
