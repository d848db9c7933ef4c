import { GroupHealth } from '../lib/health/group-health.js';
import { createHealthProbe, type HealthProbeOptions } from '../lib/health/probe-registry.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';
import type { GroupConfig, HealthCheckConfig } from './types.js';

/** Builds a group's health checking from its configuration, or undefined when none is configured. */
export function buildGroupHealth(group: UpstreamGroup, g: GroupConfig): GroupHealth | undefined {
  if (g.healthCheck === undefined && g.passiveHealth === undefined && g.slowStart === 0) return undefined;
  const hc = g.healthCheck;
  return new GroupHealth(group, {
    active:
      hc === undefined
        ? undefined
        : {
            probe: createHealthProbe(probeOptions(hc)),
            interval: hc.interval,
            downInterval: hc.downInterval,
            timeout: hc.timeout,
            rise: hc.rise,
            fall: hc.fall,
            jitter: hc.jitter,
            initialState: hc.initialState,
            port: hc.port,
          },
    passive: g.passiveHealth,
    slowStart: g.slowStart > 0 ? g.slowStart : undefined,
  });
}

function probeOptions(hc: HealthCheckConfig): HealthProbeOptions {
  switch (hc.type) {
    case 'tcp':
      return { type: 'tcp' };
    case 'tls':
      // A health check proves the upstream speaks TLS; whose certificate it shows is not its business.
      return { type: 'tls', verify: false };
    case 'send-expect':
      return { type: 'send-expect', send: hc.send, expect: hc.expect ?? '' };
    case 'http':
      return { type: 'http', path: hc.path, expectStatus: hc.expectStatus };
  }
}
