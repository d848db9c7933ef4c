import type { ErrorCode } from '../lib/errors.js';
import type { ListenerCounters } from './snapshot.js';

export type { SessionRecord } from './events.js';

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

  /** The counters as plain data, reasons sorted by code. */
  counters(): ListenerCounters {
    return {
      accepted: this.accepted,
      active: this.active,
      handshaking: this.handshaking,
      proxied: this.proxied,
      bytesFromClients: this.bytesFromClients,
      bytesToClients: this.bytesToClients,
      rejections: Object.fromEntries([...this.rejections].sort(([a], [b]) => (a < b ? -1 : 1))),
    };
  }

  /** How many times `code` was counted. */
  rejected(code: ErrorCode): number {
    return this.rejections.get(code) ?? 0;
  }
}
