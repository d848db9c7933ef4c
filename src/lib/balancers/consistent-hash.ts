import { ErrorCodes, SwitchyardError } from '../errors.js';
import type { Upstream } from '../upstreams/upstream.js';
import type { Balancer } from './balancer.js';
import { hashString } from './hash.js';
import { type MaglevEntry, MaglevTable, maglevSize } from './structures/maglev-table.js';

// Independent of the seeds the table uses to place upstreams.
const KEY_SEED = 0x6b657930;

/** Options of {@link ConsistentHashBalancer}. */
export interface ConsistentHashOptions {
  /**
   * Bounded load factor c: an upstream already holding c times the average share of connections is
   * passed over for the next slot's. 0 (the default) disables it; otherwise it must be >= 1.
   */
  boundedLoad?: number;
}

/**
 * Sends the same key (client id, source address) to the same upstream, through a Maglev lookup table
 * built over the upstreams in rotation (up, healthy, not ejected), weighted. When one of N goes away only
 * its ~1/N of keys move. With bounded load c, an upstream whose active count is at or above
 * ceil(c * (open active + 1) / open upstreams) is skipped for the next table slot's upstream, and so
 * is one at maxConnections: affinity gives way before any upstream is overloaded. "Open" means in
 * rotation and under its cap, which guarantees (for c >= 1) that some upstream is under the bound.
 * The table is rebuilt on reset and when an upstream's state, health or weight changes, not when it
 * merely fills up, so a full upstream gets its keys back once it has room. A pick without a key walks
 * the table, spreading keyless connections by weight.
 */
export class ConsistentHashBalancer implements Balancer {
  readonly name = 'consistent-hash';
  readonly #boundedLoad: number;
  #list: Upstream[] = [];
  #table = new MaglevTable(2);
  /** 1 for upstreams in the table: in rotation (up, healthy, not ejected). */
  #member = new Uint8Array(0);
  /** Weights the table was built with. */
  #weight = new Float64Array(0);
  /** 1 for members under their cap: the ones a pick may take. */
  #open = new Uint8Array(0);
  /** Active count of each open upstream as added into `#openActive`. */
  #active = new Float64Array(0);
  #openCount = 0;
  #openActive = 0;
  #cursor = 0;

  constructor(options: ConsistentHashOptions = {}) {
    const c = options.boundedLoad ?? 0;
    if (!Number.isFinite(c) || (c !== 0 && c < 1)) {
      throw new SwitchyardError(
        ErrorCodes.ERR_INVALID_ARGUMENT,
        `boundedLoad must be 0 (off) or a number >= 1, got ${c}`,
      );
    }
    this.#boundedLoad = c;
  }

  reset(upstreams: readonly Upstream[]): void {
    this.#list = upstreams.slice();
    const n = this.#list.length;
    const size = maglevSize(n);
    if (this.#table.size !== size) {
      this.#table = new MaglevTable(size);
      this.#cursor = 0;
    }
    this.#member = new Uint8Array(n);
    this.#weight = new Float64Array(n);
    this.#rebuild();
  }

  update(upstream: Upstream): void {
    const i = upstream.index;
    if (this.#list[i] !== upstream) return;
    const member = upstream.inRotation() ? 1 : 0;
    if (member !== this.#member[i] || (member === 1 && this.#weight[i] !== upstream.weight)) this.#rebuild();
    else this.#sync(i, upstream);
  }

  pick(key?: string): Upstream | undefined {
    const k = this.#openCount;
    if (k === 0) return undefined;
    const table = this.#table.slots;
    const size = this.#table.size;
    const open = this.#open;
    const active = this.#active;
    // active < ceil(c * (A + 1) / k)  <=>  active * k < c * (A + 1), for whole active counts.
    // 0 when unbounded; not Infinity, which would make V8 box the product on every pick.
    const limit = this.#boundedLoad * (this.#openActive + 1);
    let slot: number;
    if (key === undefined) {
      slot = this.#cursor;
      this.#cursor = slot + 1 === size ? 0 : slot + 1;
    } else slot = (hashString(key, KEY_SEED) >>> 0) % size;
    for (let probes = 0; probes < size; probes++) {
      const i = table[slot];
      if (open[i] === 1 && (limit === 0 || active[i] * k < limit)) return this.#list[i];
      slot = slot + 1 === size ? 0 : slot + 1;
    }
    return undefined;
  }

  acquired(upstream: Upstream): void {
    if (this.#list[upstream.index] === upstream) this.#sync(upstream.index, upstream);
  }

  released(upstream: Upstream): void {
    if (this.#list[upstream.index] === upstream) this.#sync(upstream.index, upstream);
  }

  // Keeps the open set and its active total in step with the upstream's live counters.
  #sync(i: number, u: Upstream): void {
    if (this.#open[i] === 1) {
      this.#openCount--;
      this.#openActive -= this.#active[i];
    }
    const open =
      this.#member[i] === 1 && !u.excluded && (u.maxConnections === 0 || u.active < u.maxConnections);
    this.#open[i] = open ? 1 : 0;
    if (open) {
      this.#openCount++;
      this.#openActive += u.active;
      this.#active[i] = u.active;
    }
  }

  #rebuild(): void {
    const list = this.#list;
    const n = list.length;
    const entries: MaglevEntry[] = [];
    for (let i = 0; i < n; i++) {
      const u = list[i];
      const member = u.inRotation();
      this.#member[i] = member ? 1 : 0;
      this.#weight[i] = u.weight;
      if (member) entries.push({ index: i, id: u.id, weight: u.weight });
    }
    this.#table.fill(entries);
    this.#open = new Uint8Array(n);
    this.#active = new Float64Array(n);
    this.#openCount = 0;
    this.#openActive = 0;
    for (let i = 0; i < n; i++) this.#sync(i, list[i]);
  }
}
