import { formatDuration } from '../../config/duration.js';
import type { UdpListenerConfig } from '../../config/types.js';
import type { ListenerSetup } from './listener-setup.js';

/** A UDP listener: each client address and port is a flow pinned to one upstream of one group. */
export const udpSetup: ListenerSetup<UdpListenerConfig> = {
  kind: 'udp',
  transport: 'udp',
  build: async (l) => ({
    kind: 'udp',
    group: l.group,
    flowIdleTimeoutMs: l.flowIdleTimeout,
    maxFlows: l.maxFlows,
  }),
  // Connection caps and the PROXY protocol have no meaning for datagrams; the address rules do.
  summary: (l, parts) => [
    `udp  -> group ${l.group}  (max ${l.maxFlows} flows, idle ${formatDuration(l.flowIdleTimeout)}${parts.rules})`,
  ],
};
