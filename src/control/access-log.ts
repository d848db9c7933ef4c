import type { Logger } from '../proxy/logger.js';
import type { ProxyObserver, SessionRecord } from '../proxy/stats.js';

/**
 * One line per session at its end, refused or not: the line operators grep for. Normal ends log at
 * info, refusals and bad endings at warn with their reason code.
 */
export function accessLogObserver(logger: Logger): Required<Pick<ProxyObserver, 'sessionEnded'>> {
  return {
    sessionEnded(r: SessionRecord): void {
      const fields = {
        listener: r.listener,
        clientAddress: r.clientAddress,
        clientPort: r.clientPort,
        clientId: r.clientId,
        org: r.org,
        group: r.group,
        upstream: r.upstream,
        bytesFromClient: r.bytesFromClient,
        bytesToClient: r.bytesToClient,
        durationMs: Math.round(r.durationMs * 1000) / 1000,
        termination: r.termination,
      };
      if (r.termination === 'OK') logger.info(fields, 'session');
      else logger.warn(fields, 'session');
    },
  };
}
