import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { ErrorCodes } from '../../src/lib/errors.js';
import { getTestPki } from '../helpers/certs.js';
import { connectTls, httpGet, readAll, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import {
  deterministicChunk,
  deterministicHash,
  startHashUpstream,
  startNamedHttpUpstream,
  startSilentUpstream,
  type TestUpstream,
} from '../helpers/upstreams.js';

const MiB = 1024 * 1024;

/** Resolves with the error code of a plain TCP connect to `port` (or 'connected' if it got through). */
function tcpConnectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** Writes `count` deterministic chunks, waiting for 'drain' on back-pressure; resolves when all are taken. */
async function writeChunks(socket: Socket, count: number): Promise<void> {
  const chunk = deterministicChunk();
  for (let i = 0; i < count; i++) {
    if (!socket.write(chunk)) {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        socket.once('error', onError);
        socket.once('drain', () => {
          socket.removeListener('error', onError);
          resolve();
        });
      });
    }
  }
}

/** A mutual-TLS listener that sends every client to `group`, and that group with one upstream. */
async function proxyTo(upstream: TestUpstream): Promise<TestProxy> {
  return startTestProxy({
    listeners: [
      { name: 'edge', bind: '127.0.0.1:0', tls: await testTlsBlock(), routes: [{ org: '*', group: 'g' }] },
    ],
    groups: { g: { upstreams: [{ address: upstream.address, id: upstream.name }] } },
  });
}

