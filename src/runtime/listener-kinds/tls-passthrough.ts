import type { TlsPassthroughListenerConfig } from '../../config/types.js';
import { SniRoutes } from '../../proxy/sni-routes.js';
import type { ListenerSetup } from './listener-setup.js';

/** A TLS passthrough listener: the ClientHello's server name picks the group; TLS ends upstream. */
export const tlsPassthroughSetup: ListenerSetup<TlsPassthroughListenerConfig> = {
  kind: 'tls-passthrough',
  transport: 'tcp',
  build: async (l) => ({ kind: 'tls-passthrough', sni: new SniRoutes(l.sniRoutes, l.defaultGroup) }),
  summary: (l, parts) => {
    const sni = l.sniRoutes.map((r) => `${r.serverName} -> ${r.group}`);
    sni.push(`default -> ${l.defaultGroup ?? 'refused'}`);
    return [`tls-passthrough  sni: ${sni.join(', ')}  (${parts.limits}${parts.rulesAndProxy})`];
  },
};
