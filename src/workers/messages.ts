/**
 * What the primary and its workers say to each other over the IPC channel, as JSON (cheaper per
 * message than Node's 'advanced' serialization, measured: see BENCHMARKS, issue #14), so only plain
 * data: a Buffer travels in base64. Requests carry an id their reply repeats.
 */
import type { SwitchyardConfig } from '../config/types.js';
import type { Refusal } from '../control/dashboard/refusal-source.js';
import type { ProxySnapshot, SessionSnapshot } from '../proxy/snapshot.js';
import type { Transport } from '../proxy/socket-source.js';

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
  /** `ticketSecret` in base64: the channel carries JSON. */
  | { type: 'start'; config: SwitchyardConfig; health: UpstreamHealth[]; ticketSecret: string }
  | { type: 'request'; id: number; command: WorkerCommand }
  | { type: 'health'; states: UpstreamHealth[] }
  /** A new secret for the session-ticket keys (base64), rotated for every worker at once. */
  | { type: 'ticket-secret'; secret: string }
  | { type: 'stop'; graceMs: number }
  /** A dashboard is open (or the last one closed): relay refusals per client, or stop. */
  | { type: 'watch-refusals'; on: boolean }
  /** Answers to `limits` questions, gathered over one turn of the primary's event loop. */
  | { type: 'limit-replies'; replies: LimitReply[] }
  /** The answer to `socket-request`; the socket itself travels as the message's handle. */
  | { type: 'socket-reply'; id: number; ok: true; elsewhere?: true }
  | { type: 'socket-reply'; id: number; ok: false; error: WireError & { errno?: string } };

/** An error as it crosses the channel: its stable code and message. */
export interface WireError {
  code: string;
  message: string;
  /** For a listening socket that could not be bound: whose, where and the system's code. */
  bind?: { listener?: string; address: string; errno?: string };
}

/** Messages from a worker. */
export type FromWorker =
  | { type: 'listening-for-commands' }
  /**
   * Per-client gates decided in the primary, so the limits hold across workers: the questions and
   * releases of one turn of the worker's event loop in one message (one write and one wake-up for
   * all of them, which is most of what a message costs).
   */
  | { type: 'limits'; requests: LimitRequest[] }
  /** A listener of the worker wants its listening socket. */
  | {
      type: 'socket-request';
      id: number;
      listener: string;
      host: string;
      port: number;
      transport: Transport;
    }
  | { type: 'ready' }
  /**
   * Refusals per client while a dashboard is open, gathered over a short interval (one message
   * for many); `dropped` counts those past the bound of one message.
   */
  | { type: 'refusals'; refusals: Refusal[]; dropped: number }
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
  | {
      type: 'takeover-socket';
      id: number;
      listener: string;
      host: string;
      port: number;
      transport: Transport;
    }
  | { type: 'takeover-ready'; pid: number }
  | { type: 'takeover-admin-listening' };

/** The predecessor's answers; sockets travel as the message's handle. */
export type ToSuccessor =
  | { type: 'takeover-socket-reply'; id: number; found: boolean }
  | { type: 'takeover-admin'; found: boolean };

/** A question to the primary's per-client gates, or a slot given back (`release`). */
export type LimitRequest =
  | { id: number; op: 'take' | 'acquire' | 'admit'; key: string }
  | { op: 'release'; key: string };

/**
 * The answer to a {@link LimitRequest}: ms until a retry (`take`); whether a slot was got
 * (`acquire`); for `admit` (both gates in one question) ms until a retry, 0 with a slot held, -1
 * over the cap.
 */
export interface LimitReply {
  id: number;
  value: number | boolean;
}
