/**
 * Indexed binary max-heap of indices by score, ties to the lower index. Several heaps may share one
 * score array and one position array, each index living in at most one heap: weighted round-robin
 * keeps one heap per distinct weight over the same upstream indices.
 */
export class ScoreHeap {
  readonly #heap: Int32Array;
  /** Shared: position of each index in its heap, -1 while in none. */
  readonly #pos: Int32Array;
  /** Shared: score of each index. */
  readonly #score: Float64Array;
  #size = 0;

  constructor(capacity: number, pos: Int32Array, score: Float64Array) {
    this.#heap = new Int32Array(capacity);
    this.#pos = pos;
    this.#score = score;
  }

  /** How many indices are in this heap. */
  get size(): number {
    return this.#size;
  }

  /** The index with the highest score, or -1 when empty. */
  top(): number {
    return this.#size === 0 ? -1 : this.#heap[0];
  }

  /** Adds `i`, which must be in no heap, with the score already in the shared array. */
  insert(i: number): void {
    const p = this.#size++;
    this.#heap[p] = i;
    this.#pos[i] = p;
    this.#siftUp(p, i);
  }

  /** Takes `i`, which must be in this heap, out. */
  remove(i: number): void {
    const p = this.#pos[i];
    this.#pos[i] = -1;
    const last = this.#heap[--this.#size];
    if (last === i) return;
    this.#heap[p] = last;
    this.#pos[last] = p;
    if (p > 0 && this.#before(last, this.#heap[(p - 1) >> 1])) this.#siftUp(p, last);
    else this.#siftDown(p, last);
  }

  /** The score of `i`, which must be in this heap, has just gone down. */
  lowered(i: number): void {
    this.#siftDown(this.#pos[i], i);
  }

  /** Adds `delta` to every score in this heap; the order is unchanged. */
  shift(delta: number): void {
    for (let p = 0; p < this.#size; p++) this.#score[this.#heap[p]] += delta;
  }

  #before(a: number, b: number): boolean {
    const x = this.#score[a];
    const y = this.#score[b];
    return x > y || (x === y && a < b);
  }

  #siftUp(p: number, i: number): void {
    const heap = this.#heap;
    const pos = this.#pos;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      const j = heap[parent];
      if (!this.#before(i, j)) break;
      heap[p] = j;
      pos[j] = p;
      p = parent;
    }
    heap[p] = i;
    pos[i] = p;
  }

  #siftDown(p: number, i: number): void {
    const heap = this.#heap;
    const pos = this.#pos;
    const size = this.#size;
    for (;;) {
      let c = 2 * p + 1;
      if (c >= size) break;
      let j = heap[c];
      if (c + 1 < size) {
        const k = heap[c + 1];
        if (this.#before(k, j)) {
          c++;
          j = k;
        }
      }
      if (!this.#before(j, i)) break;
      heap[p] = j;
      pos[j] = p;
      p = c;
    }
    heap[p] = i;
    pos[i] = p;
  }
}
