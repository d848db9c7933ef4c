import type { Balancer } from '../balancers/balancer.js';
import { createBalancer } from '../balancers/registry.js';
import { ErrorCodes, NoHealthyUpstreamError, SwitchyardError } from '../errors.js';
import {
  checkMaxConnections,
  checkWeight,
  UPSTREAM_STATES,
  Upstream,
  type UpstreamOptions,
  type UpstreamState,
} from './upstream.js';

/** What it takes to build a group. */
export interface UpstreamGroupOptions {
  /** A balancer instance or a registry name. Default `least-connections`. */
  balancer?: Balancer | string;
  /** Upstreams in configured order. */
  upstreams?: readonly (UpstreamOptions | Upstream)[];
}

/**
 * A named set of upstreams with one balancer: the seed's ServerPool. The group owns the upstreams'
 * counters and keeps the balancer told of every change, so upstreams can be added, removed,
 * re-weighted or re-stated and the balancer swapped while connections are live, without losing counts.
 */
export class UpstreamGroup {
  /** Group name, as referenced by routes. */
  readonly name: string;
  #upstreams: Upstream[] = [];
  #byId = new Map<string, Upstream>();
  // Removed upstreams with connections still open; each leaves when its last one ends.
  readonly #draining = new Set<Upstream>();
  #balancer: Balancer;

  constructor(name: string, options: UpstreamGroupOptions = {}) {
    this.name = name;
    this.#balancer = toBalancer(options.balancer ?? 'least-connections');
    for (const u of options.upstreams ?? []) this.#insert(u);
    this.#reindex();
  }

  /** Upstreams in configured order. Do not mutate; use the group's methods. */
  get upstreams(): readonly Upstream[] {
    return this.#upstreams;
  }

  /** The balancer in use. */
  get balancer(): Balancer {
    return this.#balancer;
  }

  /** The upstream with this id, if any. */
  get(id: string): Upstream | undefined {
    return this.#byId.get(id);
  }

  /** Adds an upstream at the end of the order. Throws `ERR_DUPLICATE_UPSTREAM` on an id in use. */
  add(upstream: UpstreamOptions | Upstream): Upstream {
    const u = this.#insert(upstream);
    this.#reindex();
    return u;
  }

  /**
   * Removes an upstream. It gets no new connections; live ones run to their end and are still
   * counted on the returned object when they are released.
   */
  remove(id: string): Upstream {
    const u = this.#require(id);
    this.#byId.delete(id);
    this.#upstreams.splice(u.index, 1);
    u.index = -1;
    if (u.active > 0) this.#draining.add(u);
    this.#reindex();
    return u;
  }

