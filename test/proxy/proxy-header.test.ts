import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { proxyHeader, proxyHeaderV1, proxyHeaderV2 } from '../../src/proxy/proxy-header.js';
import { parseProxyHeader } from '../helpers/proxy-protocol.js';

const v4 = {
  sourceAddress: '127.0.0.2',
  sourcePort: 51000,
  destinationAddress: '127.0.0.1',
  destinationPort: 8443,
};

describe('PROXY protocol header', () => {
  it('writes version 1 for IPv4, IPv6, mapped and mixed addresses', () => {
    assert.equal(proxyHeaderV1(v4).toString(), 'PROXY TCP4 127.0.0.2 127.0.0.1 51000 8443\r\n');
    assert.equal(
      proxyHeaderV1({
        ...v4,
        sourceAddress: '::ffff:127.0.0.2',
        destinationAddress: '::ffff:127.0.0.1',
      }).toString(),
      'PROXY TCP4 127.0.0.2 127.0.0.1 51000 8443\r\n',
      'a dual-stack listener reports IPv4 clients mapped; the header names them as IPv4',
    );
    assert.equal(
      proxyHeaderV1({ ...v4, sourceAddress: '2001:db8::7', destinationAddress: '::1' }).toString(),
      'PROXY TCP6 2001:db8::7 ::1 51000 8443\r\n',
    );
    assert.equal(
      proxyHeaderV1({ ...v4, destinationAddress: '::1' }).toString(),
      'PROXY TCP6 ::ffff:127.0.0.2 ::1 51000 8443\r\n',
    );
    assert.equal(proxyHeaderV1({ ...v4, sourceAddress: '' }).toString(), 'PROXY UNKNOWN\r\n');
  });

  it('writes version 2 for IPv4 byte for byte', () => {
    assert.equal(
      proxyHeaderV2(v4).toString('hex'),
      // signature, v2 PROXY, TCP over IPv4, 12 bytes: 127.0.0.2, 127.0.0.1, 51000, 8443
      `0d0a0d0a000d0a515549540a 21 11 000c 7f000002 7f000001 c738 20fb`.replaceAll(' ', ''),
    );
  });

  it('writes version 2 addresses for IPv6 in every textual form', () => {
    const cases: [string, string][] = [
      ['::1', '0:0:0:0:0:0:0:1'],
      ['2001:db8::8:800:200c:417a', '2001:db8:0:0:8:800:200c:417a'],
      ['::ffff:10.1.2.3', '0:0:0:0:0:ffff:a01:203'],
      ['fe80::', 'fe80:0:0:0:0:0:0:0'],
    ];
    for (const [address, expanded] of cases) {
      const parsed = parseProxyHeader(
        proxyHeaderV2({ ...v4, sourceAddress: address, destinationAddress: '::1' }),
      );
      assert.equal(parsed?.family, 'TCP6');
      assert.equal(parsed?.sourceAddress, expanded, address);
      assert.equal(parsed?.destinationAddress, '0:0:0:0:0:0:0:1');
      assert.deepEqual([parsed?.sourcePort, parsed?.destinationPort], [51000, 8443]);
    }
  });

  it('adds the TLS block with version and client CommonName, flagging a resumed session', () => {
    const fresh = parseProxyHeader(
      proxyHeaderV2(v4, { version: 'TLSv1.3', clientCn: 'client-ä', certOnThisConnection: true }),
    );
    assert.deepEqual(fresh?.ssl, { client: 0x07, verify: 0, version: 'TLSv1.3', cn: 'client-ä' });
    assert.equal(fresh?.sourceAddress, '127.0.0.2');
    const resumed = parseProxyHeader(
      proxyHeaderV2(v4, { version: 'TLSv1.2', clientCn: 'c', certOnThisConnection: false }),
    );
    assert.equal(resumed?.ssl?.client, 0x05, 'no PP2_CLIENT_CERT_CONN on a resumed session');
  });

  it('says UNSPEC with no addresses when an end is not an IP address', () => {
    const header = proxyHeaderV2({ ...v4, destinationAddress: '' });
    assert.equal(header.length, 16);
    assert.equal(header[13], 0x00);
    assert.equal(parseProxyHeader(header)?.family, 'UNSPEC');
  });

  it('sends nothing for none', () => {
    assert.equal(proxyHeader('none', v4), undefined);
    assert.equal(proxyHeader('v1', v4)?.toString(), proxyHeaderV1(v4).toString());
  });
});
