import { ErrorCodes, SwitchyardError } from './errors.js';

// The system's codes as an operator reads them; any other code keeps Node's own text.
const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'no interface of this machine has that address',
};

/**
 * A listening socket that could not be bound: `SUBJECT: cannot bind ADDRESS: REASON (ERRNO)`, with
 * code `ERR_BIND_FAILED`. The data plane names the subject by what it knows (`listener "edge"`); the
 * configuration layer says it again with the key and line it came from ({@link BindError.withSubject}).
 */
export class BindError extends SwitchyardError {
  /** The listener that wanted the socket; undefined for the admin API. */
  readonly listener: string | undefined;
  /** The `host:port` asked for. */
  readonly address: string;
  /** The system's code, e.g. `EADDRINUSE`; undefined when the failure had none. */
  readonly errno: string | undefined;

  constructor(subject: string, listener: string | undefined, address: string, cause: unknown) {
    const errno = (cause as NodeJS.ErrnoException | undefined)?.code;
    const text = cause instanceof Error ? cause.message : String(cause);
    const reason = errno === undefined ? text : `${REASONS[errno] ?? text} (${errno})`;
    super(ErrorCodes.ERR_BIND_FAILED, `${subject}: cannot bind ${address}: ${reason}`, { cause });
    this.name = 'BindError';
    this.listener = listener;
    this.address = address;
    this.errno = errno;
  }

  /** The same failure told on behalf of `subject`, e.g. `listeners[0] "edge" (switchyard.yaml:12)`. */
  withSubject(subject: string): BindError {
    return new BindError(subject, this.listener, this.address, this.cause);
  }
}
