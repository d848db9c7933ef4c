/**
 * Real upstream servers on loopback for integration tests: each binds port 0 and reports the port
 * it got, so tests never collide.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Worker } from 'node:worker_threads';

/** A started test server; `close()` also destroys its live sockets. */
export interface TestUpstream {
  /** Name it answers with (named upstreams) or a label. */
  name: string;
  /** Bound host. */
  host: string;
  /** Bound port. */
  port: number;
  /** `host:port`, IPv6 in brackets. */
  address: string;
  /** Connections accepted so far. */
  accepted: number;
  /** Sockets currently open. */
  readonly sockets: Set<Socket>;
  /** Stops listening and destroys every live socket. */
  close(): Promise<void>;
}

/** Binds `server` on `host`:`port` and describes it as a test upstream that closes every live socket on close. */
async function listening(
  server: Server | TlsServer,
  name: string,
  host: string,
  askedPort: number,
  sockets: Set<Socket>,
): Promise<TestUpstream> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(askedPort, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    name,
    host,
    port,
    address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    accepted: 0,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A plain TCP test upstream on `host` that hands each accepted socket to `onSocket`. */
export async function startTcpUpstream(
  name: string,
  host: string,
  onSocket: (s: Socket) => void,
  askedPort = 0,
): Promise<TestUpstream> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    up.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onSocket(socket);
  });
  const up = await listening(server, name, host, askedPort, sockets);
  return up;
}

/**
 * Answers any request (read up to the blank line) with `<name>\n` as an HTTP/1.1 response, then
 * closes: the seed's "basic HTTP GET to confirm the client reached a matching upstream".
 */
