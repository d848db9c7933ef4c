import type { Socket } from 'node:net';
import type { ListenerRuntime } from '../runtime.js';
import type { AcceptingListener, ConnectionIntake, ListenerKind, RoutedSession } from './listener-kind.js';

type TcpRuntime = Extract<ListenerRuntime, { kind: 'tcp' }>;

/** Plain TCP takes a connection straight to its session: no handshake, no guard of its own. */
class TcpIntake implements ConnectionIntake<TcpRuntime> {
  readonly #listener: AcceptingListener;

  constructor(listener: AcceptingListener) {
    this.#listener = listener;
  }

  guard(): undefined {
    return undefined;
  }

  accept(socket: Socket): void {
    this.#listener.startSession(socket, 0);
  }

  update(): void {}
}

/** A plain TCP listener: every connection goes to the listener's one group, keyed by its source address. */
export const tcpKind: ListenerKind<TcpRuntime> = {
  name: 'tcp',
  intake: (listener) => new TcpIntake(listener),
  route(_client: Socket, rt: TcpRuntime, session: RoutedSession): void {
    session.routed(rt.group, session.clientAddress);
  },
  // Without a certificate the source address is all a client is known by.
  hashKey: () => 'source-ip',
  proxiedTls: () => undefined,
  endsWithCloseNotify: false,
  relayReadsSocket: true,
  describe: (rt) => ({ group: rt.group }),
};
