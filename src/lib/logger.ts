/**
 * The logging calls the data plane makes. Shaped like pino's so the control layer can pass a pino
 * logger straight in, while the proxy itself depends on no logging framework.
 */
export interface Logger {
  /** Detail for debugging. */
  debug(fields: object, message?: string): void;
  /** Normal operation worth a line. */
  info(fields: object, message?: string): void;
  /** Something was refused or went wrong for one session. */
  warn(fields: object, message?: string): void;
  /** Something went wrong for the process. */
  error(fields: object, message?: string): void;
}

/** A logger that drops everything; the default when none is given. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
