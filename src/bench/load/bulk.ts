/**
 * The throughput generator: `streams` connections to the `bulk` upstream, each reading as fast as it
 * can. After a short warm-up (slow start, the target's first buffers) it counts the bytes received
 * until the duration is over or `maxBytes` have arrived; the caller turns that into Gbit/s.
 */
import { connect, type Socket } from 'node:net';
import type { Endpoint, LoadResult } from '../types.js';
import { checkCount, checkDuration } from './check-option.js';
import { LoadSpan } from './load-span.js';
import { reconnectLater } from './reconnect-delay.js';

/** Where {@link runBulk} reads from and for how long. */
export interface BulkOptions {
  endpoint: Endpoint;
  /** Connections reading at once. */
  streams: number;
  /** Length of the measured span, after the warm-up. */
  durationMs: number;
  /** The run ends once this many bytes have been counted. */
  maxBytes: number;
  /** Reading before the count starts; {@link DEFAULT_BULK_WARMUP_MS} when omitted. */
  warmupMs?: number;
}

/** Warm-up of a bulk run when the caller gives none. */
export const DEFAULT_BULK_WARMUP_MS = 250;

// Every stream reads into this one buffer (a read callback finishes before the next read fills it);
// a large one lets a single read take everything the kernel has queued.
const READ_BUFFER_BYTES = 1024 * 1024;

/**
 * Runs the bulk reader. Units are bytes counted in the measured span, at most `maxBytes`; a stream
 * that fails or is closed by the far side counts an error and is replaced after a short pause.
 */
export async function runBulk(options: BulkOptions): Promise<LoadResult> {
  return new BulkRun(options).run();
}

class BulkRun {
  readonly #endpoint: Endpoint;
  readonly #streams: number;
  readonly #durationMs: number;
  readonly #maxBytes: number;
  readonly #warmupMs: number;
  readonly #readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  readonly #sockets = new Set<Socket>();
  readonly #span = new LoadSpan();
  #running = false;
  #counting = false;
  #bytes = 0;
  #errors = 0;
  #timer: NodeJS.Timeout | undefined;
  #result: LoadResult | undefined;
  #resolve: ((result: LoadResult) => void) | undefined;

  constructor(options: BulkOptions) {
    this.#endpoint = options.endpoint;
    this.#streams = checkCount('streams', options.streams);
    this.#durationMs = checkDuration('durationMs', options.durationMs);
    this.#maxBytes = checkCount('maxBytes', options.maxBytes);
    this.#warmupMs = options.warmupMs ?? DEFAULT_BULK_WARMUP_MS;
    if (!Number.isFinite(this.#warmupMs) || this.#warmupMs < 0) {
      throw new RangeError(`warmupMs must be zero or a positive number, got ${this.#warmupMs}`);
    }
  }

  run(): Promise<LoadResult> {
    return new Promise((resolve) => {
      this.#resolve = resolve;
      this.#running = true;
      for (let i = 0; i < this.#streams; i++) this.#open();
      this.#timer = setTimeout(this.#startCounting, this.#warmupMs);
    });
  }

  readonly #startCounting = (): void => {
    this.#counting = true;
    this.#span.start();
    this.#timer = setTimeout(this.#finish, this.#durationMs);
  };

  #open(): void {
    if (!this.#running) return;
    const socket = connect({
      host: this.#endpoint.host,
      port: this.#endpoint.port,
      noDelay: true,
      onread: { buffer: this.#readBuffer, callback: this.#onRead },
    });
    this.#sockets.add(socket);
    // The close that follows an error does the counting.
    socket.on('error', ignore);
    socket.on('close', () => {
      this.#sockets.delete(socket);
      if (!this.#running) {
        this.#settle();
        return;
      }
      // The bulk upstream never ends a stream, so any close during the run is a failure.
      this.#errors++;
      reconnectLater(() => this.#open());
    });
  }

  readonly #onRead = (bytes: number): boolean => {
    if (!this.#counting) return true;
    this.#bytes += bytes;
    if (this.#bytes >= this.#maxBytes) this.#finish();
    return true;
  };

  readonly #finish = (): void => {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#timer);
    // Stopped by the count bound the last read may overshoot it; the bound is what the run delivered.
    const units = Math.min(this.#bytes, this.#maxBytes);
    this.#result = { units, errors: this.#errors, ...this.#span.finish(), tool: 'switchyard' };
    for (const socket of this.#sockets) socket.destroy();
    this.#settle();
  };

  #settle(): void {
    if (this.#running || this.#sockets.size > 0 || this.#result === undefined) return;
    this.#resolve?.(this.#result);
    this.#resolve = undefined;
  }
}

function ignore(): void {}
