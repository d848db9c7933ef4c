import type { Upstream } from '../upstreams/upstream.js';

/**
 * Chooses upstreams for new connections. A balancer keeps whatever index it needs over the
 * group's upstreams but never changes their counters: the group counts, then calls the hooks.
 */
export interface Balancer {
  /** Registry name, e.g. `least-connections`. */
  readonly name: string;
  /** Rebuilds from the group's upstreams in configured order; loads are read from their counters. */
  reset(upstreams: readonly Upstream[]): void;
  /** One upstream's weight, state, health or cap changed. */
  update(upstream: Upstream): void;
  /**
   * Returns an available upstream for a new connection, or undefined when none is (the group turns
   * that into `ERR_NO_HEALTHY_UPSTREAM`). `key` (client id, source address) matters only to hashing
   * balancers. Returning instead of throwing keeps the refusal path cheap under overload.
   */
  pick(key?: string): Upstream | undefined;
  /** The group has just counted a new connection on `upstream`. */
  acquired(upstream: Upstream): void;
  /** The group has just counted the end of a connection on `upstream`. */
  released(upstream: Upstream): void;
}

/**
 * Whether a connection starting or ending on `upstream` can change its availability for a balancer
 * that keeps `list`: only a max-connections cap makes load matter to balancers that ignore it.
 */
export function capIsReachable(list: readonly Upstream[], upstream: Upstream): boolean {
  return upstream.maxConnections !== 0 && list[upstream.index] === upstream;
}
