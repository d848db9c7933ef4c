/** Exit statuses of every `switchyard` command. */
export const ExitCodes = {
  /** Success; for `run`, `demo` and `upstream` also a clean stop after the first SIGINT/SIGTERM. */
  ok: 0,
  /** Failure: invalid configuration, unreadable or refused files, a runtime error, a second signal. */
  failure: 1,
  /** Usage error: unknown command or option, a missing or malformed option. */
  usage: 2,
} as const;

/** The exit-code and environment text shown at the end of `switchyard --help`. */
export const MAIN_HELP_EPILOG = `
Exit codes:
  0  success; run, demo and upstream exit 0 after a clean stop on the first SIGINT/SIGTERM
  1  failure: invalid configuration (errors name file:line:column and key), unreadable
     certificate files, a refused overwrite, a runtime error, or a second signal while draining
  2  usage error: unknown command or option, missing required option or argument

Configuration precedence: flags > environment > file > defaults.
  --set key.path=value        any configuration key (dotted camelCase, list items by index:
                              --set listeners.0.bind=0.0.0.0:8443); repeatable
  SWITCHYARD_<KEY>__<KEY>=v   any configuration key, SCREAMING_SNAKE segments joined by "__"
                              (SWITCHYARD_TIMEOUTS__IDLE=10m, SWITCHYARD_LISTENERS__0__BIND=...)
  SWITCHYARD_CONFIG=FILE      the configuration file when --config is not given

Run "switchyard <command> --help" for a command's options.`;
