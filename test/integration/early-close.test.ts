import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import { startTcpUpstream, type TestUpstream } from '../helpers/upstreams.js';

// Clients that hang up before the upstream connect completes (redis-benchmark -k 0, port scanners,
// TCP health probes): the FIN or the reset must reach the upstream at once, not wait for the idle
// timeout. The idle timeout is set far beyond the test's life so only a carried close can pass.
const CLIENTS = 20;

/** An upstream that closes its side when the peer ends, as Redis and most servers do. */
function startClosingUpstream(): Promise<TestUpstream> {
  return startTcpUpstream('closing', '127.0.0.1', (s) => {
    s.on('end', () => s.end());
    s.resume();
  });
}

/** Resolves once the socket has closed, whatever the reason. */
function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.on('error', () => {});
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

/** A plain TCP client that sends FIN as soon as it is connected, without a byte. */
function tcpFinAtOnce(port: number): Socket {
  const s = netConnect({ host: '127.0.0.1', port, allowHalfOpen: false });
  s.end();
  s.resume();
  return s;
}

/** A plain TCP client that resets the connection as soon as it is connected. */
function tcpResetAtOnce(port: number): Socket {
  const s = netConnect({ host: '127.0.0.1', port });
  s.once('connect', () => s.resetAndDestroy());
  return s;
}

/** An mTLS client that sends close_notify and FIN right after its side of the handshake. */
function tlsFinAtOnce(port: number, pki: TestPki): Socket {
  const s = tlsConnect({
    host: '127.0.0.1',
    port,
    ca: pki.ca.cert,
    cert: pki.groupA.cert,
    key: pki.groupA.key,
    servername: 'localhost',
  });
  s.once('secureConnect', () => s.end());
  s.resume();
  return s;
}

describe('clients that close before the upstream connect completes', { timeout: 120_000 }, () => {
  let pki: TestPki;

  before(async () => {
    pki = await getTestPki();
  });

  /** A proxy with one listener of each kind in front of `upstream`, idle timeout far off. */
  async function proxyFor(upstream: TestUpstream): Promise<TestProxy> {
    return startTestProxy({
      listeners: [
        { name: 'tcp', bind: '127.0.0.1:0', group: 'g' },
        { name: 'tls', bind: '127.0.0.1:0', tls: await testTlsBlock(), routes: [{ org: '*', group: 'g' }] },
      ],
      groups: { g: { upstreams: [{ address: upstream.address }] } },
      timeouts: { idle: '10m' },
    });
  }

  const cases: [string, 'tcp' | 'tls', (port: number) => Socket][] = [
    ['plain TCP, FIN', 'tcp', tcpFinAtOnce],
    ['plain TCP, reset', 'tcp', tcpResetAtOnce],
    ['mTLS, close_notify and FIN after the handshake', 'tls', (port) => tlsFinAtOnce(port, pki)],
  ];
  for (const [name, listener, open] of cases) {
    it(`${name}: every upstream connection closes at once and no session is left`, {
      timeout: 20_000,
    }, async () => {
      const upstream = await startClosingUpstream();
      const t = await proxyFor(upstream);
      try {
        const sockets: Socket[] = [];
        for (let i = 0; i < CLIENTS; i++) sockets.push(open(t.port(listener)));
        await Promise.all(sockets.map(closed));
        await until(() => t.proxy.stats(listener).active === 0, `no live session on ${listener}`);
        await until(() => upstream.sockets.size === 0, 'no upstream connection left open');
        // The proxy may give up on a connect the client abandoned, but must not leave any open.
        assert.ok(upstream.accepted <= CLIENTS);
        assert.equal(upstream.sockets.size, 0);
      } finally {
        await t.stop();
        await upstream.close();
      }
    });
  }

  it('a client that sends its bytes and FIN at once still gets them to the upstream and ends cleanly', async () => {
    const got: Buffer[] = [];
    const echoing = await startTcpUpstream('echo-end', '127.0.0.1', (s) => {
      s.on('data', (c: Buffer) => got.push(c));
      s.on('end', () => s.end('bye'));
    });
    const u = await startTestProxy({
      listeners: [{ name: 'tcp', bind: '127.0.0.1:0', group: 'g' }],
      groups: { g: { upstreams: [{ address: echoing.address }] } },
      timeouts: { idle: '10m' },
    });
    try {
      const s = netConnect({ host: '127.0.0.1', port: u.port(), allowHalfOpen: true });
      s.end('PING\r\n');
      const reply: Buffer[] = [];
      s.on('data', (c: Buffer) => reply.push(c));
      await closed(s);
      assert.equal(Buffer.concat(got).toString(), 'PING\r\n');
      assert.equal(Buffer.concat(reply).toString(), 'bye');
      const record = await u.record(() => true);
      assert.equal(record.termination, 'OK');
      await until(() => echoing.sockets.size === 0, 'the upstream connection closed');
    } finally {
      await u.stop();
      await echoing.close();
    }
  });
});
