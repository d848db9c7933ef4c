import { isIPv4, isIPv6, SocketAddress } from 'node:net';
import { type ErrorCode, ErrorCodes } from '../lib/errors.js';
import type { ProxiedConnection, ProxiedTls } from './proxy-header.js';

/**
 * Reads the PROXY protocol header (HAProxy's specification, versions 1 and 2) that a load balancer
 * in front of us puts before the client's bytes, from the first bytes a connection sent. Written
 * from the specification, separately from the writer in `proxy-header.ts`; a pure function over a
 * buffer so every way a header can be cut or broken is testable without sockets.
 */

/** Which versions a listener takes (`listeners[].acceptProxyProtocol`, without `none`). */
export type AcceptedProxyVersions = 'v1' | 'v2' | 'any';

/** What a complete header said. */
export interface ProxyHeader {
  version: 1 | 2;
  /**
   * Both ends of the client's connection as the sending proxy saw them; undefined when the header
   * carries none (v1 `UNKNOWN`, v2 `LOCAL`, `UNSPEC` or a Unix socket), and then the connection's
   * own addresses stand, as the specification asks.
   */
  connection?: ProxiedConnection;
  /** v2 `PP2_TYPE_SSL`, when present with a CommonName: what the client's TLS was. */
  tls?: ProxiedTls;
  /** Bytes the header took; what follows is the client's. */
  length: number;
}

/** The outcome of reading the bytes received so far. */
export type ProxyHeaderRead =
  | { state: 'partial' }
  | { state: 'complete'; header: ProxyHeader }
  | { state: 'refused'; code: ErrorCode; detail: string };

/** The longest v1 line, CRLF included (the specification's 107). */
export const V1_MAX_BYTES = 107;
/**
 * The longest v2 header taken: 16 fixed bytes, a Unix address block (216) and room for TLVs. The
 * specification allows 64 KiB of TLVs; what real senders add (a TLS block, an AWS or GCP id) fits
 * in a few hundred bytes, and a bound keeps an untrusted peer from making us buffer more.
 */
export const V2_MAX_BYTES = 16 + 216 + 2048;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED_BYTES = 16;
const CR = 0x0d;
const LF = 0x0a;

const COMMAND_LOCAL = 0x0;
const COMMAND_PROXY = 0x1;
const FAMILY_INET = 0x1;
const FAMILY_INET6 = 0x2;
const FAMILY_UNIX = 0x3;
const TRANSPORT_UNSPEC = 0x0;
const TRANSPORT_DGRAM = 0x2;
const INET_BLOCK = 12;
const INET6_BLOCK = 36;
const UNIX_BLOCK = 216;

const PP2_TYPE_SSL = 0x20;
const PP2_SUBTYPE_SSL_VERSION = 0x21;
const PP2_SUBTYPE_SSL_CN = 0x22;
const PP2_CLIENT_CERT_CONN = 0x02;

const partial = { state: 'partial' } as const;

function refused(code: ErrorCode, detail: string): ProxyHeaderRead {
  return { state: 'refused', code, detail };
}

/** True when `data` so far agrees with `prefix` (it may be shorter than it). */
function startsLike(data: Buffer, prefix: Buffer): boolean {
  const n = Math.min(data.length, prefix.length);
  return data.subarray(0, n).equals(prefix.subarray(0, n));
}

/**
 * Reads a header at the start of `data`: `partial` while what came so far can still become one
 * (the caller waits for more, within its own byte and time bounds), `complete` with what it said,
 * or `refused` with the reason: `ERR_PROXY_HEADER_MISSING` when the bytes are not a header of an
 * accepted version at all, `ERR_PROXY_HEADER_INVALID` when they start one and break its rules.
 */
export function readProxyHeader(data: Buffer, accepted: AcceptedProxyVersions): ProxyHeaderRead {
  if (data.length === 0) return partial;
  const v1 = accepted !== 'v2' && startsLike(data, V1_PREFIX);
  const v2 = accepted !== 'v1' && startsLike(data, V2_SIGNATURE);
  if (v1) return data.length < V1_PREFIX.length ? partial : readV1(data);
  if (v2) return data.length < V2_FIXED_BYTES ? partial : readV2(data);
  const other = accepted === 'v1' ? startsLike(data, V2_SIGNATURE) : startsLike(data, V1_PREFIX);
  if (other) {
    return refused(
      ErrorCodes.ERR_PROXY_HEADER_INVALID,
      `a PROXY protocol ${accepted === 'v1' ? 'v2' : 'v1'} header where only ${accepted} is accepted`,
    );
  }
  return refused(
    ErrorCodes.ERR_PROXY_HEADER_MISSING,
    'the connection did not start with a PROXY protocol header',
  );
}

