import type { SwitchyardConfig } from '../config/types.js';
import { createBalancer } from '../lib/balancers/registry.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { UpstreamOptions, UpstreamState } from '../lib/upstreams/upstream.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';

/** What the admin API's changes work on: the groups in force and the configuration they came from. */
export interface AdminChangesHost {
  /** The live groups of the runtime in force (shared by every runtime, so changes reach all). */
  groups(): ReadonlyMap<string, UpstreamGroup>;
  /** The configuration in force, for what the runtime does not keep (a balancer's options). */
  config(): SwitchyardConfig;
}

/**
 * The admin API's changes: the same live-group calls a reload makes, so counters and running
 * sessions are kept alike, and a later reload applies only what its file changed on top of them.
 */
export class AdminChanges {
  readonly #host: AdminChangesHost;

  constructor(host: AdminChangesHost) {
    this.#host = host;
  }

  /** Sets an upstream's administrative state. */
  setUpstreamState(group: string, id: string, state: UpstreamState): void {
    this.#group(group).setState(id, state);
  }

  /** Sets an upstream's weight. */
  setUpstreamWeight(group: string, id: string, weight: number): void {
    this.#group(group).setWeight(id, weight);
  }

  /** Adds an upstream to a group. */
  addUpstream(group: string, upstream: UpstreamOptions): void {
    this.#group(group).add(upstream);
  }

  /** Removes an upstream; its live sessions finish. */
  removeUpstream(group: string, id: string): void {
    this.#group(group).remove(id);
  }

  /** Swaps a group's balancer, with the group's configured options; counters are kept. */
  setBalancer(group: string, balancer: string): void {
    const g = this.#group(group);
    const cfg = this.#host.config().groups[group];
    g.setBalancer(createBalancer(balancer, { boundedLoad: cfg?.boundedLoad ?? 0 }));
  }

  #group(name: string): UpstreamGroup {
    const g = this.#host.groups().get(name);
    if (g === undefined) throw new SwitchyardError(ErrorCodes.ERR_UNKNOWN_GROUP, `no group "${name}"`);
    return g;
  }
}
