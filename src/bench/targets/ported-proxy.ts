/** The common end of starting HAProxy or NGINX: wait for their ports, then hand out the target. */
import type { RunningTarget, TargetName } from '../types.js';
import { allPorts, loopbackEndpoint, type ProxyPorts, proxyEndpoints } from './proxy-ports.js';
import { startFailure, stopTargetProcess, type TargetProcess } from './target-process.js';
import { waitForUdpEcho } from './udp-round-trip.js';
import { waitForPorts } from './wait-for-ports.js';

/**
 * Waits until every port of a proxy started with `ports` in its configuration accepts, and its UDP
 * port (if any) relays a datagram to the UDP echo (killing it and reporting its output if it never
 * does), then describes it as a running target. `target.pid`
 * is the root of the measured process tree; `stop` sends SIGTERM (the fast stop of both HAProxy
 * and NGINX) and SIGKILL after a grace.
 */
export async function readyProxy(
  name: TargetName,
  target: TargetProcess,
  ports: ProxyPorts,
): Promise<RunningTarget> {
  try {
    await waitForPorts(allPorts(ports).map(loopbackEndpoint), { gaveUp: target.hasExited });
    if (ports.udp !== undefined)
      await waitForUdpEcho(loopbackEndpoint(ports.udp), { gaveUp: target.hasExited });
  } catch (err) {
    await stopTargetProcess(target, { signal: 'SIGKILL' });
    throw await startFailure(name, target, (err as Error).message);
  }
  let stopping: Promise<void> | undefined;
  return {
    name,
    ...proxyEndpoints(ports),
    pids: [target.pid],
    stop: () => {
      stopping ??= stopTargetProcess(target, { signal: 'SIGTERM', graceMs: 5000 });
      return stopping;
    },
  };
}
