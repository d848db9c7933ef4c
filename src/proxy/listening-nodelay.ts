import type { Server } from 'node:net';

/** The listening socket's libuv handle, which can take TCP_NODELAY like a connected one. */
interface NoDelayHandle {
  setNoDelay?: (enable: boolean) => number;
}

/**
 * Sets TCP_NODELAY once, on `server`'s listening socket, where the kernel copies it to every socket
 * accept() returns (Linux does; checked with getsockopt on accepted sockets), instead of once per
 * accepted connection: one setsockopt less per connection. Returns false, changing nothing, on
 * other systems or when this Node's server has no handle that takes it: the caller then sets it on
 * each accepted socket as before.
 */
export function noDelayOnListeningSocket(server: Server): boolean {
  if (process.platform !== 'linux') return false;
  const handle = (server as unknown as { _handle: NoDelayHandle | null })._handle;
  if (typeof handle?.setNoDelay !== 'function') return false;
  return handle.setNoDelay(true) === 0;
}
