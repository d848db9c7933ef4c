/**
 * The dashboard's client table: live sessions summed by client, with the refusals counted per client,
 * cut to the top few by active connections, then bytes, then refusals.
 */
import type { SessionSnapshot } from '../../proxy/snapshot.js';
import { clientsPage } from '../admin-views.js';
import type { ClientLimitState } from './client-limits.js';
import type { ClientRefusal, ClientRefusals } from './client-refusals.js';

/** One row of the client table. */
export interface ClientRow {
  /** Certificate CN, or the source address on plain TCP. */
  id: string;
  org: string;
  connections: number;
  bytesFromClient: number;
  bytesToClient: number;
  /** Refusals counted while the dashboard watched; null without a refusal source. */
  refusals: number | null;
}

/** One client in detail: the search box's answer. */
export interface ClientDetail extends ClientRow {
  /** Its live sessions. */
  sessions: SessionSnapshot[];
  /** Its latest refusals, newest last; null when not known here. */
  recentRefusals: ClientRefusal[] | null;
  /** Its rate-limit and concurrency state now; null when the server did not say. */
  limits: ClientLimitState | null;
}

/** The top `limit` clients of `sessions` and `refusals` (null: refusals unknown). */
export function topClients(
  sessions: readonly SessionSnapshot[],
  refusals: ClientRefusals | null,
  limit: number,
): ClientRow[] {
  const rows = new Map<string, ClientRow>();
  for (const c of clientsPage(sessions, 0, Number.MAX_SAFE_INTEGER).clients) {
    rows.set(c.id, { ...c, refusals: refusals === null ? null : (refusals.get(c.id)?.count ?? 0) });
  }
  if (refusals !== null) {
    for (const r of refusals.all()) {
      if (!rows.has(r.id)) {
        rows.set(r.id, {
          id: r.id,
          org: r.org,
          connections: 0,
          bytesFromClient: 0,
          bytesToClient: 0,
          refusals: r.count,
        });
      }
    }
  }
  return [...rows.values()]
    .sort(
      (a, b) =>
        b.connections - a.connections ||
        b.bytesFromClient + b.bytesToClient - (a.bytesFromClient + a.bytesToClient) ||
        (b.refusals ?? 0) - (a.refusals ?? 0) ||
        (a.id < b.id ? -1 : 1),
    )
    .slice(0, limit);
}

/** Everything known of client `id` (its live sessions and recent refusals). */
export function clientDetail(
  id: string,
  sessions: readonly SessionSnapshot[],
  refusals: ClientRefusals | null,
  limits: ClientLimitState | null = null,
): ClientDetail {
  const own = sessions.filter(
    (s) => (s.clientId === '' ? s.clientAddress : s.clientId) === id && s.phase !== 'closed',
  );
  const row = clientsPage(own, 0, 1).clients[0];
  const refused = refusals?.get(id);
  return {
    id,
    org: row?.org ?? refused?.org ?? '',
    connections: row?.connections ?? 0,
    bytesFromClient: row?.bytesFromClient ?? 0,
    bytesToClient: row?.bytesToClient ?? 0,
    refusals: refusals === null ? null : (refused?.count ?? 0),
    sessions: own,
    recentRefusals: refusals === null ? null : (refused?.recent ?? []),
    limits,
  };
}
