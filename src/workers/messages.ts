/**
 * What the primary and its workers say to each other over the IPC channel (structured clone, so
 * Buffers and plain objects travel as they are). Requests carry an id their reply repeats.
 */
import type { SwitchyardConfig } from '../config/types.js';
import type { ProxySnapshot, SessionSnapshot } from '../proxy/snapshot.js';

/** One upstream's health as the primary's active checks see it. */
export interface UpstreamHealth {
  group: string;
  upstream: string;
  healthy: boolean;
}

/** A change the admin API makes, replayed in every worker. */
export type AdminCommand =
  | { action: 'setUpstreamState'; group: string; id: string; state: string }
  | { action: 'setUpstreamWeight'; group: string; id: string; weight: number }
  | { action: 'addUpstream'; group: string; upstream: Record<string, unknown> }
  | { action: 'removeUpstream'; group: string; id: string }
  | { action: 'setBalancer'; group: string; balancer: string };

/** What a worker is asked to do and answer. */
export type WorkerCommand =
  | { kind: 'reload'; config: SwitchyardConfig }
  | { kind: 'admin'; command: AdminCommand }
  | { kind: 'snapshot' }
  | { kind: 'metrics' };

/** Messages from the primary. */
export type ToWorker =
  | { type: 'start'; config: SwitchyardConfig; health: UpstreamHealth[]; ticketSecret: Buffer }
  | { type: 'request'; id: number; command: WorkerCommand }
  | { type: 'health'; states: UpstreamHealth[] }
  /** A new secret for the session-ticket keys, rotated for every worker at once. */
  | { type: 'ticket-secret'; secret: Buffer }
  | { type: 'stop'; graceMs: number }
  /** The answer to `limit`: ms until a retry (`take`), or whether a slot was got (`acquire`). */
  | { type: 'limit-reply'; id: number; value: number | boolean }
  /** The answer to `socket-request`; the socket itself travels as the message's handle. */
  | { type: 'socket-reply'; id: number; ok: true }
  | { type: 'socket-reply'; id: number; ok: false; error: WireError & { errno?: string } };

/** An error as it crosses the channel: its stable code and message. */
export interface WireError {
  code: string;
  message: string;
}

/** Messages from a worker. */
export type FromWorker =
  | { type: 'listening-for-commands' }
  /** A per-client gate decided in the primary, so the limits hold across workers. */
  | { type: 'limit'; id: number; op: 'take' | 'acquire'; key: string }
  /** A session that held a concurrency slot ended. */
  | { type: 'limit-release'; key: string }
  /** A listener of the worker wants its listening socket. */
  | { type: 'socket-request'; id: number; listener: string; host: string; port: number }
  | { type: 'ready' }
  | { type: 'start-failed'; error: WireError }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: WireError };

/** A worker's answer to `snapshot`. */
export interface WorkerSnapshot {
  snapshot: ProxySnapshot;
  sessions: SessionSnapshot[];
}

/** Tells a message from the primary from anything else on the channel (Node's own internal ones). */
export function isToWorker(message: unknown): message is ToWorker {
  return (
    typeof message === 'object' &&
    message !== null &&
    typeof (message as { type?: unknown }).type === 'string'
  );
}

/**
 * Between a running primary and the successor it started for an upgrade (the same command, from
 * the files on disk): the successor asks for each listening socket, says when its workers serve,
 * and takes over the admin API's socket last.
 */
export type FromSuccessor =
  | { type: 'takeover-socket'; id: number; listener: string; host: string; port: number }
  | { type: 'takeover-ready'; pid: number }
  | { type: 'takeover-admin-listening' };

/** The predecessor's answers; sockets travel as the message's handle. */
export type ToSuccessor =
  | { type: 'takeover-socket-reply'; id: number; found: boolean }
  | { type: 'takeover-admin'; found: boolean };