function readV1(data: Buffer): ProxyHeaderRead {
  const scan = Math.min(data.length, V1_MAX_BYTES);
  let lf = -1;
  for (let i = V1_PREFIX.length; i < scan; i++) {
    if (data[i] === LF) {
      lf = i;
      break;
    }
  }
  if (lf === -1) {
    if (data.length >= V1_MAX_BYTES) {
      return refused(ErrorCodes.ERR_PROXY_HEADER_INVALID, `v1 header longer than ${V1_MAX_BYTES} bytes`);
    }
    return partial;
  }
  if (data[lf - 1] !== CR) return refused(ErrorCodes.ERR_PROXY_HEADER_INVALID, 'v1 line not ended by CRLF');
  const length = lf + 1;
  const line = data.toString('latin1', V1_PREFIX.length, lf - 1);
  const fields = line.split(' ');
  if (fields[0] === 'UNKNOWN') {
    // whatever follows UNKNOWN is to be ignored, by the specification
    return { state: 'complete', header: { version: 1, length } };
  }
  if (fields.length !== 5) {
    return refused(
      ErrorCodes.ERR_PROXY_HEADER_INVALID,
      'v1 line needs a protocol, two addresses and two ports',
    );
  }
  const [protocol, source, destination, sourcePort, destinationPort] = fields;
  const isFamily = protocol === 'TCP4' ? isIPv4 : protocol === 'TCP6' ? isIPv6 : undefined;
  if (isFamily === undefined) {
    return refused(ErrorCodes.ERR_PROXY_HEADER_INVALID, `v1 protocol must be TCP4, TCP6 or UNKNOWN`);
  }
  if (!isFamily(source) || !isFamily(destination)) {
    return refused(ErrorCodes.ERR_PROXY_HEADER_INVALID, `v1 addresses are not ${protocol} addresses`);
  }
  const sport = v1Port(sourcePort);
  const dport = v1Port(destinationPort);
  if (sport === undefined || dport === undefined) {
    return refused(ErrorCodes.ERR_PROXY_HEADER_INVALID, 'v1 ports must be decimal numbers from 0 to 65535');
  }
  const family = protocol === 'TCP4' ? 'ipv4' : 'ipv6';
  return {
    state: 'complete',
    header: {
      version: 1,
      length,
      connection: {
        sourceAddress: canonical(source, family),
        sourcePort: sport,
        destinationAddress: canonical(destination, family),
        destinationPort: dport,
      },
    },
  };
}

