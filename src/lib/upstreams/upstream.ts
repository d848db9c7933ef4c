import { ErrorCodes, SwitchyardError } from '../errors.js';
import { formatHostPort, parseHostPort } from './address.js';

/** Administrative state of an upstream. Only `up` upstreams receive new connections. */
export type UpstreamState = 'up' | 'down' | 'draining' | 'maintenance';

/** All upstream states, in the order operators usually meet them. */
export const UPSTREAM_STATES: readonly UpstreamState[] = ['up', 'down', 'draining', 'maintenance'];

/** What it takes to describe one upstream. */
export interface UpstreamOptions {
  /** `host:port`, IPv6 literals in brackets. */
  address: string;
  /** Stable name used by the API and metrics; defaults to the address. */
  id?: string;
  /** Relative share of connections, > 0. Default 1. */
  weight?: number;
  /** Initial state. Default `up`. */
  state?: UpstreamState;
  /** Most simultaneous connections; 0 means no cap. Default 0. */
  maxConnections?: number;
}

/**
 * One backend server and its live counters. Counters are plain fields so reading them costs nothing;
 * they are changed only by the owning {@link UpstreamGroup}, which keeps its balancer in step.
 */
export class Upstream {
  /** Stable name, unique within a group. */
  readonly id: string;
  /** Canonical `host:port`. */
  readonly address: string;
  /** Host part (IPv6 without brackets). */
  readonly host: string;
  /** Port part. */
  readonly port: number;
  /** Relative share of connections. Change through the group. */
  weight: number;
  /** Administrative state. Change through the group. */
  state: UpstreamState;
  /** Most simultaneous connections; 0 means no cap. Change through the group. */
  maxConnections: number;
  /** Set false by health checking; an unhealthy upstream receives no new connections. */
  healthy = true;
  /** Set by passive health checking (outlier ejection); an ejected upstream receives no new connections. */
  ejected = false;
  /** Set only for the length of one {@link UpstreamGroup.pickExcept} call. */
  excluded = false;
  /** Connections picked and not yet released, including those still connecting. */
  active = 0;
  /** Of `active`, those whose upstream connect has not completed yet. */
  connecting = 0;
  /** Connections ever picked. */
  total = 0;
  /** Bytes received from this upstream (towards clients). */
  bytesIn = 0;
  /** Bytes sent to this upstream (from clients). */
  bytesOut = 0;
  /** Connect failures and timeouts. */
  failures = 0;
  /** Position in the owning group's configured order; -1 once removed. Balancers index by it. */
  index = -1;

  constructor(options: UpstreamOptions) {
    const hp = parseHostPort(options.address);
    this.host = hp.host;
    this.port = hp.port;
    this.address = formatHostPort(hp.host, hp.port);
    this.id = options.id ?? this.address;
    this.weight = checkWeight(options.weight ?? 1);
    this.state = options.state ?? 'up';
    this.maxConnections = checkMaxConnections(options.maxConnections ?? 0);
  }

  /**
   * True when only its connection cap can keep this upstream from new connections: up, healthy and not
   * ejected. Hashing balancers build their tables from this, so a full upstream keeps its keys.
   */
  inRotation(): boolean {
    return this.state === 'up' && this.healthy && !this.ejected;
  }

  /** True when this upstream may be given a new connection right now. */
  available(): boolean {
    return (
      this.state === 'up' &&
      this.healthy &&
      !this.ejected &&
      !this.excluded &&
      (this.maxConnections === 0 || this.active < this.maxConnections)
    );
  }
}

/** Validates a weight: a finite number above zero. */
export function checkWeight(weight: number): number {
  if (!Number.isFinite(weight) || weight <= 0) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `weight must be a number above 0, got ${weight}`,
    );
  }
  return weight;
}

/** Validates a connection cap: a whole number, 0 meaning none. */
export function checkMaxConnections(max: number): number {
  if (!Number.isInteger(max) || max < 0) {
    throw new SwitchyardError(
      ErrorCodes.ERR_INVALID_ARGUMENT,
      `maxConnections must be a whole number >= 0, got ${max}`,
    );
  }
  return max;
}
