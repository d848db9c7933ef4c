/**
 * The handshake generator: mutual-TLS connections to the TLS echo (directly or through a target),
 * each one handshake, one byte sent and echoed back (which proves the connection reached the
 * upstream), then a clean close. Full handshakes every time, or resumed ones from the session
 * ticket the previous handshake of the same slot received.
 */
import { performance } from 'node:perf_hooks';
import { type ConnectionOptions, connect, type TLSSocket } from 'node:tls';
import type { Endpoint, LoadResult } from '../types.js';
import { BoundedRun } from './bounded-run.js';
import { checkCount } from './check-option.js';
import { type ClientTlsOptions, sharedTlsOptions } from './client-tls.js';
import { reconnectLater } from './reconnect-delay.js';

/** Where {@link runHandshakes} connects, how many at once, for how long, and whether it resumes. */
export interface HandshakeOptions {
  endpoint: Endpoint;
  /** Handshakes in progress at once, one per slot. */
  concurrency: number;
  durationMs: number;
  /** The run ends once this many handshakes have completed. */
  maxHandshakes: number;
  tls: ClientTlsOptions;
  /** true: offer each slot's latest session ticket; false: a full handshake every time. */
  resume: boolean;
}

/** A handshake run's result: units are completed handshakes, `reused` how many resumed a session. */
export interface HandshakeResult extends LoadResult {
  /** Completed handshakes whose session was resumed (`isSessionReused()`); 0 for full handshakes. */
  reused: number;
}

const PROBE = Buffer.from([0x2a]);
const READ_BUFFER_BYTES = 1024;

/**
 * Runs the handshake loop. Latency is from connecting to the echoed byte. A connection that fails,
 * or closes before the echo, counts an error and its slot starts over after a short pause.
 */
export async function runHandshakes(options: HandshakeOptions): Promise<HandshakeResult> {
  const run = new HandshakeRun(options);
  const result = await run.run();
  return { ...result, reused: run.reused };
}

class HandshakeRun extends BoundedRun {
  readonly endpoint: Endpoint;
  readonly resume: boolean;
  readonly tls: ConnectionOptions;
  readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  reused = 0;
  readonly #slots: HandshakeSlot[] = [];

  constructor(options: HandshakeOptions) {
    super(options.durationMs, options.maxHandshakes, 'maxHandshakes');
    this.endpoint = options.endpoint;
    this.resume = options.resume;
    this.tls = sharedTlsOptions(options.tls);
    const concurrency = checkCount('concurrency', options.concurrency);
    for (let i = 0; i < concurrency; i++) this.#slots.push(new HandshakeSlot(this));
  }

  protected begin(): void {
    for (const slot of this.#slots) slot.start();
  }

  protected destroyAll(): void {
    for (const slot of this.#slots) slot.destroy();
  }
}

/** One concurrency slot: handshakes one after the other, keeping the latest session ticket. */
class HandshakeSlot {
  readonly #run: HandshakeRun;
  #socket: TLSSocket | undefined;
  #session: Buffer | undefined;
  #startedAt = 0;
  #echoed = false;

  constructor(run: HandshakeRun) {
    this.#run = run;
  }

  readonly start = (): void => {
    const run = this.#run;
    if (!run.claim()) return;
    this.#echoed = false;
    this.#startedAt = performance.now();
    const socket = connect({
      ...run.tls,
      host: run.endpoint.host,
      port: run.endpoint.port,
      session: run.resume ? this.#session : undefined,
      // Documented for tls.connect (the TLS socket hands it on) but missing from its typings.
      onread: { buffer: run.readBuffer, callback: this.#onRead },
    } as ConnectionOptions);
    // tls.connect takes no noDelay option; set before connecting, it applies once the socket is.
    socket.setNoDelay(true);
    this.#socket = socket;
    run.openSockets++;
    socket.on('secureConnect', this.#onSecureConnect);
    // TLS 1.3 tickets arrive after the handshake, possibly more than one; the latest one is kept.
    if (run.resume) socket.on('session', this.#onSession);
    socket.on('error', ignore);
    socket.on('close', this.#onClose);
  };

  destroy(): void {
    this.#socket?.destroy();
  }

  readonly #onSecureConnect = (): void => {
    const socket = this.#socket as TLSSocket;
    if (socket.isSessionReused()) this.#run.reused++;
    socket.write(PROBE);
  };

  readonly #onSession = (session: Buffer): void => {
    this.#session = session;
  };

  readonly #onRead = (bytes: number): boolean => {
    if (bytes > 0 && !this.#echoed) {
      this.#echoed = true;
      this.#run.completed(this.#startedAt);
      this.#socket?.end();
    }
    return true;
  };

  readonly #onClose = (): void => {
    const run = this.#run;
    run.openSockets--;
    this.#socket = undefined;
    if (!run.running) {
      run.socketClosed();
      return;
    }
    if (this.#echoed) {
      this.start();
      return;
    }
    run.released();
    reconnectLater(this.start);
  };
}

function ignore(): void {}