export function startNamedHttpUpstream(name: string, host = '127.0.0.1', port = 0): Promise<TestUpstream> {
  return startTcpUpstream(
    name,
    host,
    (socket) => {
      let seen = '';
      const onData = (chunk: Buffer) => {
        seen += chunk.toString('latin1');
        if (!seen.includes('\r\n\r\n')) return;
        socket.removeListener('data', onData);
        const body = `${name}\n`;
        socket.end(
          `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
        socket.resume();
      };
      socket.on('data', onData);
    },
    port,
  );
}

/** The certificates of a {@link startMutualTlsUpstream}. */
export interface MutualTlsUpstreamOptions {
  /** Server certificate (PEM). */
  cert: string;
  /** Its key (PEM). */
  key: string;
  /** CA (PEM) client certificates must chain to. */
  ca: string;
}

/** A mutual TLS upstream, which also counts the handshakes it refused. */
export interface MutualTlsUpstream extends TestUpstream {
  /** Handshakes refused: no client certificate, or one that does not chain to the CA. */
  readonly refused: number;
}

/**
 * Answers like {@link startNamedHttpUpstream}, over TLS, and only to clients whose certificate chains
 * to `ca`: OpenSSL refuses the others in the handshake, as a server that requires client
 * certificates does. `accepted` counts the handshakes that completed.
 */
export async function startMutualTlsUpstream(
  name: string,
  options: MutualTlsUpstreamOptions,
  host = '127.0.0.1',
): Promise<MutualTlsUpstream> {
  const sockets = new Set<Socket>();
  let refused = 0;
  const server = createTlsServer({ ...options, requestCert: true, rejectUnauthorized: true }, (socket) => {
    up.accepted++;
    socket.on('error', () => {});
    let seen = '';
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (!seen.includes('\r\n\r\n')) return;
      socket.end(
        `HTTP/1.1 200 OK\r\nContent-Length: ${name.length + 1}\r\nConnection: close\r\n\r\n${name}\n`,
      );
    });
  });
  // Every TCP connection, handshake done or not, so close() leaves none behind.
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', () => {
    refused++;
  });
  const up: MutualTlsUpstream = Object.defineProperty(
    await listening(server, name, host, 0, sockets),
    'refused',
    { get: () => refused, enumerable: true },
  ) as MutualTlsUpstream;
  return up;
}

/** Echoes every byte back and ends its side when the client ends: exercises half-close. */
export function startEchoUpstream(name = 'echo', host = '127.0.0.1'): Promise<TestUpstream> {
  return startTcpUpstream(name, host, (socket) => {
    socket.pipe(socket);
  });
}

/** Reads until the client ends, then answers with the SHA-256 hex of everything it got and the byte count. */
export async function startHashUpstream(name = 'hash', host = '127.0.0.1'): Promise<HashUpstream> {
  let receivedByAll = 0;
  const up = await startTcpUpstream(name, host, (socket) => {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      receivedByAll += chunk.length;
    });
    socket.on('end', () => socket.end(`${hash.digest('hex')} ${bytes}\n`));
  });
  return Object.defineProperty(up, 'received', {
    get: () => receivedByAll,
    enumerable: true,
  }) as HashUpstream;
}

/** A hash upstream, which also tells how much it has read. */
export interface HashUpstream extends TestUpstream {
  /** Bytes read so far, over all connections. */
  readonly received: number;
}

/**
 * Sends `totalBytes` of deterministic data as soon as a client connects, then ends; the data is the
 * same stream {@link deterministicChunk} makes, so the receiver can hash and compare.
 */
export async function startSourceUpstream(
  totalBytes: number,
  name = 'source',
  host = '127.0.0.1',
): Promise<SourceUpstream> {
  let sentByAll = 0;
  const up = await startTcpUpstream(name, host, (socket) => {
    let sent = 0;
    const chunk = deterministicChunk();
    const pump = () => {
      while (sent < totalBytes) {
        const n = Math.min(chunk.length, totalBytes - sent);
        sent += n;
        sentByAll += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end();
    };
    pump();
    socket.resume();
  });
  return Object.defineProperty(up, 'sent', { get: () => sentByAll, enumerable: true }) as SourceUpstream;
}

/** A source upstream, which also tells how far it got. */
export interface SourceUpstream extends TestUpstream {
  /**
   * Bytes handed to `write()` so far, over all connections. The source stops writing when a write
   * reports back-pressure, so this is at most one chunk ahead of what the kernel has taken.
   */
  readonly sent: number;
}

/** Holds connections open without answering, for least-connections spreading tests. */
export function startSilentUpstream(name: string, host = '127.0.0.1'): Promise<TestUpstream> {
  return startTcpUpstream(name, host, (socket) => {
    socket.resume();
    socket.on('end', () => socket.end());
  });
}

let sharedChunk: Buffer | undefined;

/** A 64 KiB block of pseudo-random bytes, the same in every call. */
export function deterministicChunk(): Buffer {
  if (sharedChunk === undefined) {
    sharedChunk = Buffer.alloc(64 * 1024);
    let x = 0x12345678;
    for (let i = 0; i < sharedChunk.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      sharedChunk[i] = x & 0xff;
    }
  }
  return sharedChunk;
}

/** A loopback port with nothing listening: bound once, then closed, so connects are refused. */
export async function refusedPort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A loopback port held by a server that accepts nothing useful, as another program holding it would. */
export async function heldPort(host = '127.0.0.1'): Promise<{ port: number; release(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const port = (server.address() as { port: number }).port;
  return { port, release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** SHA-256 hex of the first `totalBytes` of the stream {@link deterministicChunk} repeats. */
export function deterministicHash(totalBytes: number): string {
  const chunk = deterministicChunk();
  const hash = createHash('sha256');
  for (let done = 0; done < totalBytes; done += chunk.length) {
    hash.update(totalBytes - done >= chunk.length ? chunk : chunk.subarray(0, totalBytes - done));
  }
  return hash.digest('hex');
}

/** An upstream whose connects never complete, and the sockets that keep it that way. */
export interface BlackholeUpstream {
  /** Bound host. */
  host: string;
  /** Bound port. */
  port: number;
  /** `host:port`, IPv6 in brackets. */
  address: string;
  /** Unblocks the listener's thread, closes it and the filler connections. */
  close(): Promise<void>;
}

// Runs in a worker: listens with a one-slot accept queue, then blocks its own event loop so nothing
// is ever accepted. Once the queue is full the kernel drops new SYNs, so connects hang in SYN_SENT.
const BLACKHOLE_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const net = require('node:net');
const server = net.createServer();
server.listen({ host: workerData.host, port: 0, backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(new Int32Array(workerData.flag), 0, 0);
  server.close();
});
`;

/**
 * A port whose connects time out instead of being refused, for connect-timeout tests on loopback:
 * a listener that never accepts, with its accept queue filled (Linux queues backlog + 1 connections
 * and then drops SYNs).
 */
export async function startBlackholeUpstream(host = '127.0.0.1'): Promise<BlackholeUpstream> {
  const flag = new SharedArrayBuffer(4);
  const worker = new Worker(BLACKHOLE_WORKER, { eval: true, workerData: { host, flag } });
  const exited = once(worker, 'exit');
  const [port] = (await once(worker, 'message')) as [number];
  const fillers: Socket[] = [];
  // backlog 1: two connections fill the queue; each must be queued before the next SYN arrives.
  for (let i = 0; i < 2; i++) {
    const s = connect({ host, port });
    s.on('error', () => {});
    fillers.push(s);
    await once(s, 'connect');
  }
  return {
    host,
    port,
    address: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`,
    close: async () => {
      for (const s of fillers) s.destroy();
      const view = new Int32Array(flag);
      Atomics.store(view, 0, 1);
      Atomics.notify(view, 0);
      await exited;
    },
  };
}
