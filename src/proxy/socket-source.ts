/**
 * Where a listener's listening socket comes from. By default each listener binds its own; a worker
 * process is handed sockets its supervisor bound, which every worker of the balancer (and, after an
 * upgrade, the next balancer) shares, so a worker that starts or stops never opens or closes a port.
 */
export interface SocketSource {
  /**
   * A bound TCP socket handle for listener `name` on `host`:`port`, for `net.Server.listen(handle)`.
   * Rejects with an error carrying the system's code (`EADDRINUSE`, ...) when it cannot be bound.
   */
  listeningHandle(name: string, host: string, port: number): Promise<object>;
}
