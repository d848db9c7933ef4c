/** Milliseconds on some fixed scale; only differences and window alignment matter. */
export type Clock = () => number;

// timeOrigin + now() never steps back when the wall clock is adjusted, unlike Date.now(), and
// still lands on the epoch scale so aligned windows line up across processes.
const origin = performance.timeOrigin;

/** The default clock: epoch milliseconds that never go backwards. */
export const systemClock: Clock = () => origin + performance.now();

/** A clock that moves only when told, so tests cover windows and refills without sleeping. */
export class ManualClock {
  #t: number;

  constructor(start = 0) {
    this.#t = start;
  }

  /** The current time; a bound arrow so it can be handed out as a {@link Clock}. */
  readonly now: Clock = () => this.#t;

  /** Moves time forward by `ms`. */
  advance(ms: number): void {
    this.#t += ms;
  }

  /** Jumps to `ms`. */
  set(ms: number): void {
    this.#t = ms;
  }
}
