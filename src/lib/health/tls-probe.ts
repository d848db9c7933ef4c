import type { HealthProbe, ProbeTarget } from './health-probe.js';
import { type ProbeTlsOptions, probeConnection } from './probe-connection.js';

/** Options of a {@link TlsProbe}. */
export type TlsProbeOptions = ProbeTlsOptions;

/**
 * Passes when a TLS handshake with the upstream completes: with `verify` (the default) its certificate
 * must chain to `ca` and carry the expected name, and with `cert`/`key` the upstream must accept ours.
 */
export class TlsProbe implements HealthProbe {
  readonly type = 'tls';
  readonly #tls: ProbeTlsOptions;

  constructor(options: TlsProbeOptions = {}) {
    this.#tls = { ...options };
  }

  check(target: ProbeTarget, signal: AbortSignal): Promise<void> {
    return probeConnection(target, signal, { tls: this.#tls });
  }
}
