/** Real clients for integration tests: plain TCP and mutual TLS, with helpers to read whole replies. */
import { connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { PemPair } from '../../src/cli/certs/dev-authority.js';

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

/** Opens a plain TCP connection. */
export function connectTcp(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, allowHalfOpen: true });
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

/** Connects over plain TCP and GETs, returning the upstream's name. */
export async function tcpGet(port: number, host = '127.0.0.1'): Promise<string> {
  return httpGet(await connectTcp(port, host));
}

/** Resolves once `predicate` holds, checking on every turn of the event loop, up to `maxTurns` checks. */
export async function until(predicate: () => boolean, what: string, maxTurns = 20_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, i < 100 ? 0 : 5));
  }
  throw new Error(`timed out waiting for: ${what}`);
}
