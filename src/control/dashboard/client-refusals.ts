/**
 * Refusals per client (from a refusal source: see refusal-source.ts), for the dashboard's client
 * table and search. Bounded: at most `maxClients` clients are remembered (the one not refused for
 * longest goes first) and at most `recentPerClient` refusals of each.
 */
import type { Refusal } from './refusal-source.js';

/** One refusal of one client. */
export interface ClientRefusal {
  /** ms since the epoch. */
  at: number;
  code: string;
  listener: string;
}

/** What is remembered of one refused client. */
export interface RefusedClient {
  id: string;
  org: string;
  /** Refusals counted since the dashboard started watching. */
  count: number;
  /** The latest refusals, newest last. */
  recent: ClientRefusal[];
}

/** Options of {@link ClientRefusals}. */
export interface ClientRefusalsOptions {
  /** Clients remembered. Default 1000. */
  maxClients?: number;
  /** Refusals kept per client. Default 10. */
  recentPerClient?: number;
  /** Wall clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** Counts refusals by client id (certificate CN; the source address when there is none). */
export class ClientRefusals {
  readonly #clients = new Map<string, RefusedClient>();
  readonly #max: number;
  readonly #recent: number;
  readonly #now: () => number;

  constructor(options: ClientRefusalsOptions = {}) {
    this.#max = options.maxClients ?? 1000;
    this.#recent = options.recentPerClient ?? 10;
    this.#now = options.now ?? Date.now;
  }

  /** Clients remembered now. */
  get size(): number {
    return this.#clients.size;
  }

  /** Counts one refusal. */
  readonly record = (r: Refusal): void => {
    this.#count(r.id, r.org, r.code, r.listener);
  };

  /** What is remembered of `id`, or undefined. */
  get(id: string): RefusedClient | undefined {
    return this.#clients.get(id);
  }

  /** Every client remembered, in no particular order. */
  all(): IterableIterator<RefusedClient> {
    return this.#clients.values();
  }

  #count(id: string, org: string, code: string, listener: string): void {
    let c = this.#clients.get(id);
    if (c === undefined) {
      if (this.#clients.size >= this.#max) {
        // A Map iterates in insertion order, and a refused client is moved to the end below.
        const oldest = this.#clients.keys().next().value;
        if (oldest !== undefined) this.#clients.delete(oldest);
      }
      c = { id, org, count: 0, recent: [] };
    } else {
      this.#clients.delete(id);
    }
    this.#clients.set(id, c);
    if (c.org === '') c.org = org;
    c.count++;
    c.recent.push({ at: this.#now(), code, listener });
    if (c.recent.length > this.#recent) c.recent.shift();
  }
}
