/**
 * Idle connections for the memory-per-connection scenario: `count` connections (plain or mutual
 * TLS) to the echo upstream, each proven end to end by one echoed byte, then left open and silent
 * until the caller measures the target and lets them go.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { type ConnectionOptions, connect as connectTls } from 'node:tls';
import type { Endpoint } from '../types.js';
import { checkCount, checkDuration } from './check-option.js';
import { type ClientTlsOptions, sharedTlsOptions } from './client-tls.js';

/** What {@link holdIdle} opens and how fast. */
export interface IdleHoldOptions {
  endpoint: Endpoint;
  /** Connections to open. */
  count: number;
  /** Present: mutual TLS with these credentials; absent: plain TCP. */
  tls?: ClientTlsOptions;
  /** Connections being opened at once, so a large count does not flood the target's accept queue. */
  concurrency: number;
  /** How long one connection may take to echo before it counts as failed; {@link DEFAULT_IDLE_OPEN_TIMEOUT_MS}. */
  openTimeoutMs?: number;
}

/** The held connections. */
export interface IdleHold {
  /** Connections open and proven now (one the far side closes leaves the count). */
  readonly held: number;
  /** Connections that failed or timed out before their echo; they are not retried. */
  readonly errors: number;
  /** Destroys every connection and resolves once all have closed. */
  close(): Promise<void>;
}

/** How long one connection may take to echo when the caller gives no timeout. */
export const DEFAULT_IDLE_OPEN_TIMEOUT_MS = 10_000;

const PROBE = Buffer.from([0x2a]);
const READ_BUFFER_BYTES = 1024;

/** Opens the connections and resolves once each has echoed or failed. */
export async function holdIdle(options: IdleHoldOptions): Promise<IdleHold> {
  return new IdleConnections(options).open();
}

class IdleConnections implements IdleHold {
  held = 0;
  errors = 0;
  readonly #endpoint: Endpoint;
  readonly #count: number;
  readonly #concurrency: number;
  readonly #timeoutMs: number;
  readonly #tls: ConnectionOptions | undefined;
  readonly #readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  readonly #sockets = new Set<Socket>();
  #started = 0;
  #settled = 0;
  #closing = false;
  #opened: (() => void) | undefined;
  #closed: (() => void) | undefined;

  constructor(options: IdleHoldOptions) {
    this.#endpoint = options.endpoint;
    this.#count = checkCount('count', options.count);
    this.#concurrency = checkCount('concurrency', options.concurrency);
    this.#timeoutMs = checkDuration('openTimeoutMs', options.openTimeoutMs ?? DEFAULT_IDLE_OPEN_TIMEOUT_MS);
    this.#tls = options.tls === undefined ? undefined : sharedTlsOptions(options.tls);
  }

  open(): Promise<IdleHold> {
    return new Promise((resolve) => {
      this.#opened = () => resolve(this);
      const first = Math.min(this.#concurrency, this.#count);
      for (let i = 0; i < first; i++) this.#openNext();
    });
  }

  close(): Promise<void> {
    this.#closing = true;
    if (this.#sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#closed = resolve;
      for (const socket of this.#sockets) socket.destroy();
    });
  }

  #openNext(): void {
    if (this.#closing || this.#started >= this.#count) return;
    this.#started++;
    const { host, port } = this.#endpoint;
    let proven = false;
    let settled = false;
    const settle = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      if (ok) this.held++;
      else this.errors++;
      this.#settled++;
      if (this.#settled === this.#count) this.#opened?.();
      else this.#openNext();
    };
    const onread = {
      buffer: this.#readBuffer,
      callback: (bytes: number): boolean => {
        if (bytes > 0 && !proven) {
          proven = true;
          // From here on it only idles; a timeout would cut the very connections being measured.
          socket.setTimeout(0);
          settle(true);
        }
        return true;
      },
    };
    const socket: Socket =
      this.#tls === undefined
        ? connectTcp({ host, port, noDelay: true, onread })
        : connectTls({ ...this.#tls, host, port, onread } as ConnectionOptions);
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(this.#timeoutMs, () => socket.destroy());
    if (this.#tls === undefined) socket.write(PROBE);
    else socket.once('secureConnect', () => socket.write(PROBE));
    socket.on('error', ignore);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      if (proven) this.held--;
      else settle(false);
      if (this.#sockets.size === 0) this.#closed?.();
    });
  }
}

function ignore(): void {}
