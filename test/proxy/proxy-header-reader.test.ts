import assert from 'node:assert/strict';
import { SocketAddress } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ErrorCodes } from '../../src/lib/errors.js';
import {
  type ProxiedConnection,
  type ProxiedTls,
  proxyHeaderV1,
  proxyHeaderV2,
} from '../../src/proxy/proxy-header.js';
import {
  type AcceptedProxyVersions,
  type ProxyHeaderRead,
  readProxyHeader,
  V1_MAX_BYTES,
  V2_MAX_BYTES,
} from '../../src/proxy/proxy-header-reader.js';

const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

const ipv4 = fc.ipV4();
// fast-check writes IPv6 in many spellings; the reader answers in the one Node's sockets report
// (libuv's, which writes ::1:0 as ::0.1.0.0), so a client is keyed alike with or without a header
const ipv6 = fc.ipV6().map((address) => new SocketAddress({ address, family: 'ipv6' }).address);
const port = fc.integer({ min: 0, max: 65535 });
const connectionOf = (address: fc.Arbitrary<string>) =>
  fc.record({ sourceAddress: address, sourcePort: port, destinationAddress: address, destinationPort: port });
const connection: fc.Arbitrary<ProxiedConnection> = fc.oneof(connectionOf(ipv4), connectionOf(ipv6));
const tls: fc.Arbitrary<ProxiedTls> = fc.record({
  version: fc.constantFrom('TLSv1.2', 'TLSv1.3'),
  clientCn: fc.string({ minLength: 1, maxLength: 64 }),
  certOnThisConnection: fc.boolean(),
});

function complete(read: ProxyHeaderRead) {
  assert.equal(read.state, 'complete', JSON.stringify(read));
  return (read as Extract<ProxyHeaderRead, { state: 'complete' }>).header;
}

function refusedWith(read: ProxyHeaderRead, code: string): void {
  assert.equal(read.state, 'refused', JSON.stringify(read));
  assert.equal((read as Extract<ProxyHeaderRead, { state: 'refused' }>).code, code);
}

function v2(command: number, family: number, body: Buffer): Buffer {
  const head = Buffer.alloc(16);
  SIGNATURE.copy(head);
  head[12] = command;
  head[13] = family;
  head.writeUInt16BE(body.length, 14);
  return Buffer.concat([head, body]);
}

describe('PROXY protocol reader: what the writer writes, it reads back', () => {
  it('v1: parse(write(x)) = x, with the client bytes after it left alone', () => {
    fc.assert(
      fc.property(connection, fc.uint8Array({ maxLength: 64 }), (c, after) => {
        const header = proxyHeaderV1(c);
        const header1 = complete(readProxyHeader(Buffer.concat([header, after]), 'v1'));
        assert.equal(header1.version, 1);
        assert.equal(header1.length, header.length);
        assert.deepEqual(header1.connection, { ...c });
      }),
    );
  });

  it('v2: parse(write(x)) = x, with the TLS block', () => {
    fc.assert(
      fc.property(connection, fc.option(tls, { nil: undefined }), (c, t) => {
        const header = proxyHeaderV2(c, t);
        const read = complete(readProxyHeader(header, 'v2'));
        assert.equal(read.version, 2);
        assert.equal(read.length, header.length);
        assert.deepEqual(read.connection, { ...c });
        assert.deepEqual(read.tls, t === undefined ? undefined : { ...t });
      }),
    );
  });

  it('`any` reads both versions', () => {
    fc.assert(
      fc.property(connection, fc.boolean(), (c, useV1) => {
        const header = useV1 ? proxyHeaderV1(c) : proxyHeaderV2(c);
        assert.deepEqual(complete(readProxyHeader(header, 'any')).connection, { ...c });
      }),
    );
  });

  it('every proper prefix of a header is partial: a header split anywhere waits for the rest', () => {
    fc.assert(
      fc.property(connection, fc.boolean(), fc.nat(), (c, useV1, cut) => {
        const header = useV1 ? proxyHeaderV1(c) : proxyHeaderV2(c);
        const prefix = header.subarray(0, cut % header.length);
        assert.equal(readProxyHeader(prefix, 'any').state, 'partial');
      }),
    );
  });
});

