/**
 * A worker's per-client gates: each decision is the primary's (shared-limits.ts), so the limits
 * hold across every worker. One message there and one back per connection: with both limits on,
 * the rate gate's question also reserves the concurrency slot, which the concurrency gate (asked
 * right after, see admission.ts) then hands out without asking again.
 */
import type { SwitchyardConfig } from '../config/types.js';
import type { ConcurrencyGate, RateGate } from '../proxy/runtime.js';
import type { AdmissionControls } from '../runtime/build-admission.js';
import type { FromWorker, LimitReply, LimitRequest } from './messages.js';

/** Gates that ask the primary. */
export class LimitsFromPrimary {
  readonly #send: (message: FromWorker) => void;
  readonly #pending = new Map<number, { resolve(value: number | boolean): void; reject(err: Error): void }>();
  #nextId = 1;

  constructor(send: (message: FromWorker) => void) {
    this.#send = send;
  }

  /** The gates of `config`, for the runtime builder's `admission` option. */
  readonly admission = (config: SwitchyardConfig): AdmissionControls => {
    const rateLimit: RateGate | undefined =
      config.rateLimit === undefined
        ? undefined
        : { take: (key) => this.#ask('take', key) as Promise<number> };
    const concurrency: ConcurrencyGate | undefined =
      config.concurrency.perClient > 0
        ? {
            tryAcquire: (key) => this.#ask('acquire', key) as Promise<boolean>,
            release: (key) => this.#queue({ op: 'release', key }),
          }
        : undefined;
    return { rateLimit, concurrency, stoppables: [] };
  };

  /** Settles the requests the replies answer. */
  settle(replies: readonly LimitReply[]): void {
    for (const reply of replies) {
      const p = this.#pending.get(reply.id);
      if (p === undefined) continue;
      this.#pending.delete(reply.id);
      p.resolve(reply.value);
    }
  }

  /** The primary is gone: every open question fails (and admission lets those connections in). */
  failAll(): void {
    for (const p of this.#pending.values()) p.reject(new Error('the primary is gone'));
    this.#pending.clear();
  }

  #ask(op: 'take' | 'acquire' | 'admit', key: string): Promise<number | boolean> {
    if (!process.connected) return Promise.reject(new Error('the primary is gone'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#queue({ id, op, key });
    });
  }

  // What this turn of the event loop asked, sent together once its callbacks have run.
  #outgoing: LimitRequest[] = [];

  #queue(request: LimitRequest): void {
    if (this.#outgoing.length === 0) setImmediate(this.#flush);
    this.#outgoing.push(request);
  }

  readonly #flush = (): void => {
    const requests = this.#outgoing;
    this.#outgoing = [];
    this.#send({ type: 'limits', requests });
  };
}
