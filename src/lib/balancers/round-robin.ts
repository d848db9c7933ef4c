import type { Upstream } from '../upstreams/upstream.js';
import type { Balancer } from './balancer.js';

/**
 * Hands connections to upstreams in configured order, skipping those that cannot take one. Weights
 * and loads are ignored (weighted-round-robin honours weights). When upstreams are added or removed
 * the rotation carries on after the last upstream picked, so no upstream is passed over or favoured.
 */
export class RoundRobinBalancer implements Balancer {
  readonly name = 'round-robin';
  #upstreams: readonly Upstream[] = [];
  #next = 0;
  #last: Upstream | undefined;

  reset(upstreams: readonly Upstream[]): void {
    this.#upstreams = upstreams.slice();
    const last = this.#last === undefined ? -1 : this.#upstreams.indexOf(this.#last);
    if (last >= 0) this.#next = last + 1 === upstreams.length ? 0 : last + 1;
    else if (this.#next >= upstreams.length) this.#next = 0;
  }

  update(_upstream: Upstream): void {}

  pick(_key?: string): Upstream | undefined {
    const list = this.#upstreams;
    const n = list.length;
    let i = this.#next;
    for (let tries = 0; tries < n; tries++) {
      const u = list[i];
      i = i + 1 === n ? 0 : i + 1;
      if (u.available()) {
        this.#next = i;
        this.#last = u;
        return u;
      }
    }
    return undefined;
  }

  acquired(_upstream: Upstream): void {}

  released(_upstream: Upstream): void {}
}
