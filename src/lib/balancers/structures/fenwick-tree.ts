/**
 * Prefix sums over one weight per index (a Fenwick tree), so drawing an index with probability
 * proportional to its weight and changing one weight are both O(log n). Zero weight means "never
 * drawn". Incremental updates can leave rounding residue with fractional weights, so the tree is
 * rebuilt from the exact weights after every n updates (amortised O(1)).
 */
export class FenwickTree {
  #tree = new Float64Array(1);
  #value = new Float64Array(0);
  #n = 0;
  /** Highest power of two <= n: where the descent in `find` starts. */
  #top = 0;
  #total = 0;
  /** Indices with a weight above zero; 0 means nothing can be drawn, whatever the rounding says. */
  #positive = 0;
  #updates = 0;

  /** Sets every weight to zero and makes room for indices below `capacity`. */
  clear(capacity: number): void {
    this.#n = capacity;
    this.#tree = new Float64Array(capacity + 1);
    this.#value = new Float64Array(capacity);
    let top = 1;
    while (top * 2 <= capacity) top *= 2;
    this.#top = capacity === 0 ? 0 : top;
    this.#total = 0;
    this.#positive = 0;
    this.#updates = 0;
  }

  /** Sum of all weights. */
  get total(): number {
    return this.#total;
  }

  /** The weight of `i`. */
  get(i: number): number {
    return this.#value[i];
  }

  /** Sets the weight of `i` (>= 0). */
  set(i: number, weight: number): void {
    const old = this.#value[i];
    if (old === weight) return;
    this.#value[i] = weight;
    if (old === 0) this.#positive++;
    else if (weight === 0) this.#positive--;
    if (++this.#updates > this.#n + 64) {
      this.#rebuild();
      return;
    }
    const delta = weight - old;
    const tree = this.#tree;
    for (let j = i + 1; j <= this.#n; j += j & -j) tree[j] += delta;
    this.#total += delta;
  }

  /**
   * The index whose slice of [0, total) holds `r`, always one with a weight above zero, or -1 when
   * every weight is zero.
   */
  find(r: number): number {
    if (this.#positive === 0) return -1;
    const tree = this.#tree;
    const n = this.#n;
    let pos = 0;
    for (let step = this.#top; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= n && tree[next] <= r) {
        pos = next;
        r -= tree[next];
      }
    }
    if (pos < n && this.#value[pos] > 0) return pos;
    return this.#nearest(pos);
  }

  // Rounding put the draw past the end or on a zero weight: take the closest index that can be drawn.
  #nearest(pos: number): number {
    const value = this.#value;
    for (let i = Math.min(pos, this.#n - 1); i >= 0; i--) if (value[i] > 0) return i;
    for (let i = pos + 1; i < this.#n; i++) if (value[i] > 0) return i;
    return -1;
  }

  #rebuild(): void {
    const tree = this.#tree;
    const n = this.#n;
    tree.fill(0);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const v = this.#value[i];
      total += v;
      tree[i + 1] += v;
      const parent = i + 1 + ((i + 1) & -(i + 1));
      if (parent <= n) tree[parent] += tree[i + 1];
    }
    this.#total = total;
    this.#updates = 0;
  }
}
