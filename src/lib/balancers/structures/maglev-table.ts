import { hashString } from '../hash.js';

// Seeds of the two hashes that give each upstream its own walk through the table. They depend on the
// upstream's id only, so every proxy instance builds the same table for the same upstreams.
const OFFSET_SEED = 0x6d61676c;
const SKIP_SEED = 0x65763031;

/** Smallest table size: prime, so every skip in 1..size-1 walks all slots. */
export const MIN_MAGLEV_SIZE = 65537;

/** Slots per upstream, at least: keeps each upstream's share within a few percent of its weight. */
export const MAGLEV_SLOTS_PER_UPSTREAM = 20;

/**
 * Table size for a group of `count` upstreams: the smallest prime at or above 65537 * 2^k that
 * leaves at least 20 slots per upstream. Sizes step by doubling so adding or removing a few
 * upstreams keeps the size, and with it every other key's slot.
 */
export function maglevSize(count: number): number {
  let base = MIN_MAGLEV_SIZE;
  while (base < count * MAGLEV_SLOTS_PER_UPSTREAM) base *= 2;
  return nextPrime(base);
}

/** The smallest prime >= n (n >= 2). */
export function nextPrime(n: number): number {
  for (let p = n; ; p++) if (isPrime(p)) return p;
}

function isPrime(n: number): boolean {
  if (n < 4) return n >= 2;
  if (n % 2 === 0) return false;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** One upstream as the table sees it. */
export interface MaglevEntry {
  /** The value stored in its slots (the upstream's index). */
  index: number;
  /** Stable name: decides its walk through the table. */
  id: string;
  /** Relative share of slots, > 0. */
  weight: number;
}

/**
 * Maglev lookup table (Eisenbud et al., NSDI 2016): `size` slots, each holding one entry's index.
 * Each entry walks the slots in its own order (offset + j * skip, derived from its id) and the
 * entries take turns claiming their next free slot, heavier ones more turns per round. Because the
 * walks depend on ids only, removing one of N entries frees its ~1/N of slots and leaves nearly
 * every other slot where it was, and every entry ends up within a slot or so of its weighted share.
 */
export class MaglevTable {
  /** Slot count, prime. */
  readonly size: number;
  /** Entry index per slot; -1 everywhere while the table has no entries. */
  readonly slots: Int32Array;

  constructor(size: number) {
    this.size = size;
    this.slots = new Int32Array(size).fill(-1);
  }

  /** Refills every slot from `entries`; with none, every slot is -1. */
  fill(entries: readonly MaglevEntry[]): void {
    const size = this.size;
    const slots = this.slots;
    slots.fill(-1);
    const n = entries.length;
    if (n === 0) return;
    const next = new Float64Array(n);
    const skip = new Float64Array(n);
    const share = new Float64Array(n);
    const credit = new Float64Array(n);
    let maxWeight = 0;
    for (const e of entries) maxWeight = Math.max(maxWeight, e.weight);
    for (let j = 0; j < n; j++) {
      const e = entries[j];
      next[j] = (hashString(e.id, OFFSET_SEED) >>> 0) % size;
      skip[j] = ((hashString(e.id, SKIP_SEED) >>> 0) % (size - 1)) + 1;
      share[j] = e.weight / maxWeight;
      // Starting every entry one turn in guarantees a slot even to a weight tiny beside the largest.
      credit[j] = 1 - share[j];
    }
    let filled = 0;
    for (;;) {
      for (let j = 0; j < n; j++) {
        credit[j] += share[j];
        while (credit[j] >= 1) {
          credit[j] -= 1;
          let p = next[j];
          while (slots[p] !== -1) {
            p += skip[j];
            if (p >= size) p -= size;
          }
          slots[p] = entries[j].index;
          p += skip[j];
          next[j] = p >= size ? p - size : p;
          if (++filled === size) return;
        }
      }
    }
  }
}
