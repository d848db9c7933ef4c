import { checkPositiveMs } from './check-options.js';
import type { HealthProbe, ProbeTarget } from './health-probe.js';
import { DEFAULT_TLS_SETTLE, type ProbeTlsOptions, probeConnection } from './probe-connection.js';

/** Options of a {@link TlsProbe}. */
export interface TlsProbeOptions extends ProbeTlsOptions {
  /**
   * TLS 1.3 only: ms to wait after the handshake for the upstream to refuse our certificate when it
   * sends no session ticket (most servers send one at once, which ends the wait). Default 100.
   */
  settle?: number;
}

/**
 * Passes when a TLS handshake with the upstream completes: with `verify` (the default) its certificate
 * must chain to `ca` and carry the expected name, and with `cert`/`key` the upstream must accept ours.
 */
export class TlsProbe implements HealthProbe {
  readonly type = 'tls';
  readonly #tls: ProbeTlsOptions;
  readonly #settle: number;

  constructor(options: TlsProbeOptions = {}) {
    const { settle, ...tls } = options;
    this.#tls = tls;
    this.#settle = checkPositiveMs('settle', settle ?? DEFAULT_TLS_SETTLE);
  }

  check(target: ProbeTarget, signal: AbortSignal): Promise<void> {
    return probeConnection(target, signal, { tls: this.#tls, settle: this.#settle });
  }
}
