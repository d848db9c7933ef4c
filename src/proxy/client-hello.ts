import { type ErrorCode, ErrorCodes } from '../lib/errors.js';

/**
 * Reading a TLS ClientHello from the first bytes of a connection without terminating TLS (RFC 8446
 * §4.1.2, §5.1; RFC 6066 §3 server_name; RFC 7301 ALPN), for a listener that routes by SNI and then
 * passes every byte on untouched. A pure function over the bytes received so far: the caller
 * calls it again with more until it is no longer `partial`.
 *
 * Strict on purpose: what it accepts is what every TLS server would parse the same way, so a
 * client cannot make the balancer route by one name and the upstream serve another. Every length
 * is checked against its container before it is read; nothing here throws on any input.
 */

/** The most bytes read (records with their headers) to find a ClientHello; real ones are 0.2-2 KiB. */
export const CLIENT_HELLO_MAX_BYTES = 16 * 1024;

/** How reading the hello stands after the bytes given. */
export type ClientHelloRead =
  | { state: 'partial' }
  | {
      state: 'complete';
      /** The server_name (host_name) in lower case; undefined when the client sent none. */
      serverName: string | undefined;
      /** The ALPN protocol names the client offered, in its order; empty without the extension. */
      alpn: string[];
      /** Bytes of records the hello took (what was read to know it; all of it goes upstream). */
      length: number;
    }
  | { state: 'refused'; code: ErrorCode; detail: string };

const RECORD_HEADER = 5;
const MAX_RECORD_PAYLOAD = 16 * 1024; // 2^14, RFC 8446 §5.1
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const NAME_TYPE_HOST = 0;

const PARTIAL: ClientHelloRead = { state: 'partial' };

function refused(code: ErrorCode, detail: string): ClientHelloRead {
  return { state: 'refused', code, detail };
}

function invalid(detail: string): ClientHelloRead {
  return refused(ErrorCodes.ERR_CLIENT_HELLO_INVALID, detail);
}

/** Reads the ClientHello at the start of `data` (everything the client sent so far). */
export function readClientHello(data: Buffer): ClientHelloRead {
  if (data.length === 0) return PARTIAL;
  const notTls = firstBytesRefusal(data);
  if (notTls !== undefined) return notTls;
  // The handshake message may span several records (each at most 2^14 bytes); gather its bytes.
  const parts: Buffer[] = [];
  let gathered = 0;
  let offset = 0;
  let messageLength = -1; // the whole handshake message, header included, once known
  for (;;) {
    if (offset + RECORD_HEADER > data.length) return partialWithin(data.length);
    const type = data[offset];
    const major = data[offset + 1];
    const minor = data[offset + 2];
    const length = data.readUInt16BE(offset + 3);
    if (type !== CONTENT_HANDSHAKE) {
      return invalid(`record of content type ${type} before the ClientHello was complete`);
    }
    if (major !== 3 || minor > 4) return invalid(`record version ${major}.${minor}`);
    if (length === 0 || length > MAX_RECORD_PAYLOAD) return invalid(`record length ${length}`);
    const end = offset + RECORD_HEADER + length;
    if (end > CLIENT_HELLO_MAX_BYTES) return tooLarge(`records run past ${CLIENT_HELLO_MAX_BYTES} bytes`);
    if (end > data.length) return partialWithin(data.length);
    parts.push(data.subarray(offset + RECORD_HEADER, end));
    gathered += length;
    offset = end;
    if (messageLength < 0 && gathered >= 4) {
      const head = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) {
        return invalid(`handshake message type ${head[0]} where a ClientHello (1) belongs`);
      }
      messageLength = 4 + head.readUIntBE(1, 3);
      // Each record carries at least one byte of it, so it cannot fit in the bound below this size.
      if (messageLength > CLIENT_HELLO_MAX_BYTES - RECORD_HEADER) {
        return tooLarge(`a ClientHello of ${messageLength} bytes`);
      }
    }
    if (messageLength >= 0 && gathered >= messageLength) {
      // Nothing else may share the hello's records: the client must wait for the server's answer.
      if (gathered > messageLength) return invalid(`${gathered - messageLength} bytes after the ClientHello`);
      const message = parts.length === 1 ? parts[0] : Buffer.concat(parts, gathered);
      return parseClientHello(message.subarray(4), offset);
    }
  }
}

/**
 * A first record that is no TLS handshake at all (an HTTP request, an SSLv2-style hello, noise),
 * judged on as few bytes as tell: the content type and the record version's major byte.
 */
function firstBytesRefusal(data: Buffer): ClientHelloRead | undefined {
  const first = data[0];
  if (first === CONTENT_HANDSHAKE) {
    if (data.length > 1 && data[1] !== 3)
      return refused(ErrorCodes.ERR_NOT_TLS, `record version major byte ${data[1]}`);
    return undefined;
  }
  let what: string;
  if ((first & 0x80) !== 0) what = 'an SSLv2-style hello (first byte has the high bit set)';
  else if (first >= 0x41 && first <= 0x5a) what = 'plain text (an HTTP request?)';
  else what = `first byte 0x${first.toString(16).padStart(2, '0')}`;
  return refused(ErrorCodes.ERR_NOT_TLS, `not a TLS handshake record: ${what}`);
}

function partialWithin(read: number): ClientHelloRead {
  return read >= CLIENT_HELLO_MAX_BYTES
    ? tooLarge(`no ClientHello within ${CLIENT_HELLO_MAX_BYTES} bytes`)
    : PARTIAL;
}

