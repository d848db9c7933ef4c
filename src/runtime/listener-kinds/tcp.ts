import type { TcpListenerConfig } from '../../config/types.js';
import type { ListenerSetup } from './listener-setup.js';

/** A plain TCP listener: every connection goes to one group. */
export const tcpSetup: ListenerSetup<TcpListenerConfig> = {
  kind: 'tcp',
  transport: 'tcp',
  build: async (l) => ({ kind: 'tcp', group: l.group }),
  summary: (l, parts) => [`tcp  -> group ${l.group}  (${parts.limits}${parts.rulesAndProxy})`],
};
