import type { ErrorCode } from '../lib/errors.js';
import type { Upstream } from '../lib/upstreams/upstream.js';
import type { ListenerRuntime } from './runtime.js';
import type { ListenerSnapshot } from './snapshot.js';
import type { SocketSource } from './socket-source.js';
import type { ListenerStats } from './stats.js';

/**
 * What the proxy and a reload do with a bound listener, whatever its transport: the stream
 * {@link Listener} (tcp, tls, tls-passthrough, which differ by `kinds/`) and the datagram
 * `UdpListener` both are one. Everything past this seam (accepting connections, or keeping flows)
 * is the listener's own, so the proxy has no branch by transport; `listener-factory.ts` is the one
 * place that picks the class for a runtime.
 */
export interface ProxyListener {
  /** Listener name. */
  readonly name: string;
  /** Live counters; a listener moved to a new address by a reload shares them with the one it replaces. */
  readonly stats: ListenerStats;
  /** Current settings. */
  readonly runtime: ListenerRuntime;
  /** True while the socket is bound. */
  readonly listening: boolean;
  /** Binds the socket (or takes the one `sockets` hands over); resolves once bound. */
  listen(sockets?: SocketSource): Promise<void>;
  /** The bound address and port (the real port when 0 was asked for). */
  address(): { address: string; port: number; family: string };
  /** What the listener is, where it listens and its counters, as plain data. */
  snapshot(): ListenerSnapshot;
  /**
   * New settings for what starts from now on. A runtime of another transport is ignored: that
   * change binds a new listener in this one's place.
   */
  update(runtime: ListenerRuntime, handshakeTimeoutMs: number): void;
  /** Session-ticket keys derived anew from the shared secret (TLS listeners; others do nothing). */
  renewTicketKeys(): void;
  /**
   * Ends what the listener itself holds on `upstream` (UDP flows) with `code`; the count ended.
   * Stream sessions belong to the proxy, which ends them itself.
   */
  closeSessionsOf(upstream: Upstream, code: ErrorCode): number;
  /** Stops taking new clients; resolves once the socket is unbound. */
  close(): Promise<void>;
}
