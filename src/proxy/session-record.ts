import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ErrorCode } from '../lib/errors.js';
import type { Upstream } from '../lib/upstreams/upstream.js';
import type { UpstreamGroup } from '../lib/upstreams/upstream-group.js';
import { clientBytesRead } from './proxy-header-intake.js';
import type { ListenerRuntime } from './runtime.js';
import type { SessionHost } from './session.js';
import type { SessionPhase, SessionSnapshot } from './snapshot.js';

/** What a session tells of itself, alive (its snapshot) and ended (its record). */
export interface SessionFacts {
  readonly host: SessionHost;
  readonly listener: ListenerRuntime;
  readonly client: Socket;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly clientId: string;
  readonly org: string;
  readonly group: UpstreamGroup | null;
  readonly upstream: Upstream | null;
  readonly phase: SessionPhase;
  /** performance.now() when the session started. */
  readonly startedAt: number;
  readonly handshakeMs: number;
  readonly connectMs: number;
  readonly attempt: number;
  readonly tlsVersion: string;
  readonly tlsCipher: string;
  readonly serverName: string;
  readonly alpn: string;
  readonly termination: ErrorCode | 'OK';
}

/** A live session as plain data; built on request, never on the hot path. */
export function sessionSnapshot(s: SessionFacts): SessionSnapshot {
  const client = s.client;
  return {
    listener: s.listener.name,
    clientAddress: s.clientAddress,
    clientPort: s.clientPort,
    clientId: s.clientId,
    org: s.org,
    group: s.group?.name ?? '',
    upstream: s.upstream?.id ?? '',
    phase: s.phase,
    bytesFromClient: clientBytesRead(client),
    bytesToClient: client.bytesWritten,
    ageMs: performance.now() - s.startedAt,
  };
}

/** Publishes the ended session's one record (the access log's line), when anyone listens. */
export function publishSessionEnded(s: SessionFacts): void {
  const ended = s.host.events.sessionEnded;
  if (!ended.hasSubscribers) return;
  const client = s.client;
  const upstream = s.upstream;
  ended.publish({
    listener: s.listener.name,
    clientAddress: s.clientAddress,
    clientPort: s.clientPort,
    clientId: s.clientId,
    org: s.org,
    group: s.group?.name ?? '',
    upstream: upstream?.id ?? '',
    upstreamAddress: upstream?.address ?? '',
    bytesFromClient: clientBytesRead(client),
    bytesToClient: client.bytesWritten,
    durationMs: performance.now() - s.startedAt,
    handshakeMs: s.handshakeMs,
    connectMs: s.connectMs,
    connectAttempts: s.attempt,
    tlsVersion: s.tlsVersion,
    tlsCipher: s.tlsCipher,
    serverName: s.serverName,
    alpn: s.alpn,
    termination: s.termination,
  });
}