  /**
   * Connections still open on upstreams removed from this group; they count towards the group's
   * load that an operator sees until they end.
   */
  get retiredActive(): number {
    let n = 0;
    for (const u of this.#draining) n += u.active;
    return n;
  }

  /** Changes an upstream's weight. */
  setWeight(id: string, weight: number): void {
    const u = this.#require(id);
    u.weight = checkWeight(weight);
    this.#balancer.update(u);
  }

  /** Changes an upstream's administrative state. */
  setState(id: string, state: UpstreamState): void {
    if (!UPSTREAM_STATES.includes(state)) {
      throw new SwitchyardError(ErrorCodes.ERR_INVALID_ARGUMENT, `unknown upstream state "${state}"`);
    }
    const u = this.#require(id);
    u.state = state;
    this.#balancer.update(u);
  }

  /** Marks an upstream healthy or not, as health checking decides. */
  setHealthy(id: string, healthy: boolean): void {
    const u = this.#require(id);
    u.healthy = healthy;
    this.#balancer.update(u);
  }

  /** Ejects an upstream or lets it back, as passive health checking decides. */
  setEjected(id: string, ejected: boolean): void {
    const u = this.#require(id);
    u.ejected = ejected;
    this.#balancer.update(u);
  }

  /** Changes an upstream's connection cap (0 = none). */
  setMaxConnections(id: string, max: number): void {
    const u = this.#require(id);
    u.maxConnections = checkMaxConnections(max);
    this.#balancer.update(u);
  }

  /** Swaps the balancer; live connections and counters are untouched. */
  setBalancer(balancer: Balancer | string): void {
    const b = toBalancer(balancer);
    b.reset(this.#upstreams);
    this.#balancer = b;
  }

  /**
   * Picks an upstream for a new connection and counts it as active and connecting.
   * Throws {@link NoHealthyUpstreamError} when none can take it.
   */
  pick(key?: string): Upstream {
    const u = this.#balancer.pick(key);
    if (u === undefined) throw new NoHealthyUpstreamError(this.name);
    u.active++;
    u.connecting++;
    u.total++;
    this.#balancer.acquired(u);
    return u;
  }

  /**
   * Picks like {@link pick} but never one of `avoid`: a retry after a failed connect must not land on
   * the upstream that just failed, whatever the balancer would prefer. The exclusion lasts for this
   * call only.
   */
  pickExcept(key: string | undefined, avoid: readonly Upstream[]): Upstream {
    const b = this.#balancer;
    const marked: Upstream[] = [];
    for (const u of avoid) {
      if (u.excluded || u.index < 0 || this.#upstreams[u.index] !== u) continue;
      u.excluded = true;
      marked.push(u);
      b.update(u);
    }
    try {
      return this.pick(key);
    } finally {
      for (const u of marked) {
        u.excluded = false;
        b.update(u);
      }
    }
  }

  /** The connection picked on `u` is established. */
  connected(u: Upstream): void {
    if (u.connecting > 0) u.connecting--;
  }

  /** The connection picked on `u` could not be established: counts a failure and releases it. */
  failed(u: Upstream): void {
    u.failures++;
    if (u.connecting > 0) u.connecting--;
    this.#end(u);
  }

  /** The connection picked on `u` was abandoned before it connected, through no fault of the upstream. */
  cancelled(u: Upstream): void {
    if (u.connecting > 0) u.connecting--;
    this.#end(u);
  }

  /** An established connection on `u` has ended; `bytesIn`/`bytesOut` are its totals. */
  release(u: Upstream, bytesIn = 0, bytesOut = 0): void {
    u.bytesIn += bytesIn;
    u.bytesOut += bytesOut;
    this.#end(u);
  }

  #end(u: Upstream): void {
    if (u.active === 0) return;
    u.active--;
    // A removed upstream is no longer in the balancer's index; only its counters move.
    if (u.index >= 0 && this.#upstreams[u.index] === u) this.#balancer.released(u);
    else if (u.active === 0) this.#draining.delete(u);
  }

  #insert(upstream: UpstreamOptions | Upstream): Upstream {
    const u = upstream instanceof Upstream ? upstream : new Upstream(upstream);
    if (this.#byId.has(u.id)) {
      throw new SwitchyardError(
        ErrorCodes.ERR_DUPLICATE_UPSTREAM,
        `group "${this.name}" already has an upstream "${u.id}"`,
      );
    }
    this.#byId.set(u.id, u);
    this.#upstreams.push(u);
    this.#draining.delete(u);
    return u;
  }

  #reindex(): void {
    for (let i = 0; i < this.#upstreams.length; i++) this.#upstreams[i].index = i;
    this.#balancer.reset(this.#upstreams);
  }

  #require(id: string): Upstream {
    const u = this.#byId.get(id);
    if (u === undefined) {
      throw new SwitchyardError(
        ErrorCodes.ERR_UNKNOWN_UPSTREAM,
        `group "${this.name}" has no upstream "${id}"`,
      );
    }
    return u;
  }
}

function toBalancer(b: Balancer | string): Balancer {
  return typeof b === 'string' ? createBalancer(b) : b;
}
