import type { HealthProbe, ProbeTarget } from './health-probe.js';
import { probeConnection } from './probe-connection.js';

/** Passes when a TCP connection to the upstream is established; the cheapest check there is. */
export class TcpProbe implements HealthProbe {
  readonly type = 'tcp';

  check(target: ProbeTarget, signal: AbortSignal): Promise<void> {
    return probeConnection(target, signal);
  }
}
