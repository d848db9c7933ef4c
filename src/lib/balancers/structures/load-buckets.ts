// Per index, three Int32 slots side by side (next, previous, count) so one move touches few cache
// lines; per count, two (head, tail).
const NEXT = 0;
const PREV = 1;
const COUNT = 2;
const NODE = 3;

/**
 * Indices grouped by connection count, one intrusive doubly-linked list per count kept in Int32Arrays,
 * so finding, moving and removing the least-loaded index is O(1) when all weights are equal. Every
 * list is first in, first out: an index that moves joins the back, so indices of equal count take turns.
 */
export class LoadBuckets {
  #node = new Int32Array(0);
  #ends = new Int32Array(0);
  /** Lowest count with a non-empty list, while size > 0. */
  #min = 0;
  #size = 0;

  /**
   * Empties the structure and makes room for indices below `capacity`. Structures holding disjoint
   * sets of indices may `share` one per-index array (least-connections keeps one structure per
   * weight): memory stays 12 bytes per index however many there are. Clear them all together.
   */
  clear(capacity: number, share?: LoadBuckets): void {
    this.#node = share === undefined ? new Int32Array(NODE * capacity).fill(-1) : share.#node;
    this.#ends = new Int32Array(capacity === 0 ? 0 : 32).fill(-1);
    this.#min = 0;
    this.#size = 0;
  }

  /** How many indices are in the structure. */
  get size(): number {
    return this.#size;
  }

  /** True when `i` is in the structure. */
  has(i: number): boolean {
    return this.#node[NODE * i + COUNT] >= 0;
  }

  /** The count `i` is filed under, -1 when absent. */
  countOf(i: number): number {
    return this.#node[NODE * i + COUNT];
  }

  /** The index that has waited longest at the lowest count, or -1 when empty. */
  first(): number {
    return this.#size === 0 ? -1 : this.#ends[2 * this.#min];
  }

  /** Files `i` under `count`, behind the indices already there, whether or not it was present. */
  set(i: number, count: number): void {
    const old = this.#node[NODE * i + COUNT];
    if (old < 0) {
      this.#link(i, count);
      if (this.#size++ === 0 || count < this.#min) this.#min = count;
      return;
    }
    this.move(i, count);
  }

  /** Refiles `i` under `count` if it is present, as `set` does; returns false, doing nothing, if absent. */
  move(i: number, count: number): boolean {
    const old = this.#node[NODE * i + COUNT];
    if (old < 0) return false;
    this.#unlink(i, old);
    this.#link(i, count);
    if (count < this.#min) this.#min = count;
    else if (old === this.#min && this.#ends[2 * old] === -1) this.#min = this.#firstFrom(old);
    return true;
  }

  /** Takes `i` out of the structure if it is there. */
  remove(i: number): void {
    const c = this.#node[NODE * i + COUNT];
    if (c < 0) return;
    this.#unlink(i, c);
    this.#node[NODE * i + COUNT] = -1;
    if (--this.#size > 0 && c === this.#min && this.#ends[2 * c] === -1) this.#min = this.#firstFrom(c);
  }

  // Only called while some list at or above `c` is non-empty, so the scan ends inside the array.
  #firstFrom(c: number): number {
    const ends = this.#ends;
    while (ends[2 * c] === -1) c++;
    return c;
  }

  #link(i: number, c: number): void {
    if (2 * c + 1 >= this.#ends.length) this.#grow(c);
    const node = this.#node;
    const ends = this.#ends;
    const last = ends[2 * c + 1];
    const b = NODE * i;
    node[b + NEXT] = -1;
    node[b + PREV] = last;
    node[b + COUNT] = c;
    if (last === -1) ends[2 * c] = i;
    else node[NODE * last + NEXT] = i;
    ends[2 * c + 1] = i;
  }

  #unlink(i: number, c: number): void {
    const node = this.#node;
    const ends = this.#ends;
    const b = NODE * i;
    const p = node[b + PREV];
    const n = node[b + NEXT];
    if (p === -1) ends[2 * c] = n;
    else node[NODE * p + NEXT] = n;
    if (n === -1) ends[2 * c + 1] = p;
    else node[NODE * n + PREV] = p;
  }

  // Counts are unbounded, so the per-count ends grow by doubling: amortised O(1), and never on a
  // steady-state pick or release once the highest count has been seen.
  #grow(c: number): void {
    const ends = new Int32Array(Math.max(32, this.#ends.length * 2, 2 * c + 2)).fill(-1);
    ends.set(this.#ends);
    this.#ends = ends;
  }
}
