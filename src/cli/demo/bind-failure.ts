import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
/**
 * Which of the demo's addresses failed to bind, and the flag that moves it. The demo binds the
 * balancer (`--listen`), the admin API (`--admin`) and six upstreams on free ports; a busy port must
 * be reported as the address that really failed, not as whichever flag the user happened to pass.
 */
import { splitHostPort } from '../options.js';

/** An address the demo binds and the flag that sets it. */
export interface DemoAddress {
  /** What binds there, for people: `the balancer`, `the admin API`. */
  role: string;
  /** The flag that moves it, e.g. `--admin`. */
  flag: string;
  /** Canonical `host:port` as the flag holds it. */
  address: string;
}

/** System error codes of a failed bind that a different address can fix. */
const BIND_CODES: Record<string, string> = {
  EADDRINUSE: 'is already in use',
  EACCES: 'needs privileges to bind (ports below 1024)',
  EADDRNOTAVAIL: 'is not an address of this machine',
};

// Errors wrap their cause at most a few times; the walk is bounded anyway.
const MAX_CAUSE_DEPTH = 8;

/** The failed bind inside `err` (itself or a `cause` of it): the system error with its address and port. */
export function findBindError(err: unknown): NodeJS.ErrnoException | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    const e = current as NodeJS.ErrnoException & { port?: unknown };
    if (e.code !== undefined && Object.hasOwn(BIND_CODES, e.code) && typeof e.port === 'number') return e;
    current = e.cause;
  }
  return undefined;
}

/**
 * A message for a bind failure in `err` that names the failed address and the flag that moves it,
 * or undefined when `err` is not the failed bind of one of `addresses` (the caller then reports it
 * as it is).
 */
export function describeBindFailure(err: unknown, addresses: readonly DemoAddress[]): Error | undefined {
  const bind = findBindError(err) as (NodeJS.ErrnoException & { port: number; address?: string }) | undefined;
  // Port 0 never collides, so a flag asking for it cannot be the one that failed.
  if (bind === undefined || bind.port === 0) return undefined;
  const samePort = addresses.filter((a) => splitHostPort(a.address).port === bind.port);
  // A name such as localhost fails under its resolved address, so the port alone decides when only
  // one flag has it.
  const owner =
    samePort.find((a) => splitHostPort(a.address).host === bind.address) ??
    (samePort.length === 1 ? samePort[0] : undefined);
  if (owner === undefined) return undefined;
  return Object.assign(
    new SwitchyardError(
      ErrorCodes.ERR_INTERNAL,
      `${owner.address} (${owner.role}, ${owner.flag}) ${BIND_CODES[bind.code ?? '']}; pick another address with ${owner.flag} HOST:PORT (port 0: any free port)`,
      { cause: err },
    ),
    { code: bind.code },
  );
}