describe('PROXY protocol reader: bad input', () => {
  const versions: AcceptedProxyVersions[] = ['v1', 'v2', 'any'];

  it('random bytes never throw, and a refusal always has one of the PROXY codes', () => {
    const codes = new Set<string>([
      ErrorCodes.ERR_PROXY_HEADER_MISSING,
      ErrorCodes.ERR_PROXY_HEADER_INVALID,
      ErrorCodes.ERR_PROXY_HEADER_TOO_LARGE,
    ]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.constantFrom(...versions), (bytes, accepted) => {
        const read = readProxyHeader(Buffer.from(bytes), accepted);
        if (read.state === 'refused') assert.ok(codes.has(read.code), read.code);
        if (read.state === 'complete') assert.ok(read.header.length <= bytes.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes after a valid signature or prefix never throw, and never read past what arrived', () => {
    const start = fc.constantFrom(
      SIGNATURE,
      Buffer.from('PROXY ', 'latin1'),
      Buffer.from('PROXY TCP4 ', 'latin1'),
    );
    fc.assert(
      fc.property(start, fc.uint8Array({ maxLength: 400 }), (head, tail) => {
        const data = Buffer.concat([head, tail]);
        const read = readProxyHeader(data, 'any');
        if (read.state === 'complete') assert.ok(read.header.length <= data.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('a written header with one byte changed never throws', () => {
    fc.assert(
      fc.property(
        connection,
        tls,
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (c, t, useV1, at, flip) => {
          const header = Buffer.from(useV1 ? proxyHeaderV1(c) : proxyHeaderV2(c, t));
          header[at % header.length] ^= flip;
          const read = readProxyHeader(header, 'any');
          assert.ok(['partial', 'complete', 'refused'].includes(read.state));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('what is not a header at all is missing: TLS, HTTP, SSLv2, a scanner', () => {
    const clientHello = Buffer.from('160301020001', 'hex');
    const sslv2 = Buffer.from('802b0103010012', 'hex');
    for (const data of [clientHello, sslv2, Buffer.from('GET / HTTP/1.1\r\n'), Buffer.from('\x00\x00')]) {
      refusedWith(readProxyHeader(data, 'any'), ErrorCodes.ERR_PROXY_HEADER_MISSING);
    }
  });

  it('the other version than the listener takes is invalid, with the reason', () => {
    const c = {
      sourceAddress: '10.0.0.1',
      sourcePort: 1,
      destinationAddress: '10.0.0.2',
      destinationPort: 2,
    };
    refusedWith(readProxyHeader(proxyHeaderV1(c), 'v2'), ErrorCodes.ERR_PROXY_HEADER_INVALID);
    refusedWith(readProxyHeader(proxyHeaderV2(c), 'v1'), ErrorCodes.ERR_PROXY_HEADER_INVALID);
  });

  it('v1: a line past 107 bytes, bad ports, bad addresses, a bare LF are invalid', () => {
    const long = Buffer.from(`PROXY TCP4 ${'1'.repeat(V1_MAX_BYTES)}`, 'latin1');
    refusedWith(readProxyHeader(long, 'v1'), ErrorCodes.ERR_PROXY_HEADER_INVALID);
    for (const line of [
      'PROXY TCP4 1.2.3.4 5.6.7.8 65536 80\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 080 80\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 -1 80\r\n',
      'PROXY TCP4 ::1 5.6.7.8 1 80\r\n',
      'PROXY TCP6 1.2.3.4 ::1 1 80\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n',
      'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n',
      'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n',
    ]) {
      refusedWith(readProxyHeader(Buffer.from(line, 'latin1'), 'v1'), ErrorCodes.ERR_PROXY_HEADER_INVALID);
    }
  });

  it('v1 UNKNOWN and v2 LOCAL, UNSPEC and Unix carry no addresses: the connection keeps its own', () => {
    const unknown = complete(readProxyHeader(Buffer.from('PROXY UNKNOWN whatever\r\nrest'), 'v1'));
    assert.equal(unknown.connection, undefined);
    assert.equal(unknown.length, 'PROXY UNKNOWN whatever\r\n'.length);
    const ipv4Block = Buffer.from([10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2]);
    assert.equal(complete(readProxyHeader(v2(0x20, 0x11, ipv4Block), 'v2')).connection, undefined);
    // LOCAL discards the family and its block, whatever they say
    assert.equal(complete(readProxyHeader(v2(0x20, 0x11, Buffer.alloc(0)), 'v2')).length, 16);
    assert.equal(complete(readProxyHeader(v2(0x21, 0x00, Buffer.alloc(0)), 'v2')).connection, undefined);
    assert.equal(complete(readProxyHeader(v2(0x21, 0x31, Buffer.alloc(216)), 'v2')).connection, undefined);
    // UDP over IPv4 still names the client
    assert.equal(
      complete(readProxyHeader(v2(0x21, 0x12, ipv4Block), 'v2')).connection?.sourceAddress,
      '10.0.0.1',
    );
  });

  it('v2: an undefined version, command or family, a short address block, or an overrunning TLV is invalid', () => {
    const ipv4Block = Buffer.from([10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2]);
    refusedWith(readProxyHeader(v2(0x11, 0x11, ipv4Block), 'v2'), ErrorCodes.ERR_PROXY_HEADER_INVALID);
    refusedWith(readProxyHeader(v2(0x22, 0x11, ipv4Block), 'v2'), ErrorCodes.ERR_PROXY_HEADER_INVALID);
    refusedWith(readProxyHeader(v2(0x21, 0x41, ipv4Block), 'v2'), ErrorCodes.ERR_PROXY_HEADER_INVALID);
    refusedWith(readProxyHeader(v2(0x21, 0x21, ipv4Block), 'v2'), ErrorCodes.ERR_PROXY_HEADER_INVALID);
    const overrun = Buffer.concat([ipv4Block, Buffer.from([0x20, 0x00, 0x09, 0x01])]);
    refusedWith(readProxyHeader(v2(0x21, 0x11, overrun), 'v2'), ErrorCodes.ERR_PROXY_HEADER_INVALID);
  });

  it('v2: a header longer than the bound is refused from its first 16 bytes, before the rest arrives', () => {
    const head = v2(0x21, 0x11, Buffer.alloc(0));
    head.writeUInt16BE(V2_MAX_BYTES, 14);
    refusedWith(readProxyHeader(head, 'v2'), ErrorCodes.ERR_PROXY_HEADER_TOO_LARGE);
  });

  it('v2: TLVs other than the TLS block are skipped', () => {
    const ipv4Block = Buffer.from([10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2]);
    const awsVpce = Buffer.from([0xea, 0x00, 0x04, 0x01, 0x61, 0x62, 0x63]);
    const read = complete(readProxyHeader(v2(0x21, 0x11, Buffer.concat([ipv4Block, awsVpce])), 'v2'));
    assert.equal(read.connection?.destinationPort, 2);
    assert.equal(read.tls, undefined);
  });
});
