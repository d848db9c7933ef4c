import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { freeLoopbackPorts } from '../../src/bench/targets/free-port.js';
import { findTool } from '../../src/bench/targets/system-tool.js';
import {
  spawnTargetProcess,
  stopTargetProcess,
  type TargetProcess,
} from '../../src/bench/targets/target-process.js';
import { waitForPorts } from '../../src/bench/targets/wait-for-ports.js';
import { type ErrorCode, ErrorCodes } from '../../src/lib/errors.js';
import { proxyHeaderV1, proxyHeaderV2 } from '../../src/proxy/proxy-header.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTcp, lineReader, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import { type ParsedProxyHeader, startProxyProtocolUpstream } from '../helpers/proxy-protocol.js';
import { startEchoUpstream, type TestUpstream } from '../helpers/upstreams.js';

// A load balancer in front of Switchyard (played by this test) sends a PROXY protocol header
// naming the real client; Switchyard passes it on to its upstream (played by an upstream that
// reports the header it got) and counts the client by it.

const client203 = {
  sourceAddress: '203.0.113.7',
  sourcePort: 40000,
  destinationAddress: '198.51.100.1',
  destinationPort: 443,
};

/**
 * A TLS handshake over a socket that already sent a PROXY header, as client-a, or as another
 * client of org groupA (the rate limit allows each client one connection).
 */
function tlsOver(
  socket: Socket,
  pki: TestPki,
  client: 'groupA' | 'rsaClient' = 'groupA',
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({
      socket,
      ca: pki.ca.cert,
      cert: pki[client].cert,
      key: pki[client].key,
      servername: 'localhost',
    });
    tls.once('secureConnect', () => resolve(tls));
    tls.once('error', reject);
  });
}

/**
 * A load balancer in front, in one function: each connection to it is relayed to `port`, its first
 * chunk sent in one write together with the header `headerFor` makes for it, as real load
 * balancers do (so the header and the ClientHello arrive together).
 */
