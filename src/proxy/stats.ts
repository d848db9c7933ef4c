import type { ErrorCode } from '../lib/errors.js';

/** Live counters of one listener; plain fields so the hot path pays one increment. */
export class ListenerStats {
  /** Connections accepted by the socket layer. */
  accepted = 0;
  /** Sessions currently open (from accept to close). */
  active = 0;
  /** TLS handshakes in progress. */
  handshaking = 0;
  /** Sessions that reached an upstream. */
  proxied = 0;
  /** Bytes read from clients. */
  bytesFromClients = 0;
  /** Bytes written to clients. */
  bytesToClients = 0;
  /** Refusals and bad endings by reason code. */
  readonly rejections = new Map<ErrorCode, number>();

  /** Counts one refusal or bad ending. */
  reject(code: ErrorCode): void {
    this.rejections.set(code, (this.rejections.get(code) ?? 0) + 1);
  }

  /** How many times `code` was counted. */
  rejected(code: ErrorCode): number {
    return this.rejections.get(code) ?? 0;
  }
}

/** What the access log and metrics learn when a session ends. */
export interface SessionRecord {
  /** Listener name. */
  listener: string;
  /** Client source address and port. */
  clientAddress: string;
  clientPort: number;
  /** Client id (certificate CN); empty on plain TCP listeners. */
  clientId: string;
  /** The org that was authorized; empty on plain TCP listeners. */
  org: string;
  /** Group that served the session; empty when refused before routing. */
  group: string;
  /** Upstream id; empty when none was reached. */
  upstream: string;
  /** The upstream's `host:port` (IPv6 in brackets), also when it has an id; empty when none was picked. */
  upstreamAddress: string;
  /** Bytes read from the client. */
  bytesFromClient: number;
  /** Bytes written to the client. */
  bytesToClient: number;
  /** Milliseconds from session start (handshake done, or accept on plain TCP) to close. */
  durationMs: number;
  /** Milliseconds the TLS handshake took from accept (0 on plain TCP). */
  handshakeMs: number;
  /** Milliseconds the successful upstream connect took (0 when none). */
  connectMs: number;
  /** Upstream connects tried, the successful one included; retries are this minus one. */
  connectAttempts: number;
  /** Negotiated TLS version (`TLSv1.3`); empty on plain TCP. */
  tlsVersion: string;
  /** Negotiated cipher suite, OpenSSL's name; empty on plain TCP. */
  tlsCipher: string;
  /** Server name (SNI) the client asked for; empty when it sent none. */
  serverName: string;
  /** `OK` for a normal end, otherwise the reason code. */
  termination: ErrorCode | 'OK';
}

/** Hooks for whoever wants to observe sessions (metrics, access log); all optional. */
export interface ProxyObserver {
  /** Called once per session at its end, refused or not. */
  sessionEnded?(record: SessionRecord): void;
  /** Called when a TLS handshake on `listener` succeeds, with the ms it took from accept. */
  handshakeDone?(listener: string, ms: number): void;
}
