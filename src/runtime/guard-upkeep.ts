import type { Stoppable } from './build-admission.js';
import type { BuiltRuntime } from './build-runtime.js';

/** The upkeep timers of the listeners' per-source guards, by listener name. */
export class GuardUpkeep {
  readonly #running: Map<string, Stoppable>;

  constructor(initial: ReadonlyMap<string, Stoppable>) {
    this.#running = new Map(initial);
  }

  /** Stops the guard upkeep of the listener's old settings and starts that of its new ones. */
  replace(name: string, built: BuiltRuntime): void {
    this.drop(name);
    this.take(name, built);
  }

  /** Starts the upkeep `built` has for listener `name`, if any. */
  take(name: string, built: BuiltRuntime): void {
    const guard = built.guardUpkeep.get(name);
    if (guard === undefined) return;
    guard.start();
    this.#running.set(name, guard);
  }

  /** Stops the upkeep of listener `name`. */
  drop(name: string): void {
    this.#running.get(name)?.stop();
    this.#running.delete(name);
  }

  /** Stops every upkeep. */
  stop(): void {
    for (const g of this.#running.values()) g.stop();
    this.#running.clear();
  }
}
