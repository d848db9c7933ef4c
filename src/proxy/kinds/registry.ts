import type { StreamListenerRuntime } from '../runtime.js';
import type { ListenerKind } from './listener-kind.js';
import { tcpKind } from './tcp.js';
import { tlsKind } from './tls.js';
import { tlsPassthroughKind } from './tls-passthrough.js';

/** Every listener kind by its config name; a new kind is one module and one line here. */
const KINDS: {
  [K in StreamListenerRuntime['kind']]: ListenerKind<Extract<StreamListenerRuntime, { kind: K }>>;
} = {
  tcp: tcpKind,
  tls: tlsKind,
  'tls-passthrough': tlsPassthroughKind,
};

/** The kind module of a listener runtime. */
export function listenerKind(rt: StreamListenerRuntime): ListenerKind {
  // Sound: each kind module is only ever handed runtimes of its own kind, found by that same name.
  return KINDS[rt.kind] as ListenerKind;
}
