import type { Socket } from 'node:net';

/**
 * The session a client or upstream socket belongs to. Sessions and their steps register
 * module-level event handlers that find their session through this property, so a connection
 * allocates no listener closures.
 */
export const sessionOf = Symbol('session');

/** A socket that knows its session (of type `S`, as the module handling it sees a session). */
export type OwnedSocket<S> = Socket & { [sessionOf]?: S };

/** The 'error' handler of a socket being thrown away: what it reports no longer concerns anyone. */
export function ignoreError(): void {}
