import type { Upstream } from '../upstreams/upstream.js';
import type { Balancer } from './balancer.js';
import { IndexedHeap } from './structures/indexed-heap.js';
import { LoadBuckets } from './structures/load-buckets.js';

/**
 * Up to this many distinct weights, count buckets per weight beat the heap: a pick compares every
 * weight's minimum, which grows with the weights, while the heap's sifts grow with the upstreams.
 * Measured (docs/BENCHMARKS.md): with 16 weights the buckets tie the heap at 10 upstreams and win
 * 1.2-2x at 1 000 and 1.7-2.7x at 100 000; with 32 they lose 2.3x at 10 and 1.1x at 1 000.
 */
const MAX_WEIGHT_CLASSES = 16;

/**
 * Gives each new connection to the available upstream with the lowest active / weight (compared as
 * a.active * b.weight against b.active * a.weight, so no division rounds), connections still being
 * set up included since they are in `active`. Equal loads take turns: the upstream that has waited
 * longest wins (since its count last changed with buckets, since it was last picked with the heap).
 * Only available upstreams are kept in the index; a full one leaves it and comes back when released
 * below its cap or when `update` says it may.
 *
 * The index is chosen from the weights on every reset and weight change: with all weights equal,
 * count buckets (O(1) pick, acquire and release); with a few distinct weights, one set of count
 * buckets per weight (a pick compares their few minimums); with more, an indexed binary heap (O(1)
 * pick, O(log n) acquire and release). Nothing is allocated per pick, acquire or release.
 */
export class LeastConnectionsBalancer implements Balancer {
  readonly name = 'least-connections';
  #list: Upstream[] = [];
  /** Weights the index was built with, to notice a change in `update`. */
  #weight = new Float64Array(0);
  #classOf = new Int32Array(0);
  #classWeight = new Float64Array(0);
  #classes = 0;
  #useHeap = false;
  /** When each upstream was last acquired: breaks ties between the per-weight minimums. */
  #stamp = new Float64Array(0);
  #clock = 0;
  /** Count buckets per distinct weight; `#single` is the first, the whole index when weights are equal. */
  #byClass: LoadBuckets[] = [];
  #single = new LoadBuckets();
  readonly #heap = new IndexedHeap();

  reset(upstreams: readonly Upstream[]): void {
    this.#list = upstreams.slice();
    this.#build();
  }

  update(upstream: Upstream): void {
    const i = upstream.index;
    if (this.#list[i] !== upstream) return;
    if (this.#weight[i] !== upstream.weight) {
      // Weight changes are rare and may change which index fits: build it afresh.
      this.#build();
      return;
    }
    if (!upstream.available()) this.#remove(i);
    else if (this.#useHeap) {
      if (!this.#heap.has(i)) this.#heap.insert(i, upstream.active, upstream.weight);
    } else {
      const b = this.#byClass[this.#classOf[i]];
      if (!b.has(i)) b.set(i, upstream.active);
    }
  }

  pick(_key?: string): Upstream | undefined {
    const i =
      this.#classes === 1
        ? this.#single.first()
        : this.#useHeap
          ? this.#heap.first()
          : this.#firstAcrossClasses();
    return i < 0 ? undefined : this.#list[i];
  }

  // The hooks run on every connection, so they test only what a connection can change: whether the
  // upstream reached or left its cap. State and health changes arrive through `update`, so an upstream
  // absent from the index is either unavailable or full.
  acquired(upstream: Upstream): void {
    const i = upstream.index;
    if (this.#list[i] !== upstream) return;
    const max = upstream.maxConnections;
    if (max !== 0 && upstream.active >= max) this.#remove(i);
    else if (this.#classes === 1) this.#single.move(i, upstream.active);
    else if (!this.#useHeap) {
      this.#stamp[i] = this.#clock++;
      this.#byClass[this.#classOf[i]].move(i, upstream.active);
    } else if (this.#heap.has(i)) this.#heap.acquire(i, upstream.active);
  }

  released(upstream: Upstream): void {
    const i = upstream.index;
    if (this.#list[i] !== upstream) return;
    if (this.#classes === 1) {
      if (!this.#single.move(i, upstream.active) && upstream.available())
        this.#single.set(i, upstream.active);
    } else if (!this.#useHeap) {
      const b = this.#byClass[this.#classOf[i]];
      if (!b.move(i, upstream.active) && upstream.available()) b.set(i, upstream.active);
    } else if (this.#heap.has(i)) this.#heap.release(i, upstream.active);
    // Dropping below maxConnections makes a full upstream available again: it goes back in here.
    else if (upstream.available()) this.#heap.insert(i, upstream.active, upstream.weight);
  }

  #firstAcrossClasses(): number {
    const byClass = this.#byClass;
    let best = -1;
    let bestActive = 0;
    let bestWeight = 1;
    for (let c = 0; c < byClass.length; c++) {
      const b = byClass[c];
      const i = b.first();
      if (i < 0) continue;
      const active = b.countOf(i);
      const weight = this.#classWeight[c];
      if (best >= 0) {
        const x = active * bestWeight;
        const y = bestActive * weight;
        if (x > y || (x === y && this.#stamp[i] > this.#stamp[best])) continue;
      }
      best = i;
      bestActive = active;
      bestWeight = weight;
    }
    return best;
  }

  #remove(i: number): void {
    if (this.#useHeap) this.#heap.remove(i);
    else this.#byClass[this.#classOf[i]].remove(i);
  }

  #build(): void {
    const list = this.#list;
    const n = list.length;
    const classIds = new Map<number, number>();
    this.#weight = new Float64Array(n);
    this.#classOf = new Int32Array(n);
    this.#stamp = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const w = list[i].weight;
      let c = classIds.get(w);
      if (c === undefined) {
        c = classIds.size;
        classIds.set(w, c);
      }
      this.#weight[i] = w;
      this.#classOf[i] = c;
      this.#stamp[i] = i;
    }
    this.#clock = n;
    this.#classes = classIds.size;
    this.#classWeight = new Float64Array(classIds.size);
    for (const [w, c] of classIds) this.#classWeight[c] = w;
    this.#useHeap = this.#classes > MAX_WEIGHT_CLASSES;
    // Only the index in use holds memory; the per-weight bucket sets share one per-upstream array.
    this.#byClass = [];
    if (!this.#useHeap) {
      for (let c = 0; c < this.#classes; c++) {
        const b = new LoadBuckets();
        b.clear(n, this.#byClass[0]);
        this.#byClass.push(b);
      }
    }
    this.#single = this.#byClass[0] ?? new LoadBuckets();
    this.#heap.clear(this.#useHeap ? n : 0);
    for (let i = 0; i < n; i++) {
      const u = list[i];
      if (!u.available()) continue;
      if (this.#useHeap) this.#heap.insert(i, u.active, u.weight);
      else this.#byClass[this.#classOf[i]].set(i, u.active);
    }
  }
}
