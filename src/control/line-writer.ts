/**
 * The writer under the JSON logs (process log and access log, stdout or a file): finished lines are
 * encoded once into reusable chunks and written in batches, off the event loop, with a bound on what
 * may wait.
 *
 * Why not pino's own destination (sonic-boom): it keeps the batch as one growing string and measures
 * its byte length on every line, which copies the whole batch each time (an access line cost 7-8 µs
 * there, 5 µs here, building it included; see BENCHMARKS, step 5). It keeps lines without limit
 * while the reader of stdout is stuck; here, past `maxBufferedBytes`, lines are dropped and counted,
 * so a stalled log pipeline cannot take the balancer's memory. And its writes could exceed PIPE_BUF,
 * so processes sharing a stdout pipe could split each other's lines.
 */
import { closeSync, mkdirSync, openSync, write, writeSync, writev } from 'node:fs';
import { dirname } from 'node:path';

/** Where the lines go and how they are batched. */
export interface LineWriterOptions {
  /** An open descriptor to write to (stdout: 1). */
  fd?: number;
  /** A file to append to instead, opened now (mode `mode`) and again on {@link LineWriter.reopen}. */
  path?: string;
  /** File mode for a created file; default 0640. */
  mode?: number;
  /**
   * Each write(2) at most {@link PIPE_BUF} bytes of whole lines. Default: on for a descriptor (stdout
   * is often a pipe that the workers and the primary share, and the kernel keeps writes of up to
   * PIPE_BUF bytes whole, so no process splits another's line), off for a file (appends to a local
   * file are not interleaved, so batches can be larger).
   */
  pipeSafe?: boolean;
  /** Not pipe-safe: a batch is written once it holds this many bytes; default {@link DEFAULT_BATCH_BYTES}. */
  batchBytes?: number;
  /** A smaller batch waits at most this long; default {@link DEFAULT_FLUSH_MS}. */
  flushMs?: number;
  /** Lines beyond this many bytes waiting are dropped and counted; default {@link DEFAULT_MAX_BUFFERED_BYTES}. */
  maxBufferedBytes?: number;
}

export const DEFAULT_BATCH_BYTES = 16 * 1024;
export const DEFAULT_FLUSH_MS = 200;
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** What Linux writes to a pipe in one piece. */
export const PIPE_BUF = 4096;

// Chunks are reused, so a busy log allocates nothing per line; a line longer than a chunk gets its own.
const FILE_CHUNK_BYTES = 64 * 1024;
const SPARE_CHUNK_BYTES = 256 * 1024;
// A full pipe (stdout read by a slow consumer, non-blocking) is tried again after this long.
const EAGAIN_RETRY_MS = 50;
const EXIT_EAGAIN_TRIES = 20;

const live = new Set<LineWriter>();
let exitHooked = false;
let droppedInProcess = 0;

/** Lines every line writer of this process has dropped so far (`switchyard_log_lines_dropped_total`). */
export function droppedLogLines(): number {
  return droppedInProcess;
}

/** Batched, bounded appends of finished lines to one descriptor or file. */
export class LineWriter {
  readonly #path: string | undefined;
  readonly #mode: number;
  readonly #batchBytes: number;
  readonly #flushMs: number;
  readonly #maxBuffered: number;
  readonly #pipeSafe: boolean;
  readonly #chunkBytes: number;
  #fd: number;
  // Filled chunks waiting for their write, oldest first; `#cur` is being filled.
  #queued: Buffer[] = [];
  #queuedBytes = 0;
  #cur: Buffer;
  #curLen = 0;
  #spare: Buffer[] = [];
  // The chunks handed to the write in progress (not in `#queued`).
  #writing: Buffer[] | undefined;
  #writingBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  // Set after a write found the pipe full: nothing is written until it fires (no retry per line).
  #retry: NodeJS.Timeout | undefined;
  #flushWaiters: (() => void)[] = [];
  // A file opened again while a write to the old one was in progress: used once that write ends.
  #nextFd: number | undefined;
  #closed = false;
  #dropped = 0;

  constructor(options: LineWriterOptions) {
    if ((options.fd === undefined) === (options.path === undefined)) {
      throw new TypeError('a line writer needs exactly one of fd and path');
    }
    this.#path = options.path;
    this.#mode = options.mode ?? 0o640;
    this.#pipeSafe = options.pipeSafe ?? options.fd !== undefined;
    this.#chunkBytes = this.#pipeSafe ? PIPE_BUF : FILE_CHUNK_BYTES;
    this.#batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
    this.#flushMs = options.flushMs ?? DEFAULT_FLUSH_MS;
    this.#maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.#fd = options.fd ?? openSync(options.path!, 'a', this.#mode);
    this.#cur = Buffer.allocUnsafeSlow(this.#chunkBytes);
    live.add(this);
    if (!exitHooked) {
      exitHooked = true;
      // Whatever is still waiting when the process exits is written synchronously, as a last act.
      process.on('exit', () => {
        for (const w of live) w.flushSync();
      });
    }
  }