async function startFrontBalancer(
  port: number,
  headerFor: () => Buffer,
): Promise<{ port: number; close(): void }> {
  const server = createServer((inbound) => {
    const outbound = connect({ host: '127.0.0.1', port });
    inbound.once('data', (first: Buffer) => {
      outbound.write(Buffer.concat([headerFor(), first]));
      inbound.pipe(outbound).pipe(inbound);
    });
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

/** Waits until the balancer closed the connection, and says how many bytes came back before. */
function closedByPeer(socket: Socket): Promise<number> {
  let bytes = 0;
  socket.on('data', (c: Buffer) => {
    bytes += c.length;
  });
  socket.on('error', () => {});
  // the test's sockets are half-open: close our side once the balancer closed its own
  socket.on('end', () => socket.end());
  return new Promise((resolve) => socket.once('close', () => resolve(bytes)));
}

describe('PROXY protocol in', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let t: TestProxy;

  before(async () => {
    pki = await getTestPki();
    upstream = await startProxyProtocolUpstream();
    t = await startTestProxy({
      listeners: [
        {
          name: 'behind-lb',
          bind: '127.0.0.1:0',
          group: 'reader',
          acceptProxyProtocol: 'any',
          trustedProxies: ['127.0.0.1', '10.0.0.0/8'],
          proxyProtocol: 'v1',
          handshakeRate: { perSource: 0 },
        },
        {
          name: 'guarded',
          bind: '127.0.0.1:0',
          group: 'reader',
          acceptProxyProtocol: 'v1',
          trustedProxies: ['127.0.0.1'],
          proxyProtocol: 'v1',
          handshakeRate: { perSource: 1, window: '1m' },
        },
        {
          name: 'tls-behind-lb',
          bind: '127.0.0.1:0',
          tls: await testTlsBlock(),
          routes: [{ org: 'groupA', group: 'reader' }],
          acceptProxyProtocol: 'v2',
          trustedProxies: ['127.0.0.0/8', '::1'],
          proxyProtocol: 'v2',
        },
        {
          name: 'other-lb',
          bind: '127.0.0.1:0',
          group: 'reader',
          acceptProxyProtocol: 'v1',
          trustedProxies: ['10.0.0.0/8', 'fd00::/8'],
        },
      ],
      groups: { reader: { upstreams: [{ address: upstream.address }] } },
      rateLimit: { algorithm: 'fixed-window', limit: 1, window: '1m' },
      timeouts: { handshake: '500ms' },
    });
  });

  after(async () => {
    await t.stop();
    await upstream.close();
  });

  it('a trusted v1 header names the client to the upstream, the access record and the limits', async () => {
    const from = t.records.length;
    const socket = await connectTcp(t.port('behind-lb'));
    const lines = lineReader(socket);
    // header and first bytes in one segment: what follows the header must reach the upstream intact
    socket.write(Buffer.concat([proxyHeaderV1(client203), Buffer.from('payload\n')]));
    const header = JSON.parse(await lines.line()) as ParsedProxyHeader;
    assert.deepEqual(
      [header.sourceAddress, header.sourcePort, header.destinationAddress, header.destinationPort],
      ['203.0.113.7', 40000, '198.51.100.1', 443],
    );
    assert.equal(await lines.line(), 'payload');
    socket.end();
    const record = await t.record((r) => r.listener === 'behind-lb', from);
    assert.equal(record.clientAddress, '203.0.113.7');
    assert.equal(record.clientPort, 40000);
    assert.equal(
      record.bytesFromClient,
      'payload\n'.length,
      "the header is the load balancer's, not the client's",
    );

    // The rate limit (1 a minute per client address on plain TCP) counts the carried address: a
    // second connection for 203.0.113.7 is refused, one for another address is not.
    const again = await connectTcp(t.port('behind-lb'));
    again.write(proxyHeaderV1({ ...client203, sourcePort: 40001 }));
    await closedByPeer(again);
    await until(() => t.proxy.stats('behind-lb').rejected(ErrorCodes.ERR_RATE_LIMITED) === 1, 'rate-limited');
    const other = await connectTcp(t.port('behind-lb'));
    const otherLines = lineReader(other);
    other.write(
      proxyHeaderV2({ ...client203, sourceAddress: '2001:db8::42', destinationAddress: '2001:db8::1' }),
    );
    const otherHeader = JSON.parse(await otherLines.line()) as ParsedProxyHeader;
    // sent on as v1 (the listener's proxyProtocol), TCP6 with the carried address
    assert.deepEqual(
      [otherHeader.version, otherHeader.family, otherHeader.sourceAddress],
      [1, 'TCP6', '2001:db8::42'],
    );
    other.end();
  });

  it('the per-source guard counts the carried address, not the load balancer', async () => {
    const before = t.proxy.stats('guarded').rejected(ErrorCodes.ERR_HANDSHAKE_RATE);
    const carried = { ...client203, sourceAddress: '192.0.2.10' };
    const first = await connectTcp(t.port('guarded'));
    const firstLines = lineReader(first);
    first.write(proxyHeaderV1(carried));
    assert.equal((JSON.parse(await firstLines.line()) as ParsedProxyHeader).sourceAddress, '192.0.2.10');
    first.end();
    // the guard allows one a minute per source: the same client again is refused...
    const second = await connectTcp(t.port('guarded'));
    second.write(proxyHeaderV1(carried));
    assert.equal(await closedByPeer(second), 0);
    assert.equal(t.proxy.stats('guarded').rejected(ErrorCodes.ERR_HANDSHAKE_RATE), before + 1);
    // ...though every connection came from 127.0.0.1, another client is not
    const third = await connectTcp(t.port('guarded'));
    const thirdLines = lineReader(third);
    third.write(proxyHeaderV1({ ...carried, sourceAddress: '192.0.2.11' }));
    assert.equal((JSON.parse(await thirdLines.line()) as ParsedProxyHeader).sourceAddress, '192.0.2.11');
    third.end();
  });

  it('a v2 header before a mutual TLS handshake: the certificate decides, the header names the address', async () => {
    const from = t.records.length;
    // header and ClientHello in one segment: what follows the header must reach the handshake
    const front = await startFrontBalancer(t.port('tls-behind-lb'), () =>
      proxyHeaderV2({ ...client203, sourceAddress: '198.51.100.77' }),
    );
    const raw = await connectTcp(front.port);
    const tls = await tlsOver(raw, pki);
    front.close();
    const lines = lineReader(tls);
    tls.write('over tls\n');
    const header = JSON.parse(await lines.line()) as ParsedProxyHeader;
    assert.equal(header.sourceAddress, '198.51.100.77');
    assert.equal(header.ssl?.cn, 'client-a');
    assert.equal(await lines.line(), 'over tls');
    tls.end();
    const record = await t.record((r) => r.listener === 'tls-behind-lb', from);
    assert.equal(record.clientAddress, '198.51.100.77');
    assert.equal(record.clientId, 'client-a');
  });

  it('a v2 LOCAL header (the load balancer checking us) keeps the connection own address', async () => {
    const from = t.records.length;
    const raw = await connectTcp(t.port('tls-behind-lb'));
    const local = Buffer.from(proxyHeaderV2(client203).subarray(0, 16));
    local[12] = 0x20;
    local.writeUInt16BE(0, 14);
    raw.write(local);
    const tls = await tlsOver(raw, pki, 'rsaClient');
    const lines = lineReader(tls);
    assert.equal((JSON.parse(await lines.line()) as ParsedProxyHeader).sourceAddress, '127.0.0.1');
    tls.end();
    assert.equal((await t.record((r) => r.listener === 'tls-behind-lb', from)).clientAddress, '127.0.0.1');
  });

  const refusals: [string, string, Buffer | undefined, ErrorCode][] = [
    [
      'no header (plain HTTP)',
      'behind-lb',
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      ErrorCodes.ERR_PROXY_HEADER_MISSING,
    ],
    [
      'no header (a TLS ClientHello)',
      'tls-behind-lb',
      Buffer.from('160301020001000000', 'hex'),
      ErrorCodes.ERR_PROXY_HEADER_MISSING,
    ],
    [
      'a malformed v1 line',
      'behind-lb',
      Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\n'),
      ErrorCodes.ERR_PROXY_HEADER_INVALID,
    ],
    [
      'a v1 header where v2 is required',
      'tls-behind-lb',
      proxyHeaderV1(client203),
      ErrorCodes.ERR_PROXY_HEADER_INVALID,
    ],
    [
      'an oversized v2 header',
      'behind-lb',
      (() => {
        const h = Buffer.from(proxyHeaderV2(client203).subarray(0, 16));
        h.writeUInt16BE(60_000, 14);
        return h;
      })(),
      ErrorCodes.ERR_PROXY_HEADER_TOO_LARGE,
    ],
    [
      'a header dribbled and never finished',
      'behind-lb',
      Buffer.from('PROXY TCP4 10.'),
      ErrorCodes.ERR_PROXY_HEADER_TIMEOUT,
    ],
    ['a connection that says nothing', 'tls-behind-lb', undefined, ErrorCodes.ERR_PROXY_HEADER_TIMEOUT],
    ['a source outside trustedProxies', 'other-lb', proxyHeaderV1(client203), ErrorCodes.ERR_PROXY_UNTRUSTED],
  ];
  for (const [what, listener, bytes, code] of refusals) {
    it(`refuses ${what} with ${code}, counted, and closes the connection`, async () => {
      const before = t.proxy.stats(listener).rejected(code);
      const socket = await connectTcp(t.port(listener));
      if (bytes !== undefined) socket.write(bytes);
      assert.equal(await closedByPeer(socket), 0, 'nothing is sent back');
      await until(() => t.proxy.stats(listener).rejected(code) === before + 1, code);
    });
  }

  it('a client that hangs up halfway through the header is refused as invalid, and nothing is left open', async () => {
    const before = t.proxy.stats('behind-lb').rejected(ErrorCodes.ERR_PROXY_HEADER_INVALID);
    const socket = await connectTcp(t.port('behind-lb'));
    socket.end('PROXY TCP4 10.1.2.3');
    await closedByPeer(socket);
    await until(
      () => t.proxy.stats('behind-lb').rejected(ErrorCodes.ERR_PROXY_HEADER_INVALID) === before + 1,
      'invalid',
    );
    await until(
      () => t.proxy.snapshot().listeners.every((l) => l.stats.active === 0),
      'no active connection',
    );
    const line = t.logger.lines.find((l) => l.fields.reason === ErrorCodes.ERR_PROXY_UNTRUSTED);
    assert.ok(
      line !== undefined &&
        typeof line.fields.hint === 'string' &&
        line.fields.hint.includes('trustedProxies'),
    );
  });
});

describe('PROXY protocol written by HAProxy', { timeout: 60_000 }, () => {
  it('is read from another implementation: send-proxy (v1) and send-proxy-v2 name the real client', async () => {
    const command = await findTool('haproxy');
    if (command === undefined) {
      // CI installs HAProxy; elsewhere this check needs it too
      assert.notEqual(process.env.CI, 'true', 'haproxy must be installed in CI');
      return;
    }
    const upstream = await startEchoUpstream();
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-pp-in-haproxy-'));
    let haproxy: TargetProcess | undefined;
    let t: TestProxy | undefined;
    try {
      t = await startTestProxy({
        listeners: [
          {
            name: 'v1',
            bind: '127.0.0.1:0',
            group: 'echo',
            acceptProxyProtocol: 'v1',
            trustedProxies: ['127.0.0.1'],
          },
          {
            name: 'v2',
            bind: '127.0.0.1:0',
            group: 'echo',
            acceptProxyProtocol: 'v2',
            trustedProxies: ['127.0.0.1'],
          },
        ],
        groups: { echo: { upstreams: [{ address: upstream.address }] } },
      });
      const [front1, front2] = await freeLoopbackPorts(2);
      writeFileSync(
        join(dir, 'haproxy.cfg'),
        `${[
          'global',
          '  maxconn 100',
          'defaults',
          '  mode tcp',
          '  timeout connect 2s',
          '  timeout client 10s',
          '  timeout server 10s',
          'listen v1',
          `  bind 127.0.0.1:${front1}`,
          `  server sw 127.0.0.1:${t.port('v1')} send-proxy source 127.0.0.1`,
          'listen v2',
          `  bind 127.0.0.1:${front2}`,
          `  server sw 127.0.0.1:${t.port('v2')} send-proxy-v2 source 127.0.0.1`,
        ].join('\n')}\n`,
      );
      haproxy = await spawnTargetProcess(command, ['-db', '-f', join(dir, 'haproxy.cfg')], {
        workDir: dir,
        name: 'haproxy',
      });
      await waitForPorts(
        [
          { host: '127.0.0.1', port: front1 },
          { host: '127.0.0.1', port: front2 },
        ],
        { gaveUp: () => haproxy?.hasExited() ?? true },
      );
      for (const [listener, front] of [
        ['v1', front1],
        ['v2', front2],
      ] as const) {
        const from = t.records.length;
        // the client from 127.0.0.5: HAProxy connects to Switchyard from 127.0.0.1
        const client = await connectTcp(front, '127.0.0.1', '127.0.0.5');
        const lines = lineReader(client);
        client.write('through haproxy\n');
        assert.equal(await lines.line(), 'through haproxy');
        const port = client.localPort;
        client.end();
        // (waitForPorts's probes went through HAProxy too: their sessions carried no bytes)
        const record = await t.record((r) => r.listener === listener && r.bytesToClient > 0, from);
        assert.equal(record.clientAddress, '127.0.0.5', `${listener}: the client HAProxy saw`);
        assert.equal(record.clientPort, port);
        assert.equal(record.bytesFromClient, 'through haproxy\n'.length);
      }
    } finally {
      await t?.stop();
      if (haproxy !== undefined) await stopTargetProcess(haproxy);
      await upstream.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
