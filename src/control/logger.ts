import { pino } from 'pino';
import type { Logger } from '../proxy/logger.js';
import { prettyDestination } from './pretty-log.js';

/** A process logger: JSON lines on stdout, one object per line, ISO timestamps. */
export interface ProcessLogger extends Logger {
  /** Writes out anything buffered; call before exiting. */
  flush(callback?: (err?: Error) => void): void;
}

/** How log lines are written: `json`, `pretty`, or `auto` (pretty when stdout is a terminal). */
export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * Builds the structured logger the server writes with: JSON lines, or one readable line per entry
 * when asked to or, with `auto`, when stdout is a terminal.
 */
export function createLogger(level: string, format: LogFormat = 'auto'): ProcessLogger {
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (pretty) return pino(options, prettyDestination(process.stdout));
  // One write(2) per line costs a new connection about as much as the rest of its bookkeeping, so
  // JSON lines are gathered into writes of up to 4 KiB and flushed at least every FLUSH_MS: under
  // load that is one syscall per ~15 sessions, when quiet a line waits at most FLUSH_MS.
  // (flushed without a callback: sonic-boom fsyncs when a flush has one, which costs milliseconds)
  const destination = pino.destination({
    dest: 1,
    sync: false,
    minLength: BUFFER_BYTES,
    periodicFlush: FLUSH_MS,
  });
  return pino(options, destination);
}

const BUFFER_BYTES = 4096;
const FLUSH_MS = 200;
