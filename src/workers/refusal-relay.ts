/**
 * A worker's side of the dashboard's refusals per client: while the primary says a dashboard is
 * open, the refusals this worker's proxy sees are gathered and sent to the primary a few times a
 * second, in one message each time, bounded; otherwise nothing is subscribed and nothing runs.
 */
import type { Refusal, RefusalSource } from '../control/dashboard/refusal-source.js';
import type { FromWorker } from './messages.js';

/** How often gathered refusals go to the primary, ms. */
const FLUSH_MS = 250;
/** Most refusals in one message; a flood past it is counted, not sent. */
const MAX_PER_MESSAGE = 1000;

/** Relays one worker's refusals to the primary while watched. */
export class RefusalRelay {
  readonly #send: (message: FromWorker) => void;
  #unwatch: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #gathered: Refusal[] = [];
  #dropped = 0;

  constructor(send: (message: FromWorker) => void) {
    this.#send = send;
  }

  /** True while refusals are relayed. */
  get watching(): boolean {
    return this.#unwatch !== undefined;
  }

  /** Starts relaying the refusals of `source`; calling it again changes nothing. */
  start(source: RefusalSource): void {
    if (this.#unwatch !== undefined) return;
    this.#unwatch = source.watch(this.#record);
  }

  /** Stops relaying; what was gathered goes first, and no timer is left behind. */
  stop(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#flush();
  }

  readonly #record = (refusal: Refusal): void => {
    if (this.#gathered.length >= MAX_PER_MESSAGE) {
      this.#dropped++;
      return;
    }
    this.#gathered.push(refusal);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#flush(), FLUSH_MS);
      this.#timer.unref();
    }
  };

  #flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#gathered.length === 0 && this.#dropped === 0) return;
    this.#send({ type: 'refusals', refusals: this.#gathered, dropped: this.#dropped });
    this.#gathered = [];
    this.#dropped = 0;
  }
}
