import { type ErrorCode, ErrorCodes, SwitchyardError } from '../errors.js';

/** Where a probe connects: the upstream's host and port, or the port its checks are configured on. */
export interface ProbeTarget {
  /** Host name or IP literal (IPv6 without brackets). */
  host: string;
  /** TCP port. */
  port: number;
}

/**
 * One way of asking an upstream whether it is fit to serve. `check` resolves when it is and rejects
 * (preferably with a {@link ProbeError}) when it is not. The caller enforces the timeout by aborting
 * `signal`; a probe must then release its socket at once and reject.
 */
export interface HealthProbe {
  /** Registry name, e.g. `tcp`. */
  readonly type: string;
  /** Resolves when `target` answers as expected, rejects with the reason otherwise. */
  check(target: ProbeTarget, signal: AbortSignal): Promise<void>;
}

/** Why a probe failed, coarse enough for a metrics label. */
export type ProbeFailure = 'connect' | 'timeout' | 'tls' | 'response' | 'closed' | 'aborted' | 'error';

// Each kind has its stable code; the kind stays for the library users who already match on it.
const probeFailureCodes = {
  connect: ErrorCodes.ERR_PROBE_CONNECT,
  timeout: ErrorCodes.ERR_PROBE_TIMEOUT,
  tls: ErrorCodes.ERR_PROBE_TLS,
  response: ErrorCodes.ERR_PROBE_UNEXPECTED_RESPONSE,
  closed: ErrorCodes.ERR_PROBE_CLOSED,
  aborted: ErrorCodes.ERR_PROBE_ABORTED,
  error: ErrorCodes.ERR_PROBE_FAILED,
} as const satisfies Record<ProbeFailure, ErrorCode>;

/** A failed probe: `code` (one of the `ERR_PROBE_*` codes) and `kind` for metrics and logs, `message` for people. */
export class ProbeError extends SwitchyardError {
  /** Coarse reason; `code` says the same in the shared vocabulary. */
  readonly kind: ProbeFailure;

  constructor(kind: ProbeFailure, message: string, options?: { cause?: unknown }) {
    super(probeFailureCodes[kind], message, options);
    this.name = 'ProbeError';
    this.kind = kind;
  }
}

/** A probe rejection as a {@link ProbeError}, whatever was thrown. */
export function toProbeError(err: unknown): ProbeError {
  if (err instanceof ProbeError) return err;
  if (err instanceof Error) {
    // AbortSignal.timeout() and abort() reasons are DOMExceptions named like this
    const kind = err.name === 'TimeoutError' ? 'timeout' : err.name === 'AbortError' ? 'aborted' : 'error';
    return new ProbeError(kind, err.message, { cause: err });
  }
  return new ProbeError('error', String(err));
}
