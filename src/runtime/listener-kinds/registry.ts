import type { ListenerConfig } from '../../config/types.js';
import type { ListenerSetup } from './listener-setup.js';
import { tcpSetup } from './tcp.js';
import { tlsSetup } from './tls.js';
import { tlsPassthroughSetup } from './tls-passthrough.js';
import { udpSetup } from './udp.js';

/** Every listener kind's setup by its config name; a new kind is one module and one line here. */
const SETUPS: { [K in ListenerConfig['kind']]: ListenerSetup<Extract<ListenerConfig, { kind: K }>> } = {
  tcp: tcpSetup,
  tls: tlsSetup,
  'tls-passthrough': tlsPassthroughSetup,
  udp: udpSetup,
};

/** The setup of a listener kind (of a config or a runtime: both carry `kind`). */
export function listenerSetup(of: { kind: ListenerConfig['kind'] }): ListenerSetup {
  // Sound: each setup is only ever handed listeners of its own kind, found by that same name.
  return SETUPS[of.kind] as unknown as ListenerSetup;
}
