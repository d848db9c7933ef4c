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
  /**
   * The bound UDP socket handle of listener `name` on `host`:`port`, for `dgram.Socket.bind(handle)`,
   * or undefined when another process reads that socket: unlike a TCP socket, whose connections the
   * kernel hands out whole, a UDP socket read by several processes splits a client's datagrams
   * between them, so one worker at a time reads each. Rejects as {@link listeningHandle} does.
   */
  datagramHandle(name: string, host: string, port: number): Promise<object | undefined>;
}

/** Which kind of socket a listener binds: a TCP and a UDP socket never hold each other's address up. */
export type Transport = 'tcp' | 'udp';
