import type { SessionEndedEvent } from '../proxy/events.js';

/** Milliseconds to three decimals: microseconds are as fine as a log line needs. */
function roundMs(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Connect attempts after the first; a session refused before connecting made none. */
function retriesOf(r: SessionEndedEvent): number {
  return r.connectAttempts > 0 ? r.connectAttempts - 1 : 0;
}

/** The access line's fields, in the order the line shows them. */
export function accessFields(r: SessionEndedEvent) {
  return {
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
    alpn: r.alpn,
    handshakeMs: roundMs(r.handshakeMs),
    connectMs: roundMs(r.connectMs),
    retries: retriesOf(r),
    durationMs: roundMs(r.durationMs),
    termination: r.termination,
  };
}

const str = JSON.stringify;

// The ISO time of the last line, reused while the millisecond has not changed: under load several
// sessions end within one, and `toISOString` is a good part of a line's cost.
let lastMs = -1;
let lastIso = '';

function isoTime(now: number): string {
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

/**
 * One access line as JSON, exactly as the process logger (pino, with Switchyard's options) writes
 * `logger[level](accessFields(r), 'session')`: level, time, pid, the fields, msg. Written by hand
 * because pino's generic serializer was 4 % of the proxy's CPU per new connection; a test holds the
 * two byte for byte.
 */
export function accessLine(r: SessionEndedEvent, level: 'info' | 'warn', pid: number, now: number): string {
  return (
    `{"level":"${level}","time":"${isoTime(now)}","pid":${pid}` +
    `,"listener":${str(r.listener)},"clientAddress":${str(r.clientAddress)},"clientPort":${num(r.clientPort)}` +
    `,"clientId":${str(r.clientId)},"org":${str(r.org)},"group":${str(r.group)},"upstream":${str(r.upstream)}` +
    `,"upstreamAddress":${str(r.upstreamAddress)},"bytesFromClient":${num(r.bytesFromClient)}` +
    `,"bytesToClient":${num(r.bytesToClient)},"tlsVersion":${str(r.tlsVersion)},"tlsCipher":${str(r.tlsCipher)}` +
    `,"serverName":${str(r.serverName)},"alpn":${str(r.alpn)},"handshakeMs":${num(roundMs(r.handshakeMs))}` +
    `,"connectMs":${num(roundMs(r.connectMs))},"retries":${retriesOf(r)},"durationMs":${num(roundMs(r.durationMs))}` +
    `,"termination":${str(r.termination)},"msg":"session"}\n`
  );
}

/** A number as JSON writes it (pino writes a number that is not finite as null). */
function num(n: number): string {
  return Number.isFinite(n) ? `${n}` : 'null';
}
