import { randomInt } from 'node:crypto';

const EMPTY = 0;
// The table is kept at most half full: linear probes then stay short even for unlucky keys, and
// an entry is two int32s, so the slack costs 8 bytes per key.
const MAX_LOAD = 0.5;

/**
 * Maps string keys to small integer slots with open addressing over one Int32Array of
 * `[hash, slot + 1]` pairs. A Map lookup at a million keys walks a bucket, an entry and then the
 * value; here the probe reads one pair that usually sits in one cache line, and the key string is
 * compared only when the full 32-bit hash matches. The hash is seeded per index, so an outsider
 * who picks keys cannot aim them at one probe chain.
 */
export class KeyIndex {
  readonly #seed: number;
  #table: Int32Array;
  #mask: number;
  #count = 0;
  // by slot: the key and its hash, so removal and growth never hash a key twice
  #keys: (string | undefined)[];
  #hashes: Int32Array;

  constructor(slotCapacity: number) {
    this.#seed = randomInt(0x7fffffff);
    const size = tableSizeFor(slotCapacity);
    this.#table = new Int32Array(size * 2);
    this.#mask = size - 1;
    this.#keys = new Array(slotCapacity);
    this.#hashes = new Int32Array(slotCapacity);
  }

  /** Keys held. */
  get size(): number {
    return this.#count;
  }

  /** The slot of `key`, or -1 when it is not held. */
  find(key: string): number {
    const h = hashString(key, this.#seed);
    const table = this.#table;
    const mask = this.#mask;
    let i = h & mask;
    for (;;) {
      const entry = table[2 * i + 1];
      if (entry === EMPTY) return -1;
      if (table[2 * i] === h && this.#keys[entry - 1] === key) return entry - 1;
      i = (i + 1) & mask;
    }
  }

  /** The key held at `slot`, if any. */
  keyAt(slot: number): string | undefined {
    return this.#keys[slot];
  }

  /** Files `key` (not yet held) at `slot` (free, below the slot capacity). */
  insert(key: string, slot: number): void {
    if (this.#count + 1 > (this.#mask + 1) * MAX_LOAD) this.#rehash((this.#mask + 1) * 2);
    const h = hashString(key, this.#seed);
    this.#keys[slot] = key;
    this.#hashes[slot] = h;
    this.#place(h, slot);
    this.#count++;
  }

  /** Forgets the key at `slot`. */
  remove(slot: number): void {
    const table = this.#table;
    const mask = this.#mask;
    let i = this.#hashes[slot] & mask;
    while (table[2 * i + 1] !== slot + 1) i = (i + 1) & mask;
    // backward-shift deletion: later entries of the probe run move into the hole when their home
    // position allows, so lookups never need tombstones
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const entry = table[2 * j + 1];
      if (entry === EMPTY) break;
      const home = table[2 * j] & mask;
      // the entry at j may fill the hole unless its home lies cyclically in (hole, j]
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (between) continue;
      table[2 * hole] = table[2 * j];
      table[2 * hole + 1] = entry;
      hole = j;
    }
    table[2 * hole] = 0;
    table[2 * hole + 1] = EMPTY;
    this.#keys[slot] = undefined;
    this.#count--;
  }

  /** Makes room for slots below `slotCapacity`. */
  growSlots(slotCapacity: number): void {
    const old = this.#keys;
    // copied into an array of the final length, so its backing store holds no push-growth slack
    const keys: (string | undefined)[] = new Array(slotCapacity);
    for (let i = 0; i < old.length; i++) keys[i] = old[i];
    this.#keys = keys;
    const hashes = new Int32Array(slotCapacity);
    hashes.set(this.#hashes);
    this.#hashes = hashes;
  }

  #place(h: number, slot: number): void {
    const table = this.#table;
    const mask = this.#mask;
    let i = h & mask;
    while (table[2 * i + 1] !== EMPTY) i = (i + 1) & mask;
    table[2 * i] = h;
    table[2 * i + 1] = slot + 1;
  }

  #rehash(size: number): void {
    const old = this.#table;
    this.#table = new Int32Array(size * 2);
    this.#mask = size - 1;
    for (let i = 1; i < old.length; i += 2) {
      const entry = old[i];
      if (entry !== EMPTY) this.#place(old[i - 1], entry - 1);
    }
  }
}

function tableSizeFor(keys: number): number {
  let size = 16;
  while (size * MAX_LOAD < keys) size *= 2;
  return size;
}

/** FNV-1a over UTF-16 code units from a seeded start, then a murmur-style finish to spread low bits. */
export function hashString(key: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) | 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}
