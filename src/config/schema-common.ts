import { z } from 'zod';
import { SwitchyardError } from '../lib/errors.js';
import { formatHostPort, type HostPort, parseHostPort } from '../lib/upstreams/address.js';
import { MAX_DURATION_MS, parseDuration } from './duration.js';
import { showValue } from './show-value.js';
import type { BalancerName, TlsVersion } from './types.js';

// The building blocks every part of the configuration schema uses.

/** Balancer names a group may use, in the order the docs list them. */
export const BALANCER_NAMES = [
  'least-connections',
  'round-robin',
  'weighted-round-robin',
  'random',
  'power-of-two',
  'consistent-hash',
] as const satisfies readonly BalancerName[];

/** Rate-limit algorithm names. */
export const RATE_LIMIT_ALGORITHMS = ['fixed-window', 'token-bucket', 'sliding-window', 'gcra'] as const;

/** Log level names. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** The literal group that stands for "the group named like the client's org". */
export const ORG_GROUP = '{org}';

/** The route org that matches any org. */
export const ANY_ORG = '*';

/** Rate-limit algorithms that read `burst`. */
export const BURST_ALGORITHMS: readonly string[] = ['token-bucket', 'gcra'];
export const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1.2', 'TLSv1.3'];
export const GROUP_NAME = /^[A-Za-z0-9_.-]+$/;

export type Ctx = z.core.$RefinementCtx;
type Path = (string | number)[];

// `at: 'key'` asks the locator to point at the key itself rather than its value.
export function report(ctx: Ctx, path: Path, message: string, at: 'key' | 'value' = 'value'): void {
  ctx.addIssue({ code: 'custom', message, path, params: { at } });
}

export function fail(ctx: Ctx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string. */
export function text() {
  return z.string().min(1);
}

/** A whole number in [min, max]. */
export function integer(min: number, max?: number) {
  const range = max === undefined ? `>= ${min}` : `from ${min} to ${max}`;
  return z.number().superRefine((n, ctx) => {
    if (!Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
      ctx.addIssue({ code: 'custom', message: `expected a whole number ${range}, got ${n}` });
    }
  });
}

/** A duration (see parseDuration) as milliseconds; 0 only when `allowZero` (it then means "disabled"). */
export function duration(allowZero: boolean) {
  return z.any().transform((value: unknown, ctx): number => {
    if (value === undefined) return fail(ctx, 'required');
    const ms = parseDuration(value);
    if (ms === undefined) return fail(ctx, `expected a duration like "5m", got ${showValue(value)}`);
    if (ms === 0 && !allowZero) return fail(ctx, `expected a duration above 0, got ${showValue(value)}`);
    if (ms > MAX_DURATION_MS) {
      return fail(
        ctx,
        `expected a duration of at most 24d (the longest timer Node supports), got ${showValue(value)}`,
      );
    }
    return ms;
  });
}

/** `host:port` checked by parseHostPort; with `allowPortZero`, port 0 ("any free port") too. */
export function parseAddress(text: string, allowPortZero: boolean): HostPort {
  const zero = allowPortZero ? /^(.*):0+$/.exec(text) : null;
  if (zero === null) return parseHostPort(text);
  try {
    return { ...parseHostPort(`${zero[1]}:1`), port: 0 };
  } catch {
    // Host problems are found before the port is looked at, so this throws them with the text as written.
    return parseHostPort(text);
  }
}

/**
 * A `host:port` string, returned in canonical form. A bind address (`role: 'bind'`) may use port 0,
 * and one without a host (`:8443`, `*:8443`, `8443`, as HAProxy and NGINX write it) gets a hint.
 */
export function address(role: 'bind' | 'upstream') {
  return z.any().transform((value: unknown, ctx): string => {
    if (value === undefined) return fail(ctx, 'required');
    if (typeof value !== 'string' && typeof value !== 'number')
      return fail(ctx, `invalid address ${showValue(value)}: expected "host:port"`);
    const text = String(value);
    const port = role === 'bind' ? /^(?:\*?:)?(\d+)$/.exec(text)?.[1] : undefined;
    if (port !== undefined) {
      return fail(
        ctx,
        `invalid address ${showValue(value)}: no host; write "0.0.0.0:${port}" for every IPv4 address, "[::]:${port}" for every IPv6 (and, on most systems, IPv4) address, or "127.0.0.1:${port}" for this machine only`,
      );
    }
    if (typeof value !== 'string')
      return fail(ctx, `invalid address ${showValue(value)}: expected "host:port"`);
    try {
      const hp = parseAddress(value, role === 'bind');
      return formatHostPort(hp.host, hp.port);
    } catch (err) {
      return fail(ctx, err instanceof SwitchyardError ? err.message : String(err));
    }
  });
}
