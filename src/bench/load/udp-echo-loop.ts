/**
 * The UDP load: `clients` sockets against a UDP echo (directly or through a target), each sending one
 * datagram and the next when the reply arrives (a closed loop, so the path's speed sets the pace and
 * nothing queues). A datagram unanswered for `resendMs` was lost: it counts as an error and is sent
 * again, so a client never stalls. A run ends at its duration or when `maxExchanges` replies have
 * come, whichever is first, and resolves once every socket is closed.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Endpoint, LoadResult } from '../types.js';
import { BoundedRun } from './bounded-run.js';
import { checkCount, checkDuration } from './check-option.js';

/** Datagrams through the path per completed exchange: the request and its reply. */
export const DATAGRAMS_PER_EXCHANGE = 2;

/** What {@link runUdpEchoLoop} sends, where, and for how long. */
export interface UdpEchoLoopOptions {
  endpoint: Endpoint;
  /** Client sockets, each with one datagram in flight at a time (each is one flow to a proxy). */
  clients: number;
  /** Bytes of every request datagram. */
  payloadBytes: number;
  durationMs: number;
  /** The run ends once this many replies have come. */
  maxExchanges: number;
  /** A datagram unanswered this long is counted lost and sent again; 200 ms by default. */
  resendMs?: number;
}

const DEFAULT_RESEND_MS = 200;

/**
 * Runs the loop. Units are exchanges (a request answered by its reply; {@link DATAGRAMS_PER_EXCHANGE}
 * datagrams through a proxy); latency is from sending to the reply; errors are datagrams resent.
 */
export function runUdpEchoLoop(options: UdpEchoLoopOptions): Promise<LoadResult> {
  return new UdpEchoLoop(options).run();
}

class UdpEchoLoop extends BoundedRun {
  readonly endpoint: Endpoint;
  readonly payload: Buffer;
  readonly resendMs: number;
  readonly #clients: UdpEchoClient[] = [];
  #resendTimer: NodeJS.Timeout | undefined;

  constructor(options: UdpEchoLoopOptions) {
    super(options.durationMs, options.maxExchanges, 'maxExchanges');
    this.endpoint = options.endpoint;
    this.payload = Buffer.alloc(checkCount('payloadBytes', options.payloadBytes), 0x61);
    this.resendMs = checkDuration('resendMs', options.resendMs ?? DEFAULT_RESEND_MS);
    const clients = checkCount('clients', options.clients);
    for (let i = 0; i < clients; i++) this.#clients.push(new UdpEchoClient(this));
  }

  protected begin(): void {
    for (const client of this.#clients) client.open();
    // One timer for the whole run, not one per datagram: the loop must not cost more than the path.
    this.#resendTimer = setInterval(() => {
      const now = performance.now();
      for (const client of this.#clients) client.resendIfLost(now);
    }, this.resendMs / 2);
  }

  protected destroyAll(): void {
    clearInterval(this.#resendTimer);
    for (const client of this.#clients) client.close();
  }
}

/** One client socket of a run, connected to the endpoint so the kernel drops datagrams from anyone else. */
class UdpEchoClient {
  readonly #loop: UdpEchoLoop;
  #socket: Socket | undefined;
  /** A claimed exchange is on its way and not yet answered. */
  #busy = false;
  #startedAt = 0;
  #sentAt = 0;

  constructor(loop: UdpEchoLoop) {
    this.#loop = loop;
  }

  open(): void {
    const loop = this.#loop;
    const { host, port } = loop.endpoint;
    const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    this.#socket = socket;
    loop.openSockets++;
    socket.on('message', () => this.#onReply());
    // ECONNREFUSED (nothing listens) and the like: the datagram is lost, which the resend timer counts.
    socket.on('error', () => {});
    socket.once('close', () => {
      loop.openSockets--;
      loop.socketClosed();
    });
    socket.connect(port, host, () => this.#sendNext());
  }

  close(): void {
    try {
      this.#socket?.close();
    } catch {
      // already closed
    }
  }

  /** Counts the datagram in flight as lost and sends it again once it has waited `resendMs`. */
  resendIfLost(now: number): void {
    if (!this.#busy || now - this.#sentAt < this.#loop.resendMs) return;
    this.#sentAt = now;
    this.#loop.errors++;
    this.#send();
  }

  #onReply(): void {
    // A late reply to a datagram already sent again: its exchange is over.
    if (!this.#busy) return;
    this.#busy = false;
    this.#loop.completed(this.#startedAt);
    this.#sendNext();
  }

  #sendNext(): void {
    if (!this.#loop.claim()) return;
    this.#busy = true;
    this.#startedAt = performance.now();
    this.#sentAt = this.#startedAt;
    this.#send();
  }

  #send(): void {
    // The run may have ended and closed the socket while the reply was on its way.
    if (!this.#loop.running) return;
    this.#socket?.send(this.#loop.payload);
  }
}
