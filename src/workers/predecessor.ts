/**
 * A successor's side of an upgrade: the primary that started it, which hands over its listening
 * sockets and, last, its admin API's socket. See `successor.ts` for the other side.
 */
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { Transport } from '../proxy/socket-source.js';
import type { FromSuccessor, ToSuccessor } from './messages.js';

/** The running balancer this process takes over from. */
export class Predecessor {
  readonly #pending = new Map<number, (handle: object | undefined) => void>();
  #admin: ((handle: object | undefined) => void) | undefined;
  #adminHandle: { handle: object | undefined } | undefined;
  #nextId = 1;

  private constructor() {
    process.on('message', (m: ToSuccessor, handle: unknown) => {
      const h = typeof handle === 'object' && handle !== null ? handle : undefined;
      if (m.type === 'takeover-socket-reply') {
        const resolve = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        resolve?.(m.found ? h : undefined);
      } else if (m.type === 'takeover-admin') {
        this.#adminHandle = { handle: m.found ? h : undefined };
        this.#admin?.(this.#adminHandle.handle);
      }
    });
    // Its channel is the predecessor's business: it must not keep this process alive, nor end it.
    process.channel?.unref();
    process.on('error', () => {});
  }

  /** The balancer that started this process (`run --takeover`); throws when none did. */
  static connect(): Predecessor {
    if (process.send === undefined || !process.connected) {
      throw new SwitchyardError(
        ErrorCodes.ERR_INVALID_ARGUMENT,
        '--takeover: this process was not started by a running balancer (use POST /api/upgrade on it)',
      );
    }
    return new Predecessor();
  }

  /** The predecessor's socket for this listener and address, or undefined when it has none. */
  socket(listener: string, host: string, port: number, transport: Transport): Promise<object | undefined> {
    if (!process.connected) return Promise.resolve(undefined);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#send({ type: 'takeover-socket', id, listener, host, port, transport });
    });
  }

  /** Says this process serves; the predecessor answers with its admin socket (undefined: none). */
  ready(): Promise<object | undefined> {
    if (!process.connected) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      if (this.#adminHandle !== undefined) resolve(this.#adminHandle.handle);
      else this.#admin = resolve;
      this.#send({ type: 'takeover-ready', pid: process.pid });
    });
  }

  /** Says the admin API listens here now; the predecessor stops accepting and drains. */
  adminListening(): void {
    // The channel closes once the message is written: the two processes have nothing more to say.
    this.#send({ type: 'takeover-admin-listening' }, () => {
      if (process.connected) process.disconnect();
    });
  }

  #send(message: FromSuccessor, sent?: () => void): void {
    if (process.connected) process.send?.(message, undefined, undefined, () => sent?.());
  }
}
