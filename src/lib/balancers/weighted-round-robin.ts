import type { Upstream } from '../upstreams/upstream.js';
import { type Balancer, capIsReachable } from './balancer.js';
import { ScoreHeap } from './structures/score-heap.js';

// Past this, a weight class's base is folded back into its scores so sums stay exact integers.
const MAX_BASE = 2 ** 40;

/**
 * Smooth weighted round-robin, nginx's algorithm: every pick adds each available upstream's weight
 * to its current score, takes the highest score (first in configured order on a tie) and takes the
 * total weight off the winner. Over sum(weights) picks each upstream gets exactly its weight, spread
 * out instead of in bursts. Rather than touching every upstream per pick, upstreams are grouped by
 * weight: within one weight all scores rise together, so each group keeps a shared base plus a
 * max-heap of offsets, and a pick costs O(distinct weights + log n) instead of O(n). Scores are
 * exact for integer weights. Reset starts every score at zero; weight changes keep them.
 */
export class WeightedRoundRobinBalancer implements Balancer {
  readonly name = 'weighted-round-robin';
  #list: Upstream[] = [];
  /** Per upstream: score minus its class base while in a heap, the whole score while out. */
  #score = new Float64Array(0);
  #pos = new Int32Array(0);
  #classOf = new Int32Array(0);
  /** Weights the classes were built with, to notice a change in `update`. */
  #weightOf = new Float64Array(0);
  #classWeight = new Float64Array(0);
  #classBase = new Float64Array(0);
  #heaps: ScoreHeap[] = [];

  reset(upstreams: readonly Upstream[]): void {
    this.#list = upstreams.slice();
    this.#score = new Float64Array(this.#list.length);
    this.#build();
  }

  update(upstream: Upstream): void {
    const i = upstream.index;
    if (this.#list[i] !== upstream) return;
    if (this.#weightOf[i] !== upstream.weight) {
      // Regroup by weight, carrying every score over whole.
      for (let j = 0; j < this.#list.length; j++) {
        if (this.#pos[j] >= 0) this.#score[j] += this.#classBase[this.#classOf[j]];
      }
      this.#build();
      return;
    }
    this.#sync(i, upstream);
  }

  pick(_key?: string): Upstream | undefined {
    const heaps = this.#heaps;
    const classWeight = this.#classWeight;
    const classBase = this.#classBase;
    const score = this.#score;
    let best = -1;
    let bestScore = 0;
    let total = 0;
    for (let c = 0; c < heaps.length; c++) {
      const h = heaps[c];
      const size = h.size;
      if (size === 0) continue;
      const w = classWeight[c];
      total += w * size;
      const top = h.top();
      const s = classBase[c] + w + score[top];
      if (best < 0 || s > bestScore || (s === bestScore && top < best)) {
        best = top;
        bestScore = s;
      }
    }
    if (best < 0) return undefined;
    for (let c = 0; c < heaps.length; c++) {
      if (heaps[c].size === 0) continue;
      classBase[c] += classWeight[c];
      if (classBase[c] > MAX_BASE) {
        heaps[c].shift(classBase[c]);
        classBase[c] = 0;
      }
    }
    score[best] -= total;
    heaps[this.#classOf[best]].lowered(best);
    return this.#list[best];
  }

  acquired(upstream: Upstream): void {
    if (capIsReachable(this.#list, upstream)) this.#sync(upstream.index, upstream);
  }

  released(upstream: Upstream): void {
    if (capIsReachable(this.#list, upstream)) this.#sync(upstream.index, upstream);
  }

  // An unavailable upstream leaves its heap with its whole score, frozen as nginx freezes a skipped
  // peer's current weight, and re-enters where it left off.
  #sync(i: number, u: Upstream): void {
    const c = this.#classOf[i];
    const inHeap = this.#pos[i] >= 0;
    if (u.available()) {
      if (!inHeap) {
        this.#score[i] -= this.#classBase[c];
        this.#heaps[c].insert(i);
      }
    } else if (inHeap) {
      this.#heaps[c].remove(i);
      this.#score[i] += this.#classBase[c];
    }
  }

  // Expects whole scores in #score (no upstream in a heap).
  #build(): void {
    const list = this.#list;
    const n = list.length;
    const classIds = new Map<number, number>();
    const sizes: number[] = [];
    this.#classOf = new Int32Array(n);
    this.#weightOf = new Float64Array(n);
    this.#pos = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) {
      const w = list[i].weight;
      let c = classIds.get(w);
      if (c === undefined) {
        c = sizes.length;
        classIds.set(w, c);
        sizes.push(0);
      }
      sizes[c]++;
      this.#classOf[i] = c;
      this.#weightOf[i] = w;
    }
    this.#classWeight = new Float64Array(sizes.length);
    this.#classBase = new Float64Array(sizes.length);
    for (const [w, c] of classIds) this.#classWeight[c] = w;
    this.#heaps = sizes.map((size) => new ScoreHeap(size, this.#pos, this.#score));
    for (let i = 0; i < n; i++) if (list[i].available()) this.#heaps[this.#classOf[i]].insert(i);
  }
}
