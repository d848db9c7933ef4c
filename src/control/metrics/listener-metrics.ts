import type { Registry } from 'prom-client';
import type { ListenerSnapshot } from '../../proxy/snapshot.js';
import { type Put, type ScrapeSnapshot, snapshotMetric } from './source.js';

/** One sample per listener of the snapshot. */
function perListener(read: (l: ListenerSnapshot) => number) {
  return (snap: { listeners: ListenerSnapshot[] }, put: Put): void => {
    for (const l of snap.listeners) put({ listener: l.name }, read(l));
  };
}

/** The `switchyard_listener_*` metrics and `switchyard_rejections_total`, read from each scrape's snapshot. */
export function registerListenerMetrics(registry: Registry, scrape: ScrapeSnapshot): void {
  const listener = ['listener'];
  snapshotMetric(
    'gauge',
    {
      name: 'switchyard_listener_connections_active',
      help: 'Connections open on a listener, from accept to close (including TLS handshakes).',
      labelNames: listener,
    },
    registry,
    scrape,
    perListener((l) => l.stats.active),
  );
  snapshotMetric(
    'counter',
    {
      name: 'switchyard_listener_connections_total',
      help: 'Connections accepted by a listener, refused or not.',
      labelNames: listener,
    },
    registry,
    scrape,
    perListener((l) => l.stats.accepted),
  );
  snapshotMetric(
    'gauge',
    {
      name: 'switchyard_listener_handshakes_in_progress',
      help: 'TLS handshakes in progress on a listener.',
      labelNames: listener,
    },
    registry,
    scrape,
    perListener((l) => l.stats.handshaking),
  );
  snapshotMetric(
    'counter',
    {
      name: 'switchyard_listener_sessions_proxied_total',
      help: 'Sessions of a listener that reached an upstream.',
      labelNames: listener,
    },
    registry,
    scrape,
    perListener((l) => l.stats.proxied),
  );
  snapshotMetric(
    'counter',
    {
      name: 'switchyard_listener_bytes_total',
      help: 'Bytes of ended sessions on a listener; in = read from clients, out = written to clients.',
      labelNames: ['listener', 'direction'],
    },
    registry,
    scrape,
    (snap, put) => {
      for (const l of snap.listeners) {
        put({ listener: l.name, direction: 'in' }, l.stats.bytesFromClients);
        put({ listener: l.name, direction: 'out' }, l.stats.bytesToClients);
      }
    },
  );
  snapshotMetric(
    'gauge',
    { name: 'switchyard_listener_up', help: '1 while a listener accepts connections.', labelNames: listener },
    registry,
    scrape,
    perListener((l) => (l.listening ? 1 : 0)),
  );
  snapshotMetric(
    'counter',
    {
      name: 'switchyard_rejections_total',
      help: 'Refused connections and bad session endings, by listener and stable reason code.',
      labelNames: ['listener', 'reason'],
    },
    registry,
    scrape,
    (snap, put) => {
      for (const l of snap.listeners) {
        for (const [reason, n] of Object.entries(l.stats.rejections)) put({ listener: l.name, reason }, n);
      }
    },
  );
}