describe('graceful shutdown', { timeout: 60_000 }, () => {
  const cleanup: (() => unknown)[] = [];

  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('refuses new connections at once and lets an in-flight transfer finish', async () => {
    const pki = await getTestPki();
    const upstream = await startHashUpstream();
    cleanup.push(() => upstream.close());
    const t = await proxyTo(upstream);
    // The harness's stop() is a second shutdown with no grace: harmless once this one has finished.
    cleanup.push(() => t.stop());
    const port = t.port();

    const socket = await connectTls({ port, ca: pki.ca.cert, client: pki.groupA });
    cleanup.push(() => socket.destroy());
    const reply = readAll(socket);
    const chunkSize = deterministicChunk().length;
    const total = 64 * MiB;
    const firstPart = 8 * MiB;
    // Part of the upload goes through before the shutdown, the rest only after it has begun.
    await writeChunks(socket, firstPart / chunkSize);
    await until(() => upstream.received === firstPart, 'the first part reached the upstream');

    let shutdownDone = false;
    const shutdown = t.proxy.shutdown({ graceMs: 30_000, jitterMs: 100 });
    void shutdown.then(() => {
      shutdownDone = true;
    });
    assert.equal(t.proxy.stopping, true);
    assert.equal(await tcpConnectOutcome(port), 'ECONNREFUSED');
    assert.equal(shutdownDone, false, 'shutdown must wait for the live session');

    await writeChunks(socket, (total - firstPart) / chunkSize);
    socket.end();
    const r = await reply;
    assert.equal(r.errored, false, r.errorCode);
    assert.equal(r.text, `${deterministicHash(total)} ${total}\n`);
    await shutdown;
    assert.equal(t.proxy.sessionCount, 0);
    assert.equal(t.records.length, 1);
    assert.equal(t.records[0].termination, 'OK');
    assert.equal(upstream.received, total);
  });

  it('closes sessions still open when the grace period ends, with ERR_SHUTDOWN', async () => {
    const pki = await getTestPki();
    const upstream = await startSilentUpstream('silent');
    cleanup.push(() => upstream.close());
    const t = await proxyTo(upstream);
    cleanup.push(() => t.stop());

    const socket = await connectTls({ port: t.port(), ca: pki.ca.cert, client: pki.groupA });
    cleanup.push(() => socket.destroy());
    const reply = readAll(socket);
    await until(() => upstream.sockets.size === 1, 'the session reached the upstream');

    await t.proxy.shutdown({ graceMs: 200, jitterMs: 100 });
    assert.equal(t.proxy.sessionCount, 0);
    assert.equal(t.records.length, 1);
    assert.equal(t.records[0].termination, ErrorCodes.ERR_SHUTDOWN);
    assert.equal(t.records[0].upstream, 'silent');
    assert.equal(t.proxy.stats('edge').rejected(ErrorCodes.ERR_SHUTDOWN), 1);
    const r = await reply;
    assert.equal(r.text, '');
    assert.ok(socket.destroyed);
    await until(() => upstream.sockets.size === 0, 'the upstream connection closed');
  });

  it('a second shutdown while the first is draining cuts the grace short, and both resolve', async () => {
    const pki = await getTestPki();
    const upstream = await startSilentUpstream('silent');
    cleanup.push(() => upstream.close());
    const t = await proxyTo(upstream);
    cleanup.push(() => t.stop());

    const socket = await connectTls({ port: t.port(), ca: pki.ca.cert, client: pki.groupA });
    cleanup.push(() => socket.destroy());
    const reply = readAll(socket);
    await until(() => upstream.sockets.size === 1, 'the session reached the upstream');

    // An operator's first signal asks for a long grace, the second for none.
    const first = t.proxy.shutdown({ graceMs: 30_000, jitterMs: 0 });
    const second = t.proxy.shutdown({ graceMs: 0, jitterMs: 0 });
    await second;
    const r = await reply;
    assert.equal(r.text, '');
    assert.equal(t.records.length, 1);
    assert.equal(t.records[0].termination, ErrorCodes.ERR_SHUTDOWN);
    // The first caller is not left waiting for its 30 s grace, nor forever.
    let firstDone = false;
    void first.then(() => {
      firstDone = true;
    });
    await until(() => firstDone, 'the first shutdown resolved');
  });

  /** A proxy in front of upstream `name`, and a connection it accepted whose client has not sent its hello. */
  const handshakeUnderWay = async (name: string) => {
    const upstream = await startNamedHttpUpstream(name);
    cleanup.push(() => upstream.close());
    const t = await proxyTo(upstream);
    cleanup.push(() => t.stop());
    const stats = t.proxy.stats('edge');
    const raw = netConnect({ host: '127.0.0.1', port: t.port() });
    cleanup.push(() => raw.destroy());
    await once(raw, 'connect');
    await until(() => stats.handshaking === 1, 'the proxy is waiting for the handshake');
    return { upstream, t, stats, raw };
  };

  /** The client's side of the handshake, over the connection `handshakeUnderWay` opened. */
  const helloOver = async (raw: Socket) => {
    const pki = await getTestPki();
    const tls = tlsConnect({
      socket: raw,
      ca: pki.ca.cert,
      cert: pki.groupA.cert,
      key: pki.groupA.key,
      servername: 'localhost',
    });
    cleanup.push(() => tls.destroy());
    return tls;
  };

  it('serves a connection whose handshake was in progress when shutdown began', async () => {
    // Accepted, but the client has not sent its hello yet when the listeners close.
    const { upstream, t, stats, raw } = await handshakeUnderWay('inflight');
    let done = false;
    const stopped = t.proxy.shutdown({ graceMs: 30_000, jitterMs: 0 }).then(() => {
      done = true;
    });
    await until(() => !t.proxy.listeners().some((l) => l.listening), 'the listener is closed');
    assert.equal(done, false, 'shutdown waits for the handshake under way');

    const tls = await helloOver(raw);
    assert.equal(await httpGet(tls), 'inflight');
    await stopped;
    assert.equal(upstream.accepted, 1);
    assert.equal(stats.rejected(ErrorCodes.ERR_SHUTDOWN), 0);
  });

  it('does not start a session for a handshake that finishes after shutdown has finished', async () => {
    // Accepted, but the client has not sent its hello yet: a handshake in progress, not a session.
    const { upstream, t, stats, raw } = await handshakeUnderWay('late');
    await t.proxy.shutdown({ graceMs: 200, jitterMs: 0 });

    const tls = await helloOver(raw);
    const reply = readAll(tls);
    tls.write('GET / HTTP/1.1\r\n\r\n');
    const r = await reply;
    assert.equal(r.text, '', 'nothing may be relayed once shutdown has finished');
    assert.equal(upstream.accepted, 0);
    assert.equal(t.proxy.sessionCount, 0);
    assert.equal(stats.rejected(ErrorCodes.ERR_SHUTDOWN), 1);
    await until(() => stats.active === 0 && stats.handshaking === 0, 'listener counters at rest');
  });
});
