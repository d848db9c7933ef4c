import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes } from '../../src/lib/errors.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import {
  connectTcp,
  connectTls,
  hashReceived,
  readAll,
  sendDeterministic,
  until,
} from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import {
  deterministicChunk,
  deterministicHash,
  type SourceUpstream,
  startEchoUpstream,
  startHashUpstream,
  startSilentUpstream,
  startSourceUpstream,
  type TestUpstream,
} from '../helpers/upstreams.js';

const MiB = 1024 * 1024;
const BIG = 256 * MiB;
const SLOW_READER_STREAM = 512 * MiB;

/** Everything received until close, and whether a clean end came first. */
function collect(socket: Socket): Promise<{ data: Buffer; ended: boolean; errorCode?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let ended = false;
    let errorCode: string | undefined;
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      errorCode = e.code ?? e.message;
    });
    socket.once('end', () => {
      ended = true;
    });
    socket.once('close', () => resolve({ data: Buffer.concat(chunks), ended, errorCode }));
  });
}

/**
 * Resolves once `read()` has stopped changing for `stablePolls` polls in a row (polled every
 * `intervalMs`): "the stream has stalled". Throws if it is still moving after `maxPolls`.
 */
async function untilStalled(
  read: () => number,
  what: string,
  { intervalMs = 50, stablePolls = 8, maxPolls = 1200 } = {},
): Promise<void> {
  let last = read();
  let stable = 0;
  for (let i = 0; i < maxPolls; i++) {
    await new Promise((r) => setTimeout(r, intervalMs));
    const now = read();
    stable = now === last ? stable + 1 : 0;
    last = now;
    if (stable >= stablePolls) return;
  }
  throw new Error(`${what} never stalled`);
}

/** A mutual-TLS listener that sends every client to `group`. */
async function tlsListener(name: string, group: string): Promise<Record<string, unknown>> {
  return { name, bind: '127.0.0.1:0', tls: await testTlsBlock(), routes: [{ org: '*', group }] };
}

