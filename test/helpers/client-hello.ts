/**
 * Builds TLS ClientHellos byte by byte (RFC 8446 §4.1.2, RFC 6066 §3, RFC 7301), as records of any
 * size, and captures the real first bytes Node's TLS client sends, for the passthrough tests.
 */
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';

/** What a built ClientHello says; what the reader must give back. */
export interface HelloSpec {
  serverName?: string;
  alpn?: string[];
  sessionId?: Uint8Array;
  cipherSuites?: number[];
  /** Other extensions (type, body), placed among server_name and ALPN at `namePosition`/`alpnPosition`. */
  otherExtensions?: { type: number; body: Uint8Array }[];
  /** Where among the other extensions server_name goes (index, clamped). */
  namePosition?: number;
  /** Where among the other extensions ALPN goes (index, clamped). */
  alpnPosition?: number;
  /** Leave the extensions block out altogether (allowed before TLS 1.3) when there are none. */
  noExtensionsBlock?: boolean;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function vec8(body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([body.length]), body]);
}

function vec16(body: Buffer): Buffer {
  return Buffer.concat([u16(body.length), body]);
}

function extension(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), vec16(body)]);
}

/** The server_name extension's body with one host_name. */
export function serverNameBody(name: string): Buffer {
  return vec16(Buffer.concat([Buffer.from([0]), vec16(Buffer.from(name, 'latin1'))]));
}

/** The ALPN extension's body. */
export function alpnBody(protocols: string[]): Buffer {
  return vec16(Buffer.concat(protocols.map((p) => vec8(Buffer.from(p, 'latin1')))));
}

/** The handshake message (type 1, 24-bit length, body) of a ClientHello. */
export function clientHelloMessage(spec: HelloSpec): Buffer {
  const extensions: Buffer[] = (spec.otherExtensions ?? []).map((e) =>
    extension(e.type, Buffer.from(e.body)),
  );
  const place = (at: number | undefined, ext: Buffer) =>
    extensions.splice(Math.min(at ?? extensions.length, extensions.length), 0, ext);
  if (spec.serverName !== undefined) place(spec.namePosition, extension(0, serverNameBody(spec.serverName)));
  if (spec.alpn !== undefined) place(spec.alpnPosition, extension(16, alpnBody(spec.alpn)));
  const suites = spec.cipherSuites ?? [0x1301, 0x1302, 0xc02f];
  const parts = [
    Buffer.from([3, 3]),
    Buffer.alloc(32, 7),
    vec8(Buffer.from(spec.sessionId ?? new Uint8Array(32))),
    vec16(Buffer.concat(suites.map(u16))),
    vec8(Buffer.from([0])),
  ];
  if (!(spec.noExtensionsBlock === true && extensions.length === 0))
    parts.push(vec16(Buffer.concat(extensions)));
  const body = Buffer.concat(parts);
  const head = Buffer.from([1, 0, 0, 0]);
  head.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([head, body]);
}

/** `message` in handshake records of at most `recordSize` bytes of payload each. */
export function inRecords(message: Buffer, recordSize = 16384): Buffer {
  const records: Buffer[] = [];
  for (let at = 0; at < message.length; at += recordSize) {
    const payload = message.subarray(at, at + recordSize);
    records.push(Buffer.from([22, 3, 1]), u16(payload.length), payload);
  }
  return Buffer.concat(records);
}

/** A ClientHello as one would arrive: in one record. */
export function clientHello(spec: HelloSpec): Buffer {
  return inRecords(clientHelloMessage(spec));
}

/**
 * The first bytes a real Node TLS client sends (its ClientHello, whole), captured by a plain TCP
 * server that never answers.
 */
export async function captureClientHello(options: ConnectionOptions): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = tlsConnect({ ...options, host: '127.0.0.1', port });
  client.on('error', () => {});
  const [socket] = await accepted;
  let bytes = Buffer.alloc(0);
  // The record header says how long the hello is; wait for all of it.
  for (;;) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    bytes = Buffer.concat([bytes, chunk]);
    if (bytes.length >= 5 && bytes.length >= 5 + bytes.readUInt16BE(3)) break;
  }
  client.destroy();
  socket.destroy();
  server.close();
  return bytes;
}
