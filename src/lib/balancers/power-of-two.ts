import type { Upstream } from '../upstreams/upstream.js';
import { type Balancer, capIsReachable } from './balancer.js';
import { IndexSet } from './structures/index-set.js';

/**
 * Power of two choices: draws two different available upstreams uniformly and gives the connection
 * to the one with the lower active / weight (compared by cross-multiplication). Nearly as even as
 * least-connections, but without a shared "least loaded" that every proxy would rush to at once.
 * Available upstreams are kept in a dense set, so a pick is O(1).
 */
export class PowerOfTwoBalancer implements Balancer {
  readonly name = 'power-of-two';
  readonly #random: () => number;
  #list: Upstream[] = [];
  readonly #available = new IndexSet();

  /** `random` returns a number in [0, 1); tests inject a seeded one. */
  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  reset(upstreams: readonly Upstream[]): void {
    this.#list = upstreams.slice();
    this.#available.clear(this.#list.length);
    for (let i = 0; i < this.#list.length; i++) if (this.#list[i].available()) this.#available.add(i);
  }

  update(upstream: Upstream): void {
    if (this.#list[upstream.index] === upstream) this.#sync(upstream.index, upstream);
  }

  pick(_key?: string): Upstream | undefined {
    const set = this.#available;
    const k = set.size;
    if (k < 2) return k === 0 ? undefined : this.#list[set.at(0)];
    let x = (this.#random() * k) | 0;
    if (x >= k) x = k - 1;
    // The second draw is over the other k - 1 members, so the two are always different.
    let y = (this.#random() * (k - 1)) | 0;
    if (y >= k - 1) y = k - 2;
    if (y >= x) y++;
    const a = this.#list[set.at(x)];
    const b = this.#list[set.at(y)];
    return b.active * a.weight < a.active * b.weight ? b : a;
  }

  acquired(upstream: Upstream): void {
    if (capIsReachable(this.#list, upstream)) this.#sync(upstream.index, upstream);
  }

  released(upstream: Upstream): void {
    if (capIsReachable(this.#list, upstream)) this.#sync(upstream.index, upstream);
  }

  #sync(i: number, u: Upstream): void {
    const available = u.available();
    if (available !== this.#available.has(i)) {
      if (available) this.#available.add(i);
      else this.#available.remove(i);
    }
  }
}
