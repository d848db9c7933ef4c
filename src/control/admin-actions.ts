import type { Balancer } from '../lib/balancers/balancer.js';
import { createBalancer } from '../lib/balancers/registry.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { UpstreamOptions, UpstreamState } from '../lib/upstreams/upstream.js';

/** An upstream as the admin API adds it; the same fields a config file has. */
export type NewUpstream = UpstreamOptions;

/** What a reload reports: the changes applied, or why nothing was applied. */
export type ReloadResult = { ok: true; changes: string[] } | { ok: false; error: string };

/**
 * Every change the admin API can make. The composition root implements it with the same functions
 * a config reload uses, so a change made by hand and one made by editing the file behave alike.
 * Methods throw {@link SwitchyardError} with a stable code (`ERR_UNKNOWN_GROUP`,
 * `ERR_UNKNOWN_UPSTREAM`, `ERR_INVALID_ARGUMENT`, `ERR_INVALID_ADDRESS`, `ERR_UNKNOWN_BALANCER`,
 * `ERR_DUPLICATE_UPSTREAM`), which the API turns into 404, 400 or 409. A change that returns a
 * promise is in force when it resolves (with several workers: in every one of them).
 */
export interface AdminActions {
  /** Sets an upstream's administrative state; `draining` keeps live connections and takes no new ones. */
  setUpstreamState(group: string, id: string, state: UpstreamState): void | Promise<void>;
  /** Sets an upstream's relative weight (above 0). */
  setUpstreamWeight(group: string, id: string, weight: number): void | Promise<void>;
  /** Adds an upstream at the end of a group. */
  addUpstream(group: string, upstream: NewUpstream): void | Promise<void>;
  /** Removes an upstream; its live connections run to their end. */
  removeUpstream(group: string, id: string): void | Promise<void>;
  /** Swaps a group's balancer by registry name; counters and live connections are kept. */
  setBalancer(group: string, balancer: string): void | Promise<void>;
  /** Re-reads the configuration and applies what changed. */
  reload(): Promise<ReloadResult>;
}

/** The changes {@link directAdminActions} makes to one group; the library's `UpstreamGroup` has them. */
export interface ChangeableGroup {
  setState(id: string, state: UpstreamState): void;
  setWeight(id: string, weight: number): void;
  add(upstream: UpstreamOptions): unknown;
  remove(id: string): unknown;
  setBalancer(balancer: Balancer): void;
}

/** What {@link directAdminActions} changes: anything holding named groups, e.g. a proxy and its runtime. */
export interface RuntimeHolder {
  /** The groups in force; read at each call, so a reload that swaps them is followed. */
  readonly runtime: { readonly groups: ReadonlyMap<string, ChangeableGroup> };
}

/** Returns the group called `name` or throws `ERR_UNKNOWN_GROUP`. */
function requireGroup(holder: RuntimeHolder, name: string): ChangeableGroup {
  const group = holder.runtime.groups.get(name);
  if (group === undefined) {
    throw new SwitchyardError(ErrorCodes.ERR_UNKNOWN_GROUP, `no group "${name}"`);
  }
  return group;
}

/**
 * Actions applied straight to the live groups of `proxy.runtime`, for tests and for a process
 * without a reload engine. `reload` is called for `reload()`; without one, reload answers
 * `{ ok: false }`. Note `setBalancer` builds the balancer with default options (for example no
 * consistent-hash bounded load), since the runtime does not remember the configured ones.
 */
export function directAdminActions(proxy: RuntimeHolder, reload?: () => Promise<ReloadResult>): AdminActions {
  return {
    setUpstreamState(group, id, state) {
      requireGroup(proxy, group).setState(id, state);
    },
    setUpstreamWeight(group, id, weight) {
      requireGroup(proxy, group).setWeight(id, weight);
    },
    addUpstream(group, upstream) {
      requireGroup(proxy, group).add(upstream);
    },
    removeUpstream(group, id) {
      requireGroup(proxy, group).remove(id);
    },
    setBalancer(group, balancer) {
      const g = requireGroup(proxy, group);
      g.setBalancer(createBalancer(balancer));
    },
    reload() {
      if (reload === undefined) {
        return Promise.resolve({ ok: false, error: 'reload is not available in this process' });
      }
      return reload();
    },
  };
}
