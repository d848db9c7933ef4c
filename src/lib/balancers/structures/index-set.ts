/**
 * A set of indices below a capacity, kept dense in one array with a position array beside it, so
 * adding, removing and drawing the k-th member are all O(1): what uniform sampling needs.
 */
export class IndexSet {
  #items = new Int32Array(0);
  /** Position of each index in `#items`, -1 while absent. */
  #pos = new Int32Array(0);
  #size = 0;

  /** Empties the set and makes room for indices below `capacity`. */
  clear(capacity: number): void {
    this.#items = new Int32Array(capacity);
    this.#pos = new Int32Array(capacity).fill(-1);
    this.#size = 0;
  }

  /** How many indices are in the set. */
  get size(): number {
    return this.#size;
  }

  /** True when `i` is in the set. */
  has(i: number): boolean {
    return this.#pos[i] >= 0;
  }

  /** The member at rank `k` (0 <= k < size); ranks change when members are removed. */
  at(k: number): number {
    return this.#items[k];
  }

  /** Adds `i`, which must be absent. */
  add(i: number): void {
    const p = this.#size++;
    this.#items[p] = i;
    this.#pos[i] = p;
  }

  /** Removes `i`, which must be present, by moving the last member into its place. */
  remove(i: number): void {
    const p = this.#pos[i];
    const last = this.#items[--this.#size];
    this.#items[p] = last;
    this.#pos[last] = p;
    this.#pos[i] = -1;
  }
}