describe('relay: half-close, bulk transfer, back-pressure', { timeout: 180_000 }, () => {
  let pki: TestPki;
  let echo: TestUpstream;
  let hash: TestUpstream;
  let source: SourceUpstream;
  let slowSource: SourceUpstream;
  let t: TestProxy;
  const clients: Socket[] = [];

  before(async () => {
    pki = await getTestPki();
    [echo, hash, source, slowSource] = await Promise.all([
      startEchoUpstream(),
      startHashUpstream(),
      startSourceUpstream(BIG),
      startSourceUpstream(SLOW_READER_STREAM, 'slow-source'),
    ]);
    t = await startTestProxy({
      listeners: [
        await tlsListener('echo-tls', 'echo'),
        { name: 'echo-tcp', bind: '127.0.0.1:0', group: 'echo' },
        await tlsListener('hash-tls', 'hash'),
        await tlsListener('source-tls', 'source'),
        { name: 'source-tcp', bind: '127.0.0.1:0', group: 'source' },
        await tlsListener('slow-tls', 'slow'),
        { name: 'slow-tcp', bind: '127.0.0.1:0', group: 'slow' },
      ],
      groups: {
        echo: { upstreams: [{ address: echo.address }] },
        hash: { upstreams: [{ address: hash.address }] },
        source: { upstreams: [{ address: source.address }] },
        slow: { upstreams: [{ address: slowSource.address }] },
      },
    });
  });

  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
    await Promise.all([echo, hash, source, slowSource].map((u) => u.close()));
  });

  const tls = async (listener: string) => {
    const s = await connectTls({ port: t.port(listener), ca: pki.ca.cert, client: pki.groupA });
    clients.push(s);
    return s;
  };

  // Several chunks' worth, so the echo comes back in more than one piece.
  const payload = Buffer.concat([Buffer.from('half-close\n'), deterministicChunk(), deterministicChunk()]);

  it('half-close over mTLS: the client ends its side and still gets every byte back, then the end', async () => {
    const from = t.records.length;
    const socket = await tls('echo-tls');
    const got = collect(socket);
    socket.end(payload);
    const r = await got;
    assert.equal(r.errorCode, undefined);
    assert.equal(r.ended, true, 'the client must see a clean end after the data');
    assert.equal(r.data.length, payload.length);
    assert.ok(r.data.equals(payload), 'echoed bytes differ from what was sent');
    const record = await t.record((x) => x.listener === 'echo-tls', from);
    assert.equal(record.termination, 'OK');
    assert.equal(record.bytesToClient, payload.length);
  });

  it('half-close over plain TCP: the same, byte for byte', async () => {
    const from = t.records.length;
    const socket = await connectTcp(t.port('echo-tcp'));
    clients.push(socket);
    const got = collect(socket);
    socket.end(payload);
    const r = await got;
    assert.equal(r.errorCode, undefined);
    assert.equal(r.ended, true);
    assert.ok(r.data.equals(payload), 'echoed bytes differ from what was sent');
    const record = await t.record((x) => x.listener === 'echo-tcp', from);
    assert.equal(record.termination, 'OK');
    assert.equal(record.bytesFromClient, payload.length);
    assert.equal(record.bytesToClient, payload.length);
  });

  it('uploads 256 MiB over mTLS intact (hash and length checked by the upstream)', async () => {
    const from = t.records.length;
    const socket = await tls('hash-tls');
    const reply = readAll(socket);
    const sentHash = await sendDeterministic(socket, BIG);
    const r = await reply;
    assert.equal(r.errored, false, r.errorCode);
    assert.equal(r.text, `${sentHash} ${BIG}\n`);
    const record = await t.record((x) => x.listener === 'hash-tls', from);
    assert.equal(record.termination, 'OK');
  });

  it('downloads 256 MiB over mTLS intact', async () => {
    const from = t.records.length;
    const socket = await tls('source-tls');
    const r = await hashReceived(socket);
    assert.equal(r.errorCode, undefined);
    assert.equal(r.ended, true);
    assert.equal(r.bytes, BIG);
    assert.equal(r.hash, deterministicHash(BIG));
    const record = await t.record((x) => x.listener === 'source-tls', from);
    assert.equal(record.termination, 'OK');
  });

  it('downloads 256 MiB over plain TCP to three clients at once intact, one of them reading in fits', async () => {
    // Upstream sockets read into one buffer shared by every connection; interleaved streams and a
    // reader that keeps stopping (so writes stay pending) are what could mix their bytes.
    const from = t.records.length;
    const sockets = await Promise.all([0, 1, 2].map(() => connectTcp(t.port('source-tcp'))));
    clients.push(...sockets);
    const stutter = sockets[2];
    let seen = 0;
    stutter.on('data', (c: Buffer) => {
      seen += c.length;
      if (seen >= 4 * MiB) {
        seen = 0;
        stutter.pause();
        setTimeout(() => stutter.resume(), 5);
      }
    });
    const results = await Promise.all(sockets.map((s) => hashReceived(s)));
    for (const r of results) {
      assert.equal(r.errorCode, undefined);
      assert.equal(r.ended, true);
      assert.equal(r.bytes, BIG);
      assert.equal(r.hash, deterministicHash(BIG));
    }
    await until(
      () => t.records.filter((x, i) => i >= from && x.listener === 'source-tcp').length === 3,
      'three records',
    );
    for (const record of t.records.slice(from).filter((x) => x.listener === 'source-tcp')) {
      assert.equal(record.termination, 'OK');
      assert.equal(record.bytesToClient, BIG);
    }
  });

  for (const kind of ['mTLS', 'plain TCP'] as const) {
    it(`holds a fast upstream back while a ${kind} client does not read, without buffering the stream`, async () => {
      const memBefore = process.memoryUsage();
      const sentBefore = slowSource.sent;
      const socket = kind === 'mTLS' ? await tls('slow-tls') : await connectTcp(t.port('slow-tcp'));
      clients.push(socket);
      socket.pause();
      await until(() => slowSource.sent > sentBefore, 'the source started sending');
      await untilStalled(() => slowSource.sent, 'the source');
      const sentWhileStalled = slowSource.sent - sentBefore;
      const memStalled = process.memoryUsage();
      // Kernel socket buffers on two connections (loopback autotuning) plus a few stream buffers in
      // the proxy: tens of MiB at most. A proxy that ignored back-pressure would take all 512 MiB.
      assert.ok(
        sentWhileStalled < 64 * MiB,
        `the source got ${(sentWhileStalled / MiB).toFixed(1)} MiB out to a client that reads nothing`,
      );
      const grownBuffers = memStalled.arrayBuffers - memBefore.arrayBuffers;
      const grownRss = memStalled.rss - memBefore.rss;
      assert.ok(grownBuffers < 64 * MiB, `Buffer memory grew by ${(grownBuffers / MiB).toFixed(1)} MiB`);
      assert.ok(grownRss < 192 * MiB, `RSS grew by ${(grownRss / MiB).toFixed(1)} MiB`);

      const received = hashReceived(socket);
      socket.resume();
      const r = await received;
      assert.equal(r.errorCode, undefined);
      assert.equal(r.ended, true);
      assert.equal(r.bytes, SLOW_READER_STREAM);
      assert.equal(r.hash, deterministicHash(SLOW_READER_STREAM));
    });
  }
});

