/**
 * The primary's listening sockets: bound here, listened on by the workers. Workers come and go
 * (restarts, a rolling restart) while a socket stays open in the primary, so the port never closes:
 * a connection that arrives while no worker accepts waits in the kernel's queue instead of being
 * refused. The primary itself never accepts; it holds the socket and hands it out.
 */

import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { isIP } from 'node:net';
import { getSystemErrorName } from 'node:util';
import type { SwitchyardConfig } from '../config/types.js';
import { ErrorCodes, SwitchyardError } from '../lib/errors.js';
import type { Transport } from '../proxy/socket-source.js';
import { parseBind } from '../runtime/build-runtime.js';

/** A bound socket handle (TCP or UDP), as node:net's servers, dgram sockets and `send(message, handle)` take it. */
export interface SocketHandle {
  close(callback?: () => void): void;
  getsockname(out: { address?: string; port?: number; family?: string }): number;
}

// The bound-but-not-listening socket node:cluster makes for its workers, from the same call: what
// `server.listen()` would do up to bind(2). Node has exported it since 0.x for its cluster module.
type CreateServerHandle = (
  address: string,
  port: number,
  addressType: number,
  fd: number | undefined,
  flags: number,
) => SocketHandle | number;

const createServerHandle = (net as unknown as { _createServerHandle?: CreateServerHandle })
  ._createServerHandle;

// The same for UDP: a bound socket that nobody reads until a worker binds a dgram socket to it.
// node:cluster makes its workers' shared UDP sockets with it too.
type CreateDatagramHandle = (
  address: string,
  port: number,
  type: 'udp4' | 'udp6',
  fd: number | undefined,
  flags: number,
) => SocketHandle | number;

const createDatagramHandle = (dgram as unknown as { _createSocketHandle?: CreateDatagramHandle })
  ._createSocketHandle;

/** Listening sockets by listener name and address. */
export class ListeningSockets {
  readonly #handles = new Map<string, SocketHandle>();

  /** The socket of listener `name` on `host`:`port` when there is one already. */
  known(name: string, host: string, port: number, transport: Transport): SocketHandle | undefined {
    return this.#handles.get(socketKey(name, host, port, transport));
  }

  /** Keeps a socket a predecessor handed over as listener `name`'s on `host`:`port`. */
  adopt(name: string, host: string, port: number, transport: Transport, handle: SocketHandle): void {
    this.#handles.set(socketKey(name, host, port, transport), handle);
  }

  /** The socket of listener `name` on `host`:`port`, bound on first use; throws with the system's code. */
  handleFor(name: string, host: string, port: number, transport: Transport): SocketHandle {
    const key = socketKey(name, host, port, transport);
    const known = this.#handles.get(key);
    if (known !== undefined) return known;
    if (createServerHandle === undefined || createDatagramHandle === undefined) {
      throw new SwitchyardError(ErrorCodes.ERR_INTERNAL, 'this Node.js cannot bind sockets for workers');
    }
    const family = isIP(host);
    if (family === 0) {
      throw new SwitchyardError(
        ErrorCodes.ERR_INVALID_ADDRESS,
        `workers need an IP address to bind, got "${host}"`,
      );
    }
    const handle =
      transport === 'udp'
        ? bindDatagram(createDatagramHandle, host, port, family)
        : createServerHandle(host, port, family, undefined, 0);
    if (typeof handle === 'number') throw bindError(getSystemErrorName(handle), host, port);
    // libuv keeps an EADDRINUSE from bind(2) until listen(), and a socket whose bind failed would
    // then be bound by the kernel to every interface on a random port when a worker listens on it.
    // So the bind is checked here: a bound socket has the port asked for (or, for 0, a real one).
    const bound: { port?: number } = {};
    const err = handle.getsockname(bound);
    if (err !== 0 || bound.port === undefined || bound.port === 0 || (port !== 0 && bound.port !== port)) {
      handle.close();
      throw bindError('EADDRINUSE', host, port);
    }
    this.#handles.set(key, handle);
    return handle;
  }

  /** Closes the sockets no listener of `config` uses any more (after a reload removed or moved them). */
  keepOnly(config: SwitchyardConfig): void {
    const wanted = new Set(
      config.listeners.map((l) => {
        const { host, port } = parseBind(l.bind);
        return socketKey(l.name, host, port, l.protocol);
      }),
    );
    for (const [key, handle] of this.#handles) {
      if (wanted.has(key)) continue;
      handle.close();
      this.#handles.delete(key);
    }
  }

  /** Closes every socket. */
  closeAll(): void {
    for (const handle of this.#handles.values()) handle.close();
    this.#handles.clear();
  }
}

function bindError(code: string, host: string, port: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`bind ${code} ${host}:${port}`), { code, syscall: 'bind' });
}

function socketKey(name: string, host: string, port: number, transport: Transport): string {
  return `${name}\u0000${host}\u0000${port}\u0000${transport}`;
}

/**
 * A bound UDP handle. Node has deprecated its maker for users (DEP0112) and warns once per process;
 * it is what node:cluster uses, the warning would only puzzle an operator, so it is kept quiet here.
 */
function bindDatagram(
  create: CreateDatagramHandle,
  host: string,
  port: number,
  family: number,
): SocketHandle | number {
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    return create(host, port, family === 6 ? 'udp6' : 'udp4', undefined, 0);
  } finally {
    process.noDeprecation = quiet;
  }
}
