import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ErrorCodes } from '../../lib/errors.js';
import { awaitClientHello, helloOf } from '../client-hello-intake.js';
import { ignoreError } from '../owned-socket.js';
import { clientAddressOf } from '../proxy-header-intake.js';
import type { ListenerRuntime } from '../runtime.js';
import type { ListenerStats } from '../stats.js';
import type { AcceptingListener, ConnectionIntake, ListenerKind, RoutedSession } from './listener-kind.js';

type PassthroughRuntime = Extract<ListenerRuntime, { kind: 'tls-passthrough' }>;

/**
 * Reads each connection's ClientHello before its session starts, bounded in bytes and in the
 * handshake timeout. Connections whose hello is being read count as handshakes in progress, so
 * `maxPendingHandshakes` caps how many slow or silent clients one listener holds.
 */
class ClientHelloIntake implements ConnectionIntake<PassthroughRuntime> {
  readonly #listener: AcceptingListener;
  #runtime: PassthroughRuntime;
  #timeoutMs: number;

  constructor(listener: AcceptingListener, rt: PassthroughRuntime, handshakeTimeoutMs: number) {
    this.#listener = listener;
    this.#runtime = rt;
    this.#timeoutMs = handshakeTimeoutMs;
  }

  guard(stats: ListenerStats): typeof ErrorCodes.ERR_HANDSHAKE_BACKLOG | undefined {
    const cap = this.#runtime.maxPendingHandshakes;
    return cap > 0 && stats.handshaking >= cap ? ErrorCodes.ERR_HANDSHAKE_BACKLOG : undefined;
  }

  accept(socket: Socket): void {
    const listener = this.#listener;
    const stats = listener.stats;
    stats.handshaking++;
    const start = performance.now();
    awaitClientHello(socket, this.#timeoutMs, (outcome) => {
      stats.handshaking--;
      if (outcome.ok) {
        listener.startSession(socket, performance.now() - start);
        return;
      }
      stats.active--;
      // Read the address first: a destroyed socket no longer knows its peer.
      const clientAddress = clientAddressOf(socket);
      socket.on('error', ignoreError);
      socket.destroy();
      listener.refused(outcome.code, clientAddress, outcome.detail);
    });
  }

  update(rt: PassthroughRuntime, handshakeTimeoutMs: number): void {
    this.#runtime = rt;
    this.#timeoutMs = handshakeTimeoutMs;
  }
}

/**
 * A TLS passthrough listener: the ClientHello is read, not answered; its server name picks the
 * group (exact, `*.` wildcard, default) and every byte goes to the upstream untouched, which
 * terminates TLS with its own certificate. No client identity exists here, so the source address
 * is what limits count and hashing balancers hash.
 */
export const tlsPassthroughKind: ListenerKind<PassthroughRuntime> = {
  name: 'tls-passthrough',
  intake: (listener, rt, handshakeTimeoutMs) => new ClientHelloIntake(listener, rt, handshakeTimeoutMs),
  route: routeByServerName,
  hashKey: () => 'source-ip',
  // Not a TLS endpoint: nothing negotiated here for a PROXY v2 header to tell.
  proxiedTls: () => undefined,
  // The TLS session is between client and upstream; a close_notify from us would corrupt it.
  endsWithCloseNotify: false,
  // The hello is read with the socket's ordinary reads (and put back with unshift).
  relayReadsSocket: false,
  describe: (rt) => ({
    sniRoutes: rt.sni.routes.map((r) => ({ serverName: r.serverName, group: r.group })),
    ...(rt.sni.defaultGroup === undefined ? {} : { defaultGroup: rt.sni.defaultGroup }),
  }),
};

function routeByServerName(client: Socket, rt: PassthroughRuntime, session: RoutedSession): void {
  const hello = helloOf(client);
  const serverName = hello?.serverName;
  // No version or cipher: those are agreed between the client and the upstream, out of our sight.
  session.negotiated('', '', serverName ?? '', hello?.alpn.join(',') ?? '');
  const group = (serverName === undefined ? undefined : rt.sni.match(serverName)) ?? rt.sni.defaultGroup;
  if (group === undefined) {
    session.fail(serverName === undefined ? ErrorCodes.ERR_NO_SNI : ErrorCodes.ERR_UNKNOWN_SNI);
    return;
  }
  session.routed(group, session.clientAddress);
}