function tooLarge(detail: string): ClientHelloRead {
  return refused(ErrorCodes.ERR_CLIENT_HELLO_TOO_LARGE, detail);
}

/** A cursor over one ClientHello body; each read checks its bounds first and returns -1 past them. */
class Reader {
  readonly #buf: Buffer;
  pos: number;
  readonly end: number;

  constructor(buf: Buffer, pos: number, end: number) {
    this.#buf = buf;
    this.pos = pos;
    this.end = end;
  }

  get left(): number {
    return this.end - this.pos;
  }

  u8(): number {
    if (this.left < 1) return -1;
    return this.#buf[this.pos++];
  }

  u16(): number {
    if (this.left < 2) return -1;
    const v = this.#buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  /** A sub-reader of the next `n` bytes (which this one skips), or undefined when fewer are left. */
  take(n: number): Reader | undefined {
    if (n < 0 || this.left < n) return undefined;
    const sub = new Reader(this.#buf, this.pos, this.pos + n);
    this.pos += n;
    return sub;
  }

  /** The bytes from here to the end. */
  rest(): Buffer {
    return this.#buf.subarray(this.pos, this.end);
  }
}

/** The ClientHello body (after the handshake header): RFC 8446 §4.1.2 field by field. */
function parseClientHello(body: Buffer, recordBytes: number): ClientHelloRead {
  const r = new Reader(body, 0, body.length);
  const major = r.u8();
  r.u8();
  if (major !== 3) return invalid(`ClientHello version major byte ${major}`);
  if (r.take(32) === undefined) return invalid('ClientHello shorter than its random');
  const sessionIdLength = r.u8();
  if (sessionIdLength < 0 || sessionIdLength > 32 || r.take(sessionIdLength) === undefined) {
    return invalid('bad legacy_session_id');
  }
  const suitesLength = r.u16();
  if (suitesLength < 2 || suitesLength % 2 !== 0 || r.take(suitesLength) === undefined) {
    return invalid('bad cipher_suites');
  }
  const compressionLength = r.u8();
  if (compressionLength < 1 || r.take(compressionLength) === undefined) {
    return invalid('bad legacy_compression_methods');
  }
  let serverName: string | undefined;
  let alpn: string[] = [];
  // Extensions may be absent altogether (before TLS 1.3); otherwise they fill the body exactly.
  if (r.left > 0) {
    const extensionsLength = r.u16();
    if (extensionsLength < 0 || extensionsLength !== r.left) return invalid('bad extensions length');
    const seen = new Set<number>();
    while (r.left > 0) {
      const type = r.u16();
      const length = r.u16();
      const ext = r.take(length);
      if (type < 0 || length < 0 || ext === undefined) return invalid('extension runs past the ClientHello');
      // RFC 8446 §4.2: never two extensions of one type; which one would a server read?
      if (seen.has(type)) return invalid(`extension ${type} twice`);
      seen.add(type);
      if (type === EXT_SERVER_NAME) {
        const name = parseServerName(ext);
        if (typeof name !== 'string') return name;
        serverName = name;
      } else if (type === EXT_ALPN) {
        const protocols = parseAlpn(ext);
        if (!Array.isArray(protocols)) return protocols;
        alpn = protocols;
      }
    }
  }
  return { state: 'complete', serverName, alpn, length: recordBytes };
}

/**
 * server_name (RFC 6066 §3): a list with exactly one host_name, an ASCII DNS name without a
 * trailing dot. Other name types are skipped (none are defined).
 */
function parseServerName(ext: Reader): string | ClientHelloRead {
  const listLength = ext.u16();
  if (listLength < 1 || listLength !== ext.left) return invalid('bad server_name list length');
  let host: string | undefined;
  while (ext.left > 0) {
    const type = ext.u8();
    const length = ext.u16();
    const name = ext.take(length);
    if (type < 0 || length < 1 || name === undefined) return invalid('server_name entry runs past its list');
    if (type !== NAME_TYPE_HOST) continue;
    if (host !== undefined) return invalid('two host_name entries in server_name');
    const text = hostName(name.rest());
    if (text === undefined) return invalid('server_name is not a DNS host name');
    host = text;
  }
  if (host === undefined) return invalid('server_name without a host_name');
  return host;
}

/** A DNS name of letters, digits, hyphens and underscores in non-empty labels, lower-cased; else undefined. */
function hostName(bytes: Buffer): string | undefined {
  if (bytes.length > 253) return undefined;
  let labelLength = 0;
  for (const b of bytes) {
    if (b === 0x2e) {
      if (labelLength === 0) return undefined;
      labelLength = 0;
      continue;
    }
    const ok =
      (b >= 0x61 && b <= 0x7a) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x30 && b <= 0x39) ||
      b === 0x2d ||
      b === 0x5f;
    if (!ok || ++labelLength > 63) return undefined;
  }
  if (labelLength === 0) return undefined;
  return bytes.toString('latin1').toLowerCase();
}

/** application_layer_protocol_negotiation (RFC 7301 §3.1): a non-empty list of non-empty names. */
function parseAlpn(ext: Reader): string[] | ClientHelloRead {
  const listLength = ext.u16();
  if (listLength < 2 || listLength !== ext.left) return invalid('bad ALPN list length');
  const protocols: string[] = [];
  while (ext.left > 0) {
    const length = ext.u8();
    const name = ext.take(length);
    if (length < 1 || name === undefined) return invalid('ALPN protocol name runs past its list');
    protocols.push(name.rest().toString('latin1'));
  }
  return protocols;
}
