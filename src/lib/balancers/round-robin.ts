import type { Upstream } from '../upstreams/upstream.js';
import type { Balancer } from './balancer.js';
import { WeightedRoundRobinBalancer } from './weighted-round-robin.js';

/**
 * Hands connections to upstreams in turn, in proportion to their weights, skipping those that cannot
 * take one, as HAProxy's `roundrobin` and NGINX's default do. While every weight is equal it is the
 * plain rotation in configured order, which costs one step per pick; as soon as weights differ the
 * picks go to a {@link WeightedRoundRobinBalancer} (smooth: 2:1 gives a a b, spread out), and back
 * to the plain rotation when they are equal again (slow start ending, an operator's re-weighting).
 * When upstreams are added or removed the plain rotation carries on after the last upstream picked,
 * so no upstream is passed over or favoured.
 */
export class RoundRobinBalancer implements Balancer {
  readonly name = 'round-robin';
  #upstreams: readonly Upstream[] = [];
  #next = 0;
  #last: Upstream | undefined;
  /** Each upstream's weight as last seen, to notice a change in `update`. */
  #weightOf = new Float64Array(0);
  /** How many upstreams have each weight: weights are all equal while it holds at most one entry. */
  #weightCounts = new Map<number, number>();
  /** Present while weights differ; picks then go through it. */
  #weighted: WeightedRoundRobinBalancer | undefined;

  reset(upstreams: readonly Upstream[]): void {
    this.#upstreams = upstreams.slice();
    const n = upstreams.length;
    this.#weightOf = new Float64Array(n);
    this.#weightCounts.clear();
    for (let i = 0; i < n; i++) this.#countWeight(i, upstreams[i].weight);
    this.#weighted = undefined;
    this.#chooseRotation();
  }

  update(upstream: Upstream): void {
    const i = upstream.index;
    if (this.#upstreams[i] !== upstream) return;
    const old = this.#weightOf[i];
    if (old === upstream.weight) {
      this.#weighted?.update(upstream);
      return;
    }
    const left = (this.#weightCounts.get(old) ?? 1) - 1;
    if (left === 0) this.#weightCounts.delete(old);
    else this.#weightCounts.set(old, left);
    this.#countWeight(i, upstream.weight);
    const wasWeighted = this.#weighted !== undefined;
    this.#chooseRotation();
    // Staying weighted: let it regroup while keeping its scores, so the spread carries on.
    if (wasWeighted) this.#weighted?.update(upstream);
  }

  pick(_key?: string): Upstream | undefined {
    if (this.#weighted !== undefined) return this.#pickWeighted(this.#weighted);
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

  acquired(upstream: Upstream): void {
    this.#weighted?.acquired(upstream);
  }

  released(upstream: Upstream): void {
    this.#weighted?.released(upstream);
  }

  #pickWeighted(weighted: WeightedRoundRobinBalancer): Upstream | undefined {
    const u = weighted.pick();
    if (u !== undefined) this.#last = u;
    return u;
  }

  #countWeight(i: number, weight: number): void {
    this.#weightOf[i] = weight;
    this.#weightCounts.set(weight, (this.#weightCounts.get(weight) ?? 0) + 1);
  }

  // Builds the weighted rotation when weights have come to differ, or drops it when they are equal
  // again, the plain rotation then resuming after whichever upstream was picked last.
  #chooseRotation(): void {
    if (this.#weightCounts.size > 1) {
      if (this.#weighted === undefined) {
        this.#weighted = new WeightedRoundRobinBalancer();
        this.#weighted.reset(this.#upstreams);
      }
      return;
    }
    this.#weighted = undefined;
    const list = this.#upstreams;
    const last = this.#last === undefined ? -1 : list.indexOf(this.#last);
    if (last >= 0) this.#next = last + 1 === list.length ? 0 : last + 1;
    else if (this.#next >= list.length) this.#next = 0;
  }
}
