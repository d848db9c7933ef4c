import type { Upstream } from '../upstreams/upstream.js';
import { type Balancer, capIsReachable } from './balancer.js';
import { FenwickTree } from './structures/fenwick-tree.js';

/**
 * Picks an available upstream at random, each with probability proportional to its weight. Keeps no
 * shared rotation state, so many independent proxies using it do not fall into step. Weights of
 * available upstreams live in a Fenwick tree (unavailable ones weigh zero): O(log n) per pick.
 */
export class RandomBalancer implements Balancer {
  readonly name = 'random';
  readonly #random: () => number;
  #list: Upstream[] = [];
  readonly #tree = new FenwickTree();

  /** `random` returns a number in [0, 1); tests inject a seeded one. */
  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  reset(upstreams: readonly Upstream[]): void {
    this.#list = upstreams.slice();
    this.#tree.clear(this.#list.length);
    for (let i = 0; i < this.#list.length; i++) this.#sync(i, this.#list[i]);
  }

  update(upstream: Upstream): void {
    if (this.#list[upstream.index] === upstream) this.#sync(upstream.index, upstream);
  }

  pick(_key?: string): Upstream | undefined {
    const i = this.#tree.find(this.#random() * this.#tree.total);
    return i < 0 ? undefined : this.#list[i];
  }

  acquired(upstream: Upstream): void {
    if (capIsReachable(this.#list, upstream)) this.#sync(upstream.index, upstream);
  }

  released(upstream: Upstream): void {
    if (capIsReachable(this.#list, upstream)) this.#sync(upstream.index, upstream);
  }

  #sync(i: number, u: Upstream): void {
    this.#tree.set(i, u.available() ? u.weight : 0);
  }
}
