/** Real clients for integration tests: plain TCP and mutual TLS, with helpers to read whole replies. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { PemPair } from '../../src/pki/dev-authority.js';
import { deterministicChunk } from './upstreams.js';

/** Where and how to open a mutual-TLS connection. */
export interface TlsClientOptions {
  port: number;
  host?: string;
  /** CA that signed the server certificate. */
  ca: string;
  /** Client certificate; omit to connect without one. */
  client?: PemPair;
  /** Force a TLS version, e.g. 'TLSv1.2'. */
  maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** A session from an earlier connection's `getSession()`, to resume it. */
  session?: Buffer;
}

/** Opens a mutual-TLS connection and resolves once the handshake is done from the client's side. */
export function connectTls(o: TlsClientOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: o.host ?? '127.0.0.1',
      port: o.port,
      ca: o.ca,
      cert: o.client?.cert,
      key: o.client?.key,
      servername: 'localhost',
      maxVersion: o.maxVersion,
      minVersion: o.minVersion,
      session: o.session,
      // Not in the typings, but tls.connect hands it to the socket: needed to test half-close.
      allowHalfOpen: true,
    } as ConnectionOptions);
    socket.once('secureConnect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Opens a plain TCP connection, optionally from a given loopback source address (127.0.0.2 and so on). */
export function connectTcp(port: number, host = '127.0.0.1', localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, allowHalfOpen: true, localAddress });
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** What came back on a connection before it closed. */
export interface Reply {
  /** Everything received, as latin1 text. */
  text: string;
  /** True when the connection ended with an error (e.g. reset) rather than a clean close. */
  errored: boolean;
  /** The error's code, if any. */
  errorCode?: string;
}

/** Reads until the peer closes; never rejects, so refused sessions can be asserted on. */
export function readAll(socket: Socket): Promise<Reply> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let errorCode: string | undefined;
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      errorCode = e.code ?? e.message;
    });
    socket.on('end', () => socket.end());
    socket.once('close', () =>
      resolve({
        text: Buffer.concat(chunks).toString('latin1'),
        errored: errorCode !== undefined,
        errorCode,
      }),
    );
  });
}

/** Sends a GET over a connected socket and returns the response body's first line, or '' when refused. */
export async function httpGet(socket: Socket): Promise<string> {
  const reply = readAll(socket);
  socket.write('GET / HTTP/1.1\r\nHost: switchyard\r\nConnection: close\r\n\r\n');
  const { text } = await reply;
  const body = text.split('\r\n\r\n')[1] ?? '';
  return body.trim();
}

/**
 * Connects with TLS and GETs, returning the upstream's name; a refused handshake or a refused
 * session resolves to '' instead of throwing.
 */
export async function tlsGet(o: TlsClientOptions): Promise<string> {
  let socket: TLSSocket;
  try {
    socket = await connectTls(o);
  } catch {
    return '';
  }
  return httpGet(socket);
}

/** Connects over plain TCP and GETs, returning the upstream's name ('' when refused). */
export async function tcpGet(port: number, host = '127.0.0.1', localAddress?: string): Promise<string> {
  return httpGet(await connectTcp(port, host, localAddress));
}

/** Resolves once `predicate` holds, checking on every turn of the event loop, up to `maxTurns` checks. */
export async function until(predicate: () => boolean, what: string, maxTurns = 20_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, i < 100 ? 0 : 5));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

/**
 * Writes the first `totalBytes` of the deterministic stream ({@link deterministicChunk} repeated),
 * waiting for 'drain' whenever a write reports back-pressure, then ends the write side. Resolves
 * with the SHA-256 hex of what was written once everything is flushed; rejects on a socket error.
 */
export function sendDeterministic(socket: Socket, totalBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunk = deterministicChunk();
    const hash = createHash('sha256');
    let sent = 0;
    const fail = (err: Error) => {
      socket.removeListener('drain', pump);
      reject(err);
    };
    socket.once('error', fail);
    function pump(): void {
      while (sent < totalBytes) {
        const piece = totalBytes - sent >= chunk.length ? chunk : chunk.subarray(0, totalBytes - sent);
        sent += piece.length;
        hash.update(piece);
        if (!socket.write(piece)) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end(() => {
        socket.removeListener('error', fail);
        resolve(hash.digest('hex'));
      });
    }
    pump();
  });
}

/** What {@link hashReceived} saw. */
export interface Received {
  /** SHA-256 hex of every byte received. */
  hash: string;
  /** Bytes received. */
  bytes: number;
  /** True when the peer ended its stream cleanly ('end') before the close. */
  ended: boolean;
  /** The error code, if the connection ended with an error. */
  errorCode?: string;
}

/** Hashes everything received until the connection closes; never rejects. */
export function hashReceived(socket: Socket): Promise<Received> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let ended = false;
    let errorCode: string | undefined;
    socket.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      errorCode = e.code ?? e.message;
    });
    socket.once('end', () => {
      ended = true;
      socket.end();
    });
    socket.once('close', () => resolve({ hash: hash.digest('hex'), bytes, ended, errorCode }));
  });
}

/** A client that keeps what it received and answers the proxy's end with its own. */
export class EchoClient {
  received = '';
  sent = '';
  ended = false;
  errorCode: string | undefined;
  readonly closed: Promise<void>;

  constructor(readonly socket: TLSSocket) {
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      this.received += c;
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.errorCode = e.code ?? e.message;
    });
    socket.once('end', () => {
      this.ended = true;
      socket.end();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** Sends a line and waits until everything sent so far has come back. */
  async roundTrip(line: string): Promise<void> {
    this.sent += line;
    this.socket.write(line);
    await until(
      () => this.received === this.sent || this.socket.destroyed,
      `echo of ${JSON.stringify(line)}`,
    );
    assert.equal(this.received, this.sent);
  }
}

/** Collects what a socket receives; `line()` waits for the next newline-terminated line. */
export function lineReader(socket: Socket) {
  let buffered = '';
  let wake: (() => void) | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => {
    buffered += c;
    wake?.();
  });
  socket.on('close', () => wake?.());
  return {
    async line(): Promise<string> {
      for (;;) {
        const end = buffered.indexOf('\n');
        if (end >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 1);
          return line;
        }
        if (socket.destroyed) throw new Error(`closed before a line; had ${JSON.stringify(buffered)}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
}
