import { isIPv4, isIPv6 } from 'node:net';
import type { ProxyProtocolVersion } from '../lib/proxy-protocol.js';

/**
 * The PROXY protocol header (HAProxy's specification, versions 1 and 2) that tells an upstream who
 * the client is: the upstream sees the balancer's address on its socket, and reads the client's
 * address, and in version 2 the client certificate's CommonName, from this header instead.
 */

export type { ProxyProtocolVersion } from '../lib/proxy-protocol.js';

/** Both ends of the client's connection to the balancer, as the sockets report them. */
export interface ProxiedConnection {
  /** The client's address. */
  sourceAddress: string;
  sourcePort: number;
  /** The balancer's address the client connected to. */
  destinationAddress: string;
  destinationPort: number;
}

/** What a mutual TLS handshake established, for version 2's `PP2_TYPE_SSL` block. */
export interface ProxiedTls {
  /** Negotiated protocol, e.g. `TLSv1.3`. */
  version: string;
  /** The client certificate's CommonName (the client id). */
  clientCn: string;
  /** True when the certificate was presented on this connection, false when its session was resumed. */
  certOnThisConnection: boolean;
}

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_PROXY_COMMAND = 0x21;
const AF_UNSPEC = 0x00;
const TCP_OVER_IPV4 = 0x11;
const TCP_OVER_IPV6 = 0x21;
const PP2_TYPE_SSL = 0x20;
const PP2_SUBTYPE_SSL_VERSION = 0x21;
const PP2_SUBTYPE_SSL_CN = 0x22;
const PP2_CLIENT_SSL = 0x01;
const PP2_CLIENT_CERT_CONN = 0x02;
const PP2_CLIENT_CERT_SESS = 0x04;
const MAPPED_PREFIX = '::ffff:';

type Family = 'ipv4' | 'ipv6' | 'unknown';

/**
 * Both addresses in one family, as the header needs them: IPv4-mapped IPv6 addresses (what a
 * dual-stack listener reports for IPv4 clients) become IPv4 when both are, and a plain IPv4
 * address next to an IPv6 one is written mapped. `unknown` when either is not an IP address.
 */
function sameFamily(c: ProxiedConnection): { family: Family; source: string; destination: string } {
  let source = c.sourceAddress;
  let destination = c.destinationAddress;
  const unmap = (a: string) =>
    a.toLowerCase().startsWith(MAPPED_PREFIX) && isIPv4(a.slice(7)) ? a.slice(7) : a;
  if (isIPv4(unmap(source)) && isIPv4(unmap(destination))) {
    return { family: 'ipv4', source: unmap(source), destination: unmap(destination) };
  }
  if (isIPv4(source)) source = MAPPED_PREFIX + source;
  if (isIPv4(destination)) destination = MAPPED_PREFIX + destination;
  if (isIPv6(source) && isIPv6(destination)) return { family: 'ipv6', source, destination };
  return { family: 'unknown', source, destination };
}

/** The version 1 (text) header: `PROXY TCP4 <src> <dst> <sport> <dport>\r\n`. */
export function proxyHeaderV1(c: ProxiedConnection): Buffer {
  const { family, source, destination } = sameFamily(c);
  if (family === 'unknown') return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  const proto = family === 'ipv4' ? 'TCP4' : 'TCP6';
  return Buffer.from(
    `PROXY ${proto} ${source} ${destination} ${c.sourcePort} ${c.destinationPort}\r\n`,
    'latin1',
  );
}

/** The 16 bytes of an IPv6 address in any textual form node accepts. */
function ipv6Bytes(address: string): Buffer {
  // expand `::` into the missing zero groups, and a trailing dotted IPv4 part into two groups
  let text = address;
  const dotted = text.lastIndexOf(':');
  const tail = text.slice(dotted + 1);
  if (isIPv4(tail)) {
    const [a, b, c, d] = tail.split('.').map(Number);
    text = `${text.slice(0, dotted + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...new Array<string>(zeros).fill('0'), ...restGroups];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(Number.parseInt(groups[i], 16), 2 * i);
  return out;
}

function tlv(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
}

/** `PP2_TYPE_SSL`: the client used TLS with a verified certificate, its version and CommonName. */
function sslTlv(tls: ProxiedTls): Buffer {
  const fixed = Buffer.alloc(5);
  fixed[0] = PP2_CLIENT_SSL | PP2_CLIENT_CERT_SESS | (tls.certOnThisConnection ? PP2_CLIENT_CERT_CONN : 0);
  // verify = 0: the certificate was verified (the handshake fails otherwise)
  fixed.writeUInt32BE(0, 1);
  return tlv(
    PP2_TYPE_SSL,
    Buffer.concat([
      fixed,
      tlv(PP2_SUBTYPE_SSL_VERSION, Buffer.from(tls.version, 'latin1')),
      tlv(PP2_SUBTYPE_SSL_CN, Buffer.from(tls.clientCn, 'utf8')),
    ]),
  );
}

/**
 * The version 2 (binary) header: signature, PROXY command, TCP over IPv4 or IPv6 (or UNSPEC with
 * no addresses when either end is not an IP address), the addresses and ports, then a
 * `PP2_TYPE_SSL` block when the client came over TLS.
 */
export function proxyHeaderV2(c: ProxiedConnection, tls?: ProxiedTls): Buffer {
  const { family, source, destination } = sameFamily(c);
  let addresses: Buffer;
  let familyByte: number;
  if (family === 'unknown') {
    addresses = Buffer.alloc(0);
    familyByte = AF_UNSPEC;
  } else {
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(c.sourcePort, 0);
    ports.writeUInt16BE(c.destinationPort, 2);
    const bytes =
      family === 'ipv4' ? (a: string) => Buffer.from(a.split('.').map(Number)) : (a: string) => ipv6Bytes(a);
    addresses = Buffer.concat([bytes(source), bytes(destination), ports]);
    familyByte = family === 'ipv4' ? TCP_OVER_IPV4 : TCP_OVER_IPV6;
  }
  const body = tls === undefined ? addresses : Buffer.concat([addresses, sslTlv(tls)]);
  const head = Buffer.alloc(16);
  V2_SIGNATURE.copy(head, 0);
  head[12] = V2_PROXY_COMMAND;
  head[13] = familyByte;
  head.writeUInt16BE(body.length, 14);
  return Buffer.concat([head, body]);
}

/** The header of `version` for a connection, or undefined for `none`. */
export function proxyHeader(
  version: ProxyProtocolVersion,
  c: ProxiedConnection,
  tls?: ProxiedTls,
): Buffer | undefined {
  if (version === 'v1') return proxyHeaderV1(c);
  if (version === 'v2') return proxyHeaderV2(c, tls);
  return undefined;
}
