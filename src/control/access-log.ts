import type { Logger } from '../lib/logger.js';
import type { ProxyEvents, SessionEndedEvent } from '../proxy/events.js';
import { createFileLogger, type ProcessLogger } from './logger.js';

/** The one channel the access log listens to; a proxy's `events` is one. */
export type SessionEndedSource = Pick<ProxyEvents, 'sessionEnded'>;

/** Milliseconds to three decimals: microseconds are as fine as a log line needs. */
function ms(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * One line per session at its end, refused or not: the line operators grep for. Normal ends log at
 * info, refusals and bad endings at warn with their reason code. The fields are those HAProxy's and
 * Envoy's TCP logs carry: who (address, id, org), where (group, upstream id and address), how (TLS
 * version, cipher, SNI), how long (handshake, connect, whole session) and how many connect attempts.
 * The returned function is a `sessionEnded` subscriber.
 */
export function accessLogObserver(logger: Logger): (record: SessionEndedEvent) => void {
  return (r) => {
    const fields = {
      listener: r.listener,
      clientAddress: r.clientAddress,
      clientPort: r.clientPort,
      clientId: r.clientId,
      org: r.org,
      group: r.group,
      upstream: r.upstream,
      upstreamAddress: r.upstreamAddress,
      bytesFromClient: r.bytesFromClient,
      bytesToClient: r.bytesToClient,
      tlsVersion: r.tlsVersion,
      tlsCipher: r.tlsCipher,
      serverName: r.serverName,
      handshakeMs: ms(r.handshakeMs),
      connectMs: ms(r.connectMs),
      retries: r.connectAttempts > 0 ? r.connectAttempts - 1 : 0,
      durationMs: ms(r.durationMs),
      termination: r.termination,
    };
    if (r.termination === 'OK') logger.info(fields, 'session');
    else logger.warn(fields, 'session');
  };
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
  /** Opens the file again (SIGUSR1 after logrotate moved it); nothing for stdout or off. */
  reopen(): void;
  /** Writes out what is buffered; for a file, before exiting. */
  flush(callback: () => void): void;
}

/**
 * The access log `log.accessLog` names: `stdout` writes through the process logger, `off` writes
 * nothing, anything else is a file path (made absolute by the loader) with its own batched writer.
 */
export function openAccessLog(target: string, level: string, processLogger: ProcessLogger): AccessLog {
  if (target === 'off') return { attach() {}, reopen() {}, flush: (cb) => cb() };
  if (target === 'stdout') {
    return {
      attach: (events) => void subscribeAccessLog(events, processLogger),
      reopen() {},
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
