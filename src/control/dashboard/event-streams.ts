/**
 * The dashboard's Server-Sent Events: `GET /api/stream`. Each stream gets `retry:` (so the browser
 * reconnects by itself after the balancer restarts), the full state, then the feed's ticks. Their
 * number is bounded, a viewer that stops reading is cut, and `closeAll` ends every one so nothing
 * outlives the admin server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, SwitchyardError } from '../../lib/errors.js';
import type { DashboardFeed } from './dashboard-feed.js';

/** Options of {@link EventStreams}. */
export interface EventStreamsOptions {
  /** Streams open at once. Default 32. */
  maxStreams?: number;
  /** What the browser waits before reconnecting, ms. Default 2000. */
  retryMs?: number;
  /** Bytes a viewer may leave unread before it is cut. Default 1 MiB. */
  maxBacklog?: number;
}

/** The open event streams of one admin server. */
export class EventStreams {
  readonly #feed: DashboardFeed;
  readonly #max: number;
  readonly #retryMs: number;
  readonly #maxBacklog: number;
  readonly #open = new Set<ServerResponse>();
  #closed = false;

  constructor(feed: DashboardFeed, options: EventStreamsOptions = {}) {
    this.#feed = feed;
    this.#max = options.maxStreams ?? 32;
    this.#retryMs = options.retryMs ?? 2000;
    this.#maxBacklog = options.maxBacklog ?? 1024 * 1024;
  }

  /** Streams open now. */
  get size(): number {
    return this.#open.size;
  }

  /** Answers `req` with a stream; throws `ERR_TOO_MANY_STREAMS` (503) when the bound is reached. */
  async open(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#closed || this.#open.size >= this.#max) {
      res.setHeader('Retry-After', String(Math.ceil(this.#retryMs / 1000)));
      throw new SwitchyardError(
        ErrorCodes.ERR_TOO_MANY_STREAMS,
        `at most ${this.#max} dashboard streams may be open at once`,
      );
    }
    this.#open.add(res);
    const state = await this.#feed.fullState().catch((err: unknown) => {
      this.#open.delete(res);
      throw err;
    });
    if (req.destroyed || this.#closed) {
      this.#open.delete(res);
      res.destroy();
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      // a reverse proxy in front must pass each event on at once
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: ${this.#retryMs}\n\n${state}`);
    const viewer = (chunk: string): void => {
      if (res.writableLength > this.#maxBacklog) {
        res.destroy();
        return;
      }
      res.write(chunk);
    };
    const unsubscribe = this.#feed.subscribe(viewer);
    res.once('close', () => {
      unsubscribe();
      this.#open.delete(res);
    });
  }

  /** Ends every stream and refuses new ones. */
  closeAll(): void {
    this.#closed = true;
    for (const res of this.#open) res.end();
    this.#open.clear();
    this.#feed.close();
  }
}
