import { ErrorCodes, SwitchyardError } from '../errors.js';
import type { HealthProbe } from './health-probe.js';
import { HttpProbe, type HttpProbeOptions } from './http-probe.js';
import { SendExpectProbe, type SendExpectProbeOptions } from './send-expect-probe.js';
import { TcpProbe } from './tcp-probe.js';
import { TlsProbe, type TlsProbeOptions } from './tls-probe.js';
import { UdpProbe, type UdpProbeOptions } from './udp-probe.js';

/** A probe as configuration describes it: a `type` and that type's options. */
export type HealthProbeOptions =
  | { type: 'tcp' }
  | ({ type: 'tls' } & TlsProbeOptions)
  | ({ type: 'send-expect' } & SendExpectProbeOptions)
  | ({ type: 'http' } & HttpProbeOptions)
  | ({ type: 'udp' } & UdpProbeOptions);

/** The probe types {@link createHealthProbe} knows. */
export type HealthProbeType = HealthProbeOptions['type'];

/** Every probe type, in the order the docs list them. */
export const HEALTH_PROBE_TYPES: readonly HealthProbeType[] = ['tcp', 'tls', 'send-expect', 'http', 'udp'];

/** Builds a probe from its options; throws `ERR_INVALID_ARGUMENT` for an unknown type or bad options. */
export function createHealthProbe(options: HealthProbeOptions): HealthProbe {
  switch (options.type) {
    case 'tcp':
      return new TcpProbe();
    case 'tls':
      return new TlsProbe(options);
    case 'send-expect':
      return new SendExpectProbe(options);
    case 'http':
      return new HttpProbe(options);
    case 'udp':
      return new UdpProbe(options);
    default:
      // reachable from untyped callers (configuration read at runtime)
      throw new SwitchyardError(
        ErrorCodes.ERR_INVALID_ARGUMENT,
        `unknown health probe type "${(options as { type: unknown }).type}"; expected one of ${HEALTH_PROBE_TYPES.join(', ')}`,
      );
  }
}
