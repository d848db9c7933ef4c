/**
 * The primary's side of the dashboard's refusals per client with workers: the refusals happen in
 * the workers' proxies, so while the dashboard watches, every worker is told to relay them (see
 * refusal-relay.ts) and what they send is handed to the dashboard as one process's events would be.
 */
import type { Refusal, RefusalSource } from '../control/dashboard/refusal-source.js';

/** Refusals relayed by the workers, watched like one process's. */
export class RefusalsFromWorkers implements RefusalSource {
  readonly #tell: (on: boolean) => void;
  readonly #watchers = new Set<(refusal: Refusal) => void>();
  #dropped = 0;

  /** `tell` turns the workers' relaying on or off. */
  constructor(tell: (on: boolean) => void) {
    this.#tell = tell;
  }

  /** True while someone watches: a worker that starts now is told to relay too. */
  get watching(): boolean {
    return this.#watchers.size > 0;
  }

  /** Refusals the workers could not send (past the bound of one message), since start. */
  get dropped(): number {
    return this.#dropped;
  }

  watch(record: (refusal: Refusal) => void): () => void {
    const fn = (refusal: Refusal): void => record(refusal);
    this.#watchers.add(fn);
    if (this.#watchers.size === 1) this.#tell(true);
    return () => {
      if (this.#watchers.delete(fn) && this.#watchers.size === 0) this.#tell(false);
    };
  }

  /** What one worker sent. */
  deliver(refusals: readonly Refusal[], dropped: number): void {
    this.#dropped += dropped;
    for (const refusal of refusals) for (const watcher of this.#watchers) watcher(refusal);
  }
}