describe('relay: idle timeout', { timeout: 30_000 }, () => {
  let pki: TestPki;
  let silent: TestUpstream;
  let t: TestProxy;
  const clients: Socket[] = [];

  before(async () => {
    pki = await getTestPki();
    silent = await startSilentUpstream('silent');
    t = await startTestProxy({
      listeners: [await tlsListener('edge', 'silent')],
      groups: { silent: { upstreams: [{ address: silent.address }] } },
      timeouts: { idle: '300ms' },
    });
  });

  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
    await silent.close();
  });

  it('ends a session with no traffic either way with ERR_IDLE_TIMEOUT and closes both sides', async () => {
    const socket = await connectTls({ port: t.port(), ca: pki.ca.cert, client: pki.groupA });
    clients.push(socket);
    const reply = readAll(socket);
    await until(() => silent.sockets.size === 1, 'the session reached the upstream');
    const record = await t.record((r) => r.termination !== 'OK');
    assert.equal(record.termination, ErrorCodes.ERR_IDLE_TIMEOUT);
    assert.equal(record.upstream, silent.address);
    assert.equal(t.proxy.stats('edge').rejected(ErrorCodes.ERR_IDLE_TIMEOUT), 1);
    const r = await reply;
    assert.equal(r.text, '');
    assert.ok(socket.destroyed);
    await until(() => silent.sockets.size === 0, 'the upstream connection closed');
  });
});

describe('relay: max lifetime', { timeout: 30_000 }, () => {
  let pki: TestPki;
  let echo: TestUpstream;
  let t: TestProxy;
  let ticker: NodeJS.Timeout | undefined;
  const clients: Socket[] = [];

  before(async () => {
    pki = await getTestPki();
    echo = await startEchoUpstream();
    t = await startTestProxy({
      listeners: [await tlsListener('edge', 'echo')],
      groups: { echo: { upstreams: [{ address: echo.address }] } },
      timeouts: { maxLifetime: '300ms', idle: '1m' },
    });
  });

  after(async () => {
    clearInterval(ticker);
    for (const c of clients) c.destroy();
    await t.stop();
    await echo.close();
  });

  it('ends a busy session with ERR_MAX_LIFETIME', async () => {
    const socket = await connectTls({ port: t.port(), ca: pki.ca.cert, client: pki.groupA });
    clients.push(socket);
    const got = collect(socket);
    let sent = 0;
    const tick = () => {
      if (socket.writable) {
        socket.write('ping\n');
        sent += 5;
      }
    };
    tick();
    ticker = setInterval(tick, 50);
    const record = await t.record((r) => r.listener === 'edge');
    assert.equal(record.termination, ErrorCodes.ERR_MAX_LIFETIME);
    assert.equal(t.proxy.stats('edge').rejected(ErrorCodes.ERR_MAX_LIFETIME), 1);
    const r = await got;
    clearInterval(ticker);
    // The session was relaying right up to the end: echoes came back, and nothing but echoes.
    assert.ok(r.data.length > 0, 'no echo came back before the session ended');
    assert.ok(r.data.length <= sent);
    const text = r.data.toString('latin1');
    assert.equal(text, 'ping\n'.repeat(Math.ceil(text.length / 5)).slice(0, text.length));
    assert.ok(socket.destroyed);
  });
});