  /** Lines dropped so far because too much was waiting, or because their write failed. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Bytes not yet written: waiting, and in the write in progress. */
  get bufferedBytes(): number {
    return this.#waitingBytes() + this.#writingBytes;
  }

  /**
   * Appends `line` (which should end in a newline). Returns true: the caller never waits; a line
   * that does not fit under the bound is dropped and counted instead.
   */
  write(line: string): boolean {
    if (this.#closed) return true;
    // A UTF-16 unit is at most 3 bytes of UTF-8: the exact length is needed only near a limit.
    const upper = line.length * 3;
    const waiting = this.bufferedBytes;
    if (upper > this.#cur.length - this.#curLen || waiting + upper > this.#maxBuffered) {
      const bytes = Buffer.byteLength(line);
      if (waiting + bytes > this.#maxBuffered) {
        this.#drop(1);
        return true;
      }
      if (bytes > this.#cur.length - this.#curLen) {
        this.#seal();
        if (bytes > this.#cur.length) this.#cur = Buffer.allocUnsafe(bytes);
      }
    }
    this.#curLen += this.#cur.write(line, this.#curLen, 'utf8');
    if (this.#idle()) {
      if (this.#batchReady()) this.#startWrite();
      else if (this.#timer === undefined) this.#armTimer();
    }
    return true;
  }

  /** Writes out what is waiting; `callback` runs once it has been written (or failed). */
  flush(callback?: (err?: Error) => void): void {
    if (this.bufferedBytes === 0) {
      if (callback !== undefined) setImmediate(callback);
      return;
    }
    if (callback !== undefined) this.#flushWaiters.push(() => callback());
    // Someone waits for the lines now: a pause after a full pipe keeps the process alive until it ends.
    if (this.#retry !== undefined) this.#retry.ref();
    else if (this.#writing === undefined) this.#startWrite();
  }

  /**
   * Writes what is waiting now, blocking; for the process's exit. A write already in progress is
   * left to finish on its own rather than written twice.
   */
  flushSync(): void {
    if (this.#closed) return;
    this.#seal();
    const chunks = this.#queued;
    this.#queued = [];
    this.#queuedBytes = 0;
    let tries = 0;
    for (let chunk of chunks) {
      while (chunk.length > 0) {
        try {
          chunk = chunk.subarray(writeSync(this.#fd, chunk));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN' && ++tries < EXIT_EAGAIN_TRIES) {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, EAGAIN_RETRY_MS);
            continue;
          }
          return;
        }
      }
    }
  }

  /**
   * Opens the file again (after logrotate moved it); the write in progress, if any, finishes in the
   * old one, and lines still waiting go to the new one. On failure (the directory gone and not
   * creatable, no permission) the lines keep going to the old file and the error is returned.
   */
  reopen(): Error | undefined {
    if (this.#path === undefined || this.#closed) return undefined;
    let fd: number;
    try {
      mkdirSync(dirname(this.#path), { recursive: true });
      fd = openSync(this.#path, 'a', this.#mode);
    } catch (err) {
      return err as Error;
    }
    if (this.#writing !== undefined) {
      if (this.#nextFd !== undefined) closeSync(this.#nextFd);
      this.#nextFd = fd;
    } else {
      closeSync(this.#fd);
      this.#fd = fd;
    }
    return undefined;
  }

  /** Writes what is waiting, then stops (a file is closed); later lines are ignored. */
  close(callback?: () => void): void {
    this.flush(() => {
      this.#closed = true;
      live.delete(this);
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      if (this.#retry !== undefined) clearTimeout(this.#retry);
      if (this.#path !== undefined) closeSync(this.#fd);
      callback?.();
    });
  }

  // Moves the chunk being filled to the queue and takes a fresh one.
  #seal(): void {
    if (this.#curLen === 0) return;
    this.#queued.push(this.#cur.subarray(0, this.#curLen));
    this.#queuedBytes += this.#curLen;
    this.#cur = this.#spare.pop() ?? Buffer.allocUnsafeSlow(this.#chunkBytes);
    this.#curLen = 0;
  }

  // Bytes waiting for a write (not those of the write in progress).
  #waitingBytes(): number {
    return this.#queuedBytes + this.#curLen;
  }

  // Free to start a write: none in progress, and no pause after a full pipe.
  #idle(): boolean {
    return this.#writing === undefined && this.#retry === undefined;
  }

  // Enough waits for a write: a filled chunk (pipe-safe), or a batch's worth of bytes.
  #batchReady(): boolean {
    return this.#pipeSafe ? this.#queued.length > 0 : this.#waitingBytes() >= this.#batchBytes;
  }

  #armTimer(): void {
    this.#timer = setTimeout(this.#onTimer, this.#flushMs);
    this.#timer.unref();
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    if (this.#idle() && this.#waitingBytes() > 0) this.#startWrite();
  };

  #startWrite(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    // A pipe-safe writer sends the chunks it has filled first, and the one it is filling only then,
    // so that each write carries as many lines as fit.
    if (!this.#pipeSafe || this.#queued.length === 0) this.#seal();
    if (this.#queued.length === 0) {
      this.#settleWaiters();
      return;
    }
    // Pipe-safe: one chunk (whole lines, at most PIPE_BUF unless one line is longer) per write.
    const chunks = this.#pipeSafe ? this.#queued.splice(0, 1) : this.#queued;
    if (!this.#pipeSafe) this.#queued = [];
    let bytes = 0;
    for (const c of chunks) bytes += c.length;
    this.#queuedBytes -= bytes;
    this.#writing = chunks;
    this.#writingBytes = bytes;
    if (chunks.length === 1) write(this.#fd, chunks[0]!, 0, chunks[0]!.length, null, this.#afterWrite);
    else writev(this.#fd, chunks, null, this.#afterWrite);
  }

  readonly #afterWrite = (err: NodeJS.ErrnoException | null, written: number): void => {
    const chunks = this.#writing!;
    this.#writing = undefined;
    this.#writingBytes = 0;
    if (err !== null) {
      if (err.code === 'EAGAIN' && !this.#closed) {
        // The reader is behind: the same bytes go again shortly, ahead of anything newer.
        this.#requeue(chunks);
        this.#retry = setTimeout(this.#afterPause, EAGAIN_RETRY_MS);
        if (this.#flushWaiters.length === 0) this.#retry.unref();
        return;
      }
      // The destination is gone (EPIPE, a full disk): these lines are lost, and counted.
      this.#drop(countLines(chunks));
      this.#recycle(chunks);
    } else {
      const { done, rest } = splitWritten(chunks, written);
      this.#recycle(done);
      if (rest.length > 0) this.#requeue(rest);
    }
    if (this.#nextFd !== undefined) {
      closeSync(this.#fd);
      this.#fd = this.#nextFd;
      this.#nextFd = undefined;
    }
    if (this.#batchReady() || this.#flushWaiters.length > 0) this.#startWrite();
    else if (this.#waitingBytes() > 0 && this.#timer === undefined) this.#armTimer();
  };

  readonly #afterPause = (): void => {
    this.#retry = undefined;
    if (this.#writing === undefined) this.#startWrite();
  };

  #drop(lines: number): void {
    this.#dropped += lines;
    droppedInProcess += lines;
  }

  #requeue(chunks: Buffer[]): void {
    this.#queued = chunks.concat(this.#queued);
    for (const c of chunks) this.#queuedBytes += c.length;
  }

  // Full-size chunks come back for reuse; a write's subarrays share their chunk's memory.
  #recycle(chunks: Buffer[]): void {
    for (const c of chunks) {
      if (this.#spare.length * this.#chunkBytes >= SPARE_CHUNK_BYTES) return;
      if (c.buffer.byteLength === this.#chunkBytes && c.byteOffset === 0) {
        this.#spare.push(Buffer.from(c.buffer, 0, this.#chunkBytes));
      }
    }
  }

  #settleWaiters(): void {
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const w of waiters) w();
  }
}

// The chunks `written` bytes covered completely, and what is left of the others (a partial write).
function splitWritten(chunks: Buffer[], written: number): { done: Buffer[]; rest: Buffer[] } {
  let skip = written;
  const done: Buffer[] = [];
  const rest: Buffer[] = [];
  for (const c of chunks) {
    if (skip >= c.length) {
      skip -= c.length;
      done.push(c);
    } else {
      rest.push(skip > 0 ? c.subarray(skip) : c);
      skip = 0;
    }
  }
  return { done, rest };
}

function countLines(chunks: Buffer[]): number {
  let n = 0;
  for (const c of chunks) for (let i = c.indexOf(10); i !== -1; i = c.indexOf(10, i + 1)) n++;
  return n;
}