function v1Port(text: string): number | undefined {
  // plain decimal, no sign, no leading zero but for 0 itself
  if (!/^(0|[1-9][0-9]{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/** An address in its one canonical text (IPv6 compressed, lower case), so limits and logs key on one spelling. */
function canonical(address: string, family: 'ipv4' | 'ipv6'): string {
  return new SocketAddress({ address, family }).address;
}

function readV2(data: Buffer): ProxyHeaderRead {
  const versionCommand = data[12];
  if (versionCommand >> 4 !== 2) {
    return refused(ErrorCodes.ERR_PROXY_HEADER_INVALID, `v2 version nibble is ${versionCommand >> 4}, not 2`);
  }
  const command = versionCommand & 0x0f;
  if (command !== COMMAND_LOCAL && command !== COMMAND_PROXY) {
    return refused(ErrorCodes.ERR_PROXY_HEADER_INVALID, `v2 command ${command} is neither LOCAL nor PROXY`);
  }
  const familyByte = data[13];
  const family = familyByte >> 4;
  const transport = familyByte & 0x0f;
  if (family > FAMILY_UNIX || transport > TRANSPORT_DGRAM) {
    return refused(
      ErrorCodes.ERR_PROXY_HEADER_INVALID,
      `v2 address family byte 0x${familyByte.toString(16)} is not defined`,
    );
  }
  const bodyLength = data.readUInt16BE(14);
  const length = V2_FIXED_BYTES + bodyLength;
  if (length > V2_MAX_BYTES) {
    return refused(
      ErrorCodes.ERR_PROXY_HEADER_TOO_LARGE,
      `v2 header of ${length} bytes; at most ${V2_MAX_BYTES} are taken`,
    );
  }
  if (data.length < length) return partial;
  const body = data.subarray(V2_FIXED_BYTES, length);
  // LOCAL (the sending proxy's own connection, e.g. its health check) has its family and address
  // block discarded, by the specification: the connection's own endpoints stand
  if (command === COMMAND_LOCAL) return { state: 'complete', header: { version: 2, length } };
  const blockLength =
    family === FAMILY_INET
      ? INET_BLOCK
      : family === FAMILY_INET6
        ? INET6_BLOCK
        : family === FAMILY_UNIX
          ? UNIX_BLOCK
          : 0;
  if (body.length < blockLength) {
    return refused(
      ErrorCodes.ERR_PROXY_HEADER_INVALID,
      `v2 address block needs ${blockLength} bytes, the header has ${body.length}`,
    );
  }
  const tls = readTlvs(body.subarray(blockLength));
  if (tls === null) return refused(ErrorCodes.ERR_PROXY_HEADER_INVALID, 'v2 TLVs overrun the header');
  const header: ProxyHeader = { version: 2, length };
  if (tls !== undefined) header.tls = tls;
  // UNSPEC and Unix sockets: the connection's addresses stand
  const carriesAddresses =
    transport !== TRANSPORT_UNSPEC && (family === FAMILY_INET || family === FAMILY_INET6);
  if (carriesAddresses) {
    header.connection =
      family === FAMILY_INET
        ? {
            sourceAddress: ipv4Text(body, 0),
            destinationAddress: ipv4Text(body, 4),
            sourcePort: body.readUInt16BE(8),
            destinationPort: body.readUInt16BE(10),
          }
        : {
            sourceAddress: ipv6Text(body, 0),
            destinationAddress: ipv6Text(body, 16),
            sourcePort: body.readUInt16BE(32),
            destinationPort: body.readUInt16BE(34),
          };
  }
  return { state: 'complete', header };
}

function ipv4Text(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function ipv6Text(b: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(at + i).toString(16));
  return canonical(groups.join(':'), 'ipv6');
}

/** The type-length-value entries of `data` from `at`, or null when one runs past its end. */
function tlvList(data: Buffer, at: number): { type: number; value: Buffer }[] | null {
  const list: { type: number; value: Buffer }[] = [];
  while (at < data.length) {
    if (at + 3 > data.length) return null;
    const length = data.readUInt16BE(at + 1);
    const value = data.subarray(at + 3, at + 3 + length);
    if (value.length !== length) return null;
    list.push({ type: data[at], value });
    at += 3 + length;
  }
  return list;
}

/**
 * Reads the TLVs after the address block: null when one runs past the end, else the `PP2_TYPE_SSL`
 * block's facts when it names a CommonName (other types are skipped, as the specification allows).
 */
function readTlvs(tlvs: Buffer): ProxiedTls | undefined | null {
  const list = tlvList(tlvs, 0);
  if (list === null) return null;
  let tls: ProxiedTls | undefined;
  for (const { type, value } of list) {
    if (type !== PP2_TYPE_SSL) continue;
    const ssl = readSsl(value);
    if (ssl === null) return null;
    tls = ssl;
  }
  return tls;
}

function readSsl(value: Buffer): ProxiedTls | undefined | null {
  // client flags (1 byte) and verify result (4 bytes), then sub-TLVs
  if (value.length < 5) return null;
  const subs = tlvList(value, 5);
  if (subs === null) return null;
  let version: string | undefined;
  let cn: string | undefined;
  for (const { type, value: sub } of subs) {
    if (type === PP2_SUBTYPE_SSL_VERSION) version = sub.toString('latin1');
    else if (type === PP2_SUBTYPE_SSL_CN) cn = sub.toString('utf8');
  }
  if (cn === undefined) return undefined;
  return {
    version: version ?? '',
    clientCn: cn,
    certOnThisConnection: (value[0] & PP2_CLIENT_CERT_CONN) !== 0,
  };
}
