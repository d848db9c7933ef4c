import { ErrorCodes } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { ProxyEvents, SessionEndedEvent } from '../proxy/events.js';
import { accessFields, accessLine } from './access-line.js';
import { createFileLogger, type ProcessLogger } from './logger.js';

/** The one channel the access log listens to; a proxy's `events` is one. */
export type SessionEndedSource = Pick<ProxyEvents, 'sessionEnded'>;

/**
 * One line per session at its end, refused or not: the line operators grep for. Normal ends log at
 * info, refusals and bad endings at warn with their reason code. The fields are those HAProxy's and
 * Envoy's TCP logs carry: who (address, id, org), where (group, upstream id and address), how (TLS
 * version, cipher, SNI), how long (handshake, connect, whole session) and how many connect attempts.
 * A JSON process logger gets the line formatted here ({@link accessLine}), any other logger the
 * fields. The returned function is a `sessionEnded` subscriber.
 */
export function accessLogObserver(logger: Logger | ProcessLogger): (record: SessionEndedEvent) => void {
  const sink = 'jsonLines' in logger ? logger.jsonLines : undefined;
  if (sink !== undefined) {
    const pid = process.pid;
    return (r) => {
      const level = accessLevel(r);
      if (sink.enabled(level)) sink.write(accessLine(r, level, pid, Date.now()));
    };
  }
  return (r) => {
    if (accessLevel(r) === 'info') logger.info(accessFields(r), 'session');
    else logger.warn(accessFields(r), 'session');
  };
}

/**
 * A session's line is info when it ended as sessions of its kind normally end: `OK`, or, for a UDP
 * flow (which has no close), its idle timeout; anything else is warn.
 */
export function accessLevel(r: SessionEndedEvent): 'info' | 'warn' {
  if (r.termination === 'OK') return 'info';
  return r.packetsFromClient !== undefined && r.termination === ErrorCodes.ERR_IDLE_TIMEOUT ? 'info' : 'warn';
}

/** Writes a line to `logger` for every session of `events` that ends from now on; returns the unsubscribe. */
export function subscribeAccessLog(events: SessionEndedSource, logger: Logger): () => void {
  const line = accessLogObserver(logger);
  events.sessionEnded.subscribe(line);
  return () => {
    events.sessionEnded.unsubscribe(line);
  };
}

/** Where the access lines go, as `log.accessLog` chose. */
export interface AccessLog {
  /** Starts writing the sessions of `events` (a proxy's); nothing when the access log is off. */
  attach(events: SessionEndedSource): void;
  /**
   * Opens the file again (SIGUSR1 after logrotate moved it); nothing for stdout or off. On failure
   * the lines keep going to the old file and the error is returned.
   */
  reopen(): Error | undefined;
  /** Writes out what is buffered; for a file, before exiting. */
  flush(callback: () => void): void;
}

/**
 * The access log `log.accessLog` names: `stdout` writes through the process logger, `off` writes
 * nothing, anything else is a file path (made absolute by the loader) with its own batched writer.
 */
export function openAccessLog(target: string, level: string, processLogger: ProcessLogger): AccessLog {
  if (target === 'off') return { attach() {}, reopen: () => undefined, flush: (cb) => cb() };
  if (target === 'stdout') {
    return {
      attach: (events) => void subscribeAccessLog(events, processLogger),
      reopen: () => undefined,
      flush: (cb) => cb(),
    };
  }
  const file = createFileLogger(target, level);
  return {
    attach: (events) => void subscribeAccessLog(events, file),
    reopen: () => file.reopen(),
    flush: (cb) => file.flush(() => cb()),
  };
}
