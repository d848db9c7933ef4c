import { pino } from 'pino';
import type { Logger } from '../proxy/logger.js';

/** A process logger: JSON lines on stdout, one object per line, ISO timestamps. */
export interface ProcessLogger extends Logger {
  /** Writes out anything buffered; call before exiting. */
  flush(callback?: (err?: Error) => void): void;
}

/** Builds the structured JSON logger the server writes with. */
export function createLogger(level: string): ProcessLogger {
  return pino({
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
