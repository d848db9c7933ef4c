/**
 * Where the dashboard's refusals per client come from: the proxy's events in one process, or the
 * workers' relayed refusals with several. Watched only while a dashboard is open, so nobody pays
 * for them otherwise; a refusal is reduced here to the few fields the client table shows.
 */
import type { ConnectionRefusedEvent, EventChannel, SessionEndedEvent } from '../../proxy/events.js';

/** One refused connection of one client, as the client table counts it. */
export interface Refusal {
  /** Certificate CN, or the source address when there is none. */
  id: string;
  org: string;
  /** The reason code. */
  code: string;
  listener: string;
}

/** Refusals as they happen, for as long as someone watches. */
export interface RefusalSource {
  /** Calls `record` with every refusal from now on; returns the call that stops it. */
  watch(record: (refusal: Refusal) => void): () => void;
}

/** The proxy's events refusals are read from (one process). */
export interface RefusalEvents {
  sessionEnded: Pick<EventChannel<SessionEndedEvent>, 'subscribe' | 'unsubscribe'>;
  connectionRefused: Pick<EventChannel<ConnectionRefusedEvent>, 'subscribe' | 'unsubscribe'>;
}

// Ends that are no refusal: the session was served and then ended for one of these reasons.
const ENDINGS = new Set([
  'OK',
  'ERR_IDLE_TIMEOUT',
  'ERR_CLIENT_RESET',
  'ERR_UPSTREAM_RESET',
  'ERR_UPSTREAM_DOWN',
  'ERR_SHUTDOWN',
  'ERR_MAX_LIFETIME',
]);

/** The refusal an ended session was, or undefined when it was served and ended as sessions do. */
export function refusalOfSession(e: SessionEndedEvent): Refusal | undefined {
  if (ENDINGS.has(e.termination)) return undefined;
  return {
    id: e.clientId === '' ? e.clientAddress : e.clientId,
    org: e.org,
    code: e.termination,
    listener: e.listener,
  };
}

/** A connection refused before it had an identity, counted under its source address. */
export function refusalOfConnection(e: ConnectionRefusedEvent): Refusal {
  return { id: e.clientAddress, org: '', code: e.reason, listener: e.listener };
}

/** Refusals read from the proxy's events, subscribed only while watched. */
export function refusalsFromEvents(events: RefusalEvents): RefusalSource {
  return {
    watch(record) {
      const ended = (e: SessionEndedEvent): void => {
        const refusal = refusalOfSession(e);
        if (refusal !== undefined) record(refusal);
      };
      const refused = (e: ConnectionRefusedEvent): void => record(refusalOfConnection(e));
      events.sessionEnded.subscribe(ended);
      events.connectionRefused.subscribe(refused);
      return () => {
        events.sessionEnded.unsubscribe(ended);
        events.connectionRefused.unsubscribe(refused);
      };
    },
  };
}
