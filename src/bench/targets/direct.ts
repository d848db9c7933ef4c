/**
 * The null target: no proxy at all, the load goes straight to the upstreams. Its rows are the ceiling
 * every proxy is compared against.
 */
import type { RunningTarget, Target, TargetContext } from '../types.js';

/** Hands out the upstreams' own endpoints; there is nothing to start or stop. */
export const directTarget: Target = {
  name: 'direct',
  // Always available: there is nothing to install.
  detect: async () => 'n/a',
  start: async (context: TargetContext): Promise<RunningTarget> => ({
    name: 'direct',
    plain: { ...context.upstreams.endpoints },
    mtls: context.upstreams.tlsEcho,
    udp: context.upstreams.udpEcho,
    pids: [],
    stop: async () => {},
  }),
};
