import type { Logger } from '../lib/logger.js';
import type { ProxyEvents } from './events.js';
import { type AcceptHandler, Listener } from './listener.js';
import type { ProxyListener } from './proxy-listener.js';
import type { ListenerRuntime } from './runtime.js';
import type { SessionHost } from './session.js';
import type { ListenerSnapshot } from './snapshot.js';
import { ListenerStats } from './stats.js';
import { describeUdp, UdpListener } from './udp/udp-listener.js';

/** What the proxy gives every listener it creates. */
export interface ListenerContext {
  readonly host: SessionHost;
  readonly logger: Logger;
  readonly events: ProxyEvents;
  /** Where a stream listener hands the connections that passed its guards. */
  readonly onAccept: AcceptHandler;
}

/**
 * The listener for a runtime: a datagram listener for `udp`, the stream {@link Listener} (which
 * picks its kind module in `kinds/registry.ts`) for the rest. The one place that tells the
 * transports apart; everything after it goes through {@link ProxyListener}.
 */
export function createListener(
  rt: ListenerRuntime,
  handshakeMs: number,
  ctx: ListenerContext,
  stats?: ListenerStats,
): ProxyListener {
  if (rt.kind === 'udp') return new UdpListener(rt, ctx.host, stats);
  return new Listener(rt, handshakeMs, ctx.onAccept, ctx.logger, ctx.events, stats);
}

/** The picture of a listener of the runtime that has no socket (yet, or any more). */
export function unboundSnapshot(rt: ListenerRuntime): ListenerSnapshot {
  if (rt.kind === 'udp') {
    return {
      ...describeUdp(rt),
      address: null,
      port: null,
      listening: false,
      stats: new ListenerStats().counters(),
    };
  }
  return Listener.unboundSnapshot(rt);
}
