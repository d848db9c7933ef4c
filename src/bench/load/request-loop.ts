/**
 * The request generator: HTTP/1.1 GETs to the `http` upstream (directly or through a target), either
 * back to back on persistent connections (requests per second) or one TCP connection per request
 * with `Connection: close` (new connections per second). A run ends at its duration or when
 * `maxRequests` have completed, whichever comes first.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Endpoint, LoadResult } from '../types.js';
import { BoundedRun } from './bounded-run.js';
import { checkCount } from './check-option.js';
import { reconnectLater } from './reconnect-delay.js';
import { NOT_MEASURABLE, responseLength } from './response-length.js';

/** What {@link runRequests} sends, where, and for how long. */
export interface RequestLoopOptions {
  endpoint: Endpoint;
  /** Connections open at once; each carries one request at a time. */
  connections: number;
  durationMs: number;
  /** The run ends once this many requests have completed. */
  maxRequests: number;
  /** true: persistent connections; false: a new connection per request, asking the server to close. */
  keepAlive: boolean;
}

// Responses are tiny; one buffer shared by every connection of a run takes all their reads, because a
// read callback runs to completion before the next read fills it again.
const READ_BUFFER_BYTES = 16 * 1024;

/**
 * Runs the request loop. Units are completed requests (a 2xx response of the learned length); latency
 * is from sending (keep-alive) or from connecting (one connection per request) to the response's last
 * byte. Failed requests and connections are counted as errors and replaced after a short pause.
 */
export async function runRequests(options: RequestLoopOptions): Promise<LoadResult> {
  return new RequestLoop(options).run();
}

class RequestLoop extends BoundedRun {
  readonly endpoint: Endpoint;
  readonly keepAlive: boolean;
  readonly request: Buffer;
  readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** Bytes of one whole response, learned from the first one to arrive; 0 until then. */
  responseLength = 0;
  readonly #clients: RequestClient[] = [];

  constructor(options: RequestLoopOptions) {
    super(options.durationMs, options.maxRequests, 'maxRequests');
    this.endpoint = options.endpoint;
    this.keepAlive = options.keepAlive;
    const connections = checkCount('connections', options.connections);
    for (let i = 0; i < connections; i++) this.#clients.push(new RequestClient(this));
    const host = `Host: ${options.endpoint.host}:${options.endpoint.port}\r\n`;
    const connection = options.keepAlive ? '' : 'Connection: close\r\n';
    this.request = Buffer.from(`GET / HTTP/1.1\r\n${host}${connection}\r\n`, 'latin1');
  }

  protected begin(): void {
    for (const client of this.#clients) client.open();
  }

  protected destroyAll(): void {
    for (const client of this.#clients) client.destroy();
  }
}

/** One connection slot of a run: a persistent connection, or a succession of one-request ones. */
class RequestClient {
  readonly #loop: RequestLoop;
  #socket: Socket | undefined;
  /** A claimed request is on its way and not yet answered. */
  #busy = false;
  #hadError = false;
  #startedAt = 0;
  #received = 0;
  /** The first response's bytes while its head is incomplete and the run has not learned the length. */
  #head: Buffer | undefined;

  constructor(loop: RequestLoop) {
    this.#loop = loop;
  }

  readonly open = (): void => {
    const loop = this.#loop;
    if (!loop.running) return;
    // One connection per request claims before connecting: the connect is part of what it measures.
    if (!loop.keepAlive && !loop.claim()) return;
    this.#hadError = false;
    this.#startRequest();
    this.#busy = !loop.keepAlive;
    const socket = connect({
      host: loop.endpoint.host,
      port: loop.endpoint.port,
      noDelay: true,
      onread: { buffer: loop.readBuffer, callback: this.#onRead },
    });
    this.#socket = socket;
    loop.openSockets++;
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    if (loop.keepAlive) socket.on('connect', this.#sendNext);
    else socket.write(loop.request);
  };

  destroy(): void {
    this.#socket?.destroy();
  }

  #startRequest(): void {
    this.#startedAt = performance.now();
    this.#received = 0;
    this.#head = undefined;
  }

  readonly #sendNext = (): void => {
    if (!this.#loop.claim()) return;
    this.#busy = true;
    this.#startRequest();
    this.#socket?.write(this.#loop.request);
  };

  readonly #onRead = (bytes: number, buffer: Uint8Array): boolean => {
    const loop = this.#loop;
    if (!this.#busy) return this.#protocolError();
    let length = loop.responseLength;
    if (length === 0) {
      length = this.#learn(buffer, bytes);
      if (length === NOT_MEASURABLE) return this.#protocolError();
      if (length === 0) return true;
    } else {
      this.#received += bytes;
    }
    if (this.#received < length) return true;
    // More than one response's worth means the responses are not the fixed one we count in bytes.
    if (this.#received > length) return this.#protocolError();
    this.#busy = false;
    loop.completed(this.#startedAt);
    if (loop.keepAlive) this.#sendNext();
    else this.#socket?.end();
    return true;
  };

  #learn(buffer: Uint8Array, bytes: number): number {
    // The shared read buffer is overwritten by the next read, so the partial head is copied out.
    const chunk = Buffer.from(buffer.subarray(0, bytes));
    this.#head = this.#head === undefined ? chunk : Buffer.concat([this.#head, chunk]);
    this.#received = this.#head.length;
    const length = responseLength(this.#head);
    if (length > 0) {
      this.#loop.responseLength = length;
      this.#head = undefined;
    }
    return length;
  }

  #protocolError(): boolean {
    this.#hadError = true;
    this.#socket?.destroy();
    return false;
  }

  readonly #onError = (): void => {
    this.#hadError = true;
  };

  readonly #onClose = (): void => {
    const loop = this.#loop;
    loop.openSockets--;
    this.#socket = undefined;
    if (!loop.running) {
      loop.socketClosed();
      return;
    }
    if (this.#busy) loop.released();
    // A persistent connection failing between requests (its connect included) failed an attempt too.
    else if (loop.keepAlive && this.#hadError) loop.errors++;
    const answered = !this.#busy && !loop.keepAlive;
    this.#busy = false;
    // The next one-request connection follows an answered one at once; a failed connection, or a
    // persistent one the server closed, is replaced after a pause.
    if (answered) this.open();
    else reconnectLater(this.open);
  };
}
