import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino } from 'pino';
import type { Logger } from '../lib/logger.js';
import { LineWriter } from './line-writer.js';
import { prettyDestination } from './pretty-log.js';

/** A process logger: JSON lines on stdout, one object per line, ISO timestamps. */
export interface ProcessLogger extends Logger {
  /** Writes out anything buffered; call before exiting. */
  flush(callback?: (err?: Error) => void): void;
  /** Where finished JSON lines go, when this logger writes JSON (not the readable format). */
  jsonLines?: JsonLineSink;
}

/**
 * The destination of a JSON logger, for lines a caller formats itself exactly as the logger would
 * (the access log, written once per session): the same stream, so lines stay in order and batched.
 */
export interface JsonLineSink {
  /** Appends one finished line, ending in a newline. */
  write(line: string): void;
  /** Whether the logger writes lines of `level` now. */
  enabled(level: 'info' | 'warn'): boolean;
}

/** Gives `logger` the sink of its own JSON destination. */
function withJsonLines<T extends ProcessLogger>(logger: T & pino.Logger, destination: LineWriter): T {
  logger.jsonLines = {
    write: (line) => void destination.write(line),
    enabled: (level) => logger.isLevelEnabled(level),
  };
  return logger;
}

/** How log lines are written: `json`, `pretty`, or `auto` (pretty when stdout is a terminal). */
export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * Builds the structured logger the server writes with: JSON lines, or one readable line per entry
 * when asked to or, with `auto`, when stdout is a terminal.
 */
export function createLogger(level: string, format: LogFormat = 'auto'): ProcessLogger {
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  const options = lineOptions(level);
  if (pretty) return pino(options, prettyDestination(process.stdout)) as unknown as ProcessLogger;
  // One write(2) per line costs a new connection about as much as the rest of its bookkeeping, so
  // JSON lines are gathered into writes of up to 4 KiB of whole lines (line-writer.ts): under load
  // one write per eight or so sessions, when quiet a line waits at most 200 ms.
  const destination = new LineWriter({ fd: 1 });
  return withJsonLines(pino(options, destination) as ProcessLogger & pino.Logger, destination);
}

/** What every JSON line carries: level as a word, the pid, an ISO timestamp. */
function lineOptions(level: string) {
  return {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
}

/** A logger writing JSON lines to a file, which `reopen()` opens afresh (after logrotate moved it). */
export interface FileLogger extends ProcessLogger {
  /**
   * Opens the same path again, creating it if it was moved away; on failure keeps writing to the
   * old file and returns the error.
   */
  reopen(): Error | undefined;
}

/**
 * JSON lines appended to `path` (created with mode 0640, its directory too), batched like the
 * stdout lines. Throws when the file cannot be opened, so `run` fails at start, not at the first line.
 */
export function createFileLogger(path: string, level: string): FileLogger {
  mkdirSync(dirname(path), { recursive: true });
  // Opened here, synchronously: a bad path is a start error with the path in it.
  const destination = new LineWriter({ path, mode: 0o640 });
  const logger = pino(lineOptions(level), destination) as unknown as FileLogger & pino.Logger;
  logger.reopen = () => destination.reopen();
  return withJsonLines(logger, destination);
}
