/**
 * Option parsers and texts several commands share. Kept free of heavy imports (zod, x509, pino) so
 * `--help` and `version` start fast; commands load their implementation only when they run.
 */
import { InvalidArgumentError } from 'commander';
import { formatHostPort, parseHostPort } from '../lib/upstreams/address.js';

/** Log levels `--log-level` accepts (the configuration schema's list, repeated to keep this file light). */
export const LOG_LEVEL_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Environment variable naming the configuration file when `--config` is absent. */
export const CONFIG_ENV_NAME = 'SWITCHYARD_CONFIG';

/** Collects a repeatable option's values in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parses a `host:port` option (port 0 allowed: any free port), returning its canonical text. */
export function hostPort(value: string): string {
  try {
    const zero = /^(.*):0+$/.exec(value);
    if (zero !== null) return formatHostPort(parseHostPort(`${zero[1]}:1`).host, 0);
    const hp = parseHostPort(value);
    return formatHostPort(hp.host, hp.port);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Splits a canonical `host:port` from {@link hostPort}. */
export function splitHostPort(value: string): { host: string; port: number } {
  const colon = value.lastIndexOf(':');
  const host = value.slice(0, colon);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(value.slice(colon + 1)) };
}

/** Parses `--log-level`. */
export function logLevel(value: string): string {
  if (!(LOG_LEVEL_NAMES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${LOG_LEVEL_NAMES.join(', ')}`);
  }
  return value;
}

/** Help text of `--set`. */
export const SET_HELP =
  'set a configuration key, overriding file and environment: key.path=value (dotted camelCase, list items by index, e.g. timeouts.idle=10m or listeners.0.bind=0.0.0.0:8443); repeatable';

/** Help text of `--log-level` for commands that read a configuration. */
export const LOG_LEVEL_HELP =
  'log level: trace, debug, info, warn, error, fatal or silent (same as --set log.level=LEVEL)';
