// Each heap entry is four float64 slots side by side, so comparing two siblings reads one or two
// cache lines instead of chasing an index into three separate arrays.
const ACTIVE = 0;
const WEIGHT = 1;
const STAMP = 2;
const INDEX = 3;
const ENTRY = 4;

/**
 * Indexed binary min-heap of upstream indices ordered by weighted load, active / weight, compared
 * by cross-multiplication so no division rounds two equal loads apart. Among equal loads the index
 * acquired least recently comes first, so equal upstreams take turns. A position array lets any index
 * be moved or removed in O(log n) (decrease-key and increase-key alike).
 */
export class IndexedHeap {
  #entries = new Float64Array(0);
  /** Heap position of each index, -1 while absent. */
  #pos = new Int32Array(0);
  /** Stamps of absent indices, kept so an index that comes back keeps its place among equals. */
  #stamp = new Float64Array(0);
  #clock = 0;
  #size = 0;

  /** Empties the heap and makes room for indices below `capacity`; ties start in index order. */
  clear(capacity: number): void {
    this.#entries = new Float64Array(ENTRY * capacity);
    this.#pos = new Int32Array(capacity).fill(-1);
    this.#stamp = new Float64Array(capacity);
    for (let i = 0; i < capacity; i++) this.#stamp[i] = i;
    this.#clock = capacity;
    this.#size = 0;
  }

  /** How many indices are in the heap. */
  get size(): number {
    return this.#size;
  }

  /** True when `i` is in the heap. */
  has(i: number): boolean {
    return this.#pos[i] >= 0;
  }

  /** The index with the lowest weighted load, or -1 when empty. */
  first(): number {
    return this.#size === 0 ? -1 : this.#entries[INDEX];
  }

  /** Adds `i`, which must be absent, with its live count and weight. */
  insert(i: number, active: number, weight: number): void {
    this.#siftUp(this.#size++, active, weight, this.#stamp[i], i);
  }

  /** Takes `i` out of the heap if it is there. */
  remove(i: number): void {
    const p = this.#pos[i];
    if (p < 0) return;
    const e = this.#entries;
    this.#stamp[i] = e[ENTRY * p + STAMP];
    this.#pos[i] = -1;
    const q = ENTRY * --this.#size;
    if (q === ENTRY * p) return;
    this.#place(p, e[q + ACTIVE], e[q + WEIGHT], e[q + STAMP], e[q + INDEX]);
  }

  /** `i`, which must be present, was just given a connection: it now has `active` and waits longest. */
  acquire(i: number, active: number): void {
    const p = this.#pos[i];
    // Usually the root, whose load only went up, so this goes straight to sifting down.
    this.#place(p, active, this.#entries[ENTRY * p + WEIGHT], this.#clock++, i);
  }

  /** `i`, which must be present, now has `active` connections. */
  release(i: number, active: number): void {
    const p = this.#pos[i];
    const b = ENTRY * p;
    this.#place(p, active, this.#entries[b + WEIGHT], this.#entries[b + STAMP], i);
  }

  // Puts an entry whose key may have moved either way into position p, then sifts it home.
  #place(p: number, a: number, w: number, s: number, i: number): void {
    if (p > 0) {
      const e = this.#entries;
      const q = ENTRY * ((p - 1) >> 1);
      const x = a * e[q + WEIGHT];
      const y = e[q + ACTIVE] * w;
      if (x < y || (x === y && s < e[q + STAMP])) {
        this.#siftUp(p, a, w, s, i);
        return;
      }
    }
    this.#siftDown(p, a, w, s, i);
  }

  // Both sifts carry the entry in locals and move others into the hole: one write per level.
  #siftUp(p: number, a: number, w: number, s: number, i: number): void {
    const e = this.#entries;
    const pos = this.#pos;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      const q = ENTRY * parent;
      const x = a * e[q + WEIGHT];
      const y = e[q + ACTIVE] * w;
      if (!(x < y || (x === y && s < e[q + STAMP]))) break;
      const b = ENTRY * p;
      const j = e[q + INDEX];
      e[b + ACTIVE] = e[q + ACTIVE];
      e[b + WEIGHT] = e[q + WEIGHT];
      e[b + STAMP] = e[q + STAMP];
      e[b + INDEX] = j;
      pos[j] = p;
      p = parent;
    }
    const b = ENTRY * p;
    e[b + ACTIVE] = a;
    e[b + WEIGHT] = w;
    e[b + STAMP] = s;
    e[b + INDEX] = i;
    pos[i] = p;
  }

  #siftDown(p: number, a: number, w: number, s: number, i: number): void {
    const e = this.#entries;
    const pos = this.#pos;
    const size = this.#size;
    for (;;) {
      let c = 2 * p + 1;
      if (c >= size) break;
      let q = ENTRY * c;
      if (c + 1 < size) {
        const r = q + ENTRY;
        const x = e[r + ACTIVE] * e[q + WEIGHT];
        const y = e[q + ACTIVE] * e[r + WEIGHT];
        if (x < y || (x === y && e[r + STAMP] < e[q + STAMP])) {
          c++;
          q = r;
        }
      }
      const x = e[q + ACTIVE] * w;
      const y = a * e[q + WEIGHT];
      if (!(x < y || (x === y && e[q + STAMP] < s))) break;
      const b = ENTRY * p;
      const j = e[q + INDEX];
      e[b + ACTIVE] = e[q + ACTIVE];
      e[b + WEIGHT] = e[q + WEIGHT];
      e[b + STAMP] = e[q + STAMP];
      e[b + INDEX] = j;
      pos[j] = p;
      p = c;
    }
    const b = ENTRY * p;
    e[b + ACTIVE] = a;
    e[b + WEIGHT] = w;
    e[b + STAMP] = s;
    e[b + INDEX] = i;
    pos[i] = p;
  }
}
