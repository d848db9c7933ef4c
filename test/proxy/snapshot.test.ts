import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ListenerCounters, SessionSnapshot } from '../../src/proxy/snapshot.js';
import type { BuiltRuntime } from '../../src/runtime/build-runtime.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTcp, connectTls, readAll, tcpGet, tlsGet, until } from '../helpers/clients.js';
import {
  type BuiltTestProxy,
  buildTestProxy,
  buildTestRuntime,
  testTlsBlock,
} from '../helpers/proxy-harness.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

const NO_COUNTS: ListenerCounters = {
  accepted: 0,
  active: 0,
  handshaking: 0,
  proxied: 0,
  bytesFromClients: 0,
  bytesToClients: 0,
  rejections: {},
};

/** The first bytes of a request: the upstream answers only once the request is complete. */
const PARTIAL_REQUEST = 'GET / HTT';
const REST_OF_REQUEST = 'P/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

/** Sends the rest of a request whose first part was sent already, and returns the reply's body. */
async function finishRequest(socket: Socket): Promise<string> {
  const reply = readAll(socket);
  socket.write(REST_OF_REQUEST);
  return ((await reply).text.split('\r\n\r\n')[1] ?? '').trim();
}

describe('proxy snapshots', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let upA: TestUpstream;
  let upB: TestUpstream;
  let t: BuiltTestProxy;
  let next: BuiltRuntime | undefined;

  /** The configuration of the proxy, with group `g` on `upstream`. */
  const config = async (upstream: TestUpstream, id: string) => ({
    listeners: [
      { name: 'plain', bind: '127.0.0.1:0', group: 'g' },
      {
        name: 'mtls',
        bind: '127.0.0.1:0',
        tls: await testTlsBlock(),
        routes: [{ org: 'groupA', group: 'g' }],
      },
    ],
    groups: { g: { upstreams: [{ address: upstream.address, id, weight: 2 }] } },
    concurrency: { perClient: 10 },
  });

  before(async () => {
    pki = await getTestPki();
    upA = await startNamedHttpUpstream('up-a');
    upB = await startNamedHttpUpstream('up-b');
    t = await buildTestProxy(await config(upA, 'up-a'));
    await t.start();
  });

  after(async () => {
    await t.stop();
    next?.stop();
    await Promise.all([upA.close(), upB.close()]);
  });

  const port = (name: string) => t.proxy.listener(name).address().port;
  /** Holds a session open in relay: the request is sent only in part. */
  const holdPlain = async (localAddress: string): Promise<Socket> => {
    const socket = await connectTcp(port('plain'), '127.0.0.1', localAddress);
    socket.write(PARTIAL_REQUEST);
    return socket;
  };
  const live = (listener: string): SessionSnapshot[] =>
    t.proxy.sessionSnapshots().filter((s) => s.listener === listener);

  it('shows every listener: kind, bind, bound address, the kind’s own fields and zero counters', () => {
    const s = t.proxy.snapshot();
    assert.equal(s.stopping, false);
    assert.equal(s.sessionCount, 0);
    assert.deepEqual(s.limits, { rate: false, concurrency: true });
    assert.deepEqual(s.listeners, [
      {
        name: 'plain',
        kind: 'tcp',
        bind: '127.0.0.1:0',
        group: 'g',
        address: `127.0.0.1:${port('plain')}`,
        port: port('plain'),
        listening: true,
        stats: NO_COUNTS,
      },
      {
        name: 'mtls',
        kind: 'tls',
        bind: '127.0.0.1:0',
        address: `127.0.0.1:${port('mtls')}`,
        port: port('mtls'),
        listening: true,
        stats: NO_COUNTS,
      },
    ]);
  });

  it('shows every group with its balancer and upstreams', () => {
    assert.deepEqual(t.proxy.snapshot().groups, [
      {
        name: 'g',
        balancer: 'least-connections',
        upstreams: [
          {
            id: 'up-a',
            address: upA.address,
            state: 'up',
            weight: 2,
            maxConnections: 0,
            up: true,
            healthy: true,
            ejected: false,
            active: 0,
            connecting: 0,
            total: 0,
            bytesIn: 0,
            bytesOut: 0,
            failures: 0,
          },
        ],
        retiredActive: 0,
      },
    ]);
  });

  it('shows live sessions as plain data, and the counters they move', async () => {
    const plain = await holdPlain('127.0.0.91');
    const tls = await connectTls({ port: port('mtls'), ca: pki.ca.cert, client: pki.groupA });
    tls.write(PARTIAL_REQUEST);
    await until(
      () =>
        live('plain')[0]?.bytesFromClient === PARTIAL_REQUEST.length && live('mtls')[0]?.phase === 'relaying',
      'both sessions relaying',
    );
    const [p] = live('plain');
    const [m] = live('mtls');
    assert.equal(typeof p.ageMs, 'number');
    assert.deepEqual(
      { ...p, ageMs: 0 },
      {
        listener: 'plain',
        clientAddress: '127.0.0.91',
        clientPort: plain.localPort,
        clientId: '',
        org: '',
        group: 'g',
        upstream: 'up-a',
        phase: 'relaying',
        bytesFromClient: PARTIAL_REQUEST.length,
        bytesToClient: 0,
        ageMs: 0,
      },
    );
    assert.deepEqual(
      [m.clientAddress, m.clientPort, m.clientId, m.org, m.group, m.upstream],
      ['127.0.0.1', tls.localPort, 'client-a', 'groupA', 'g', 'up-a'],
    );
    const s = t.proxy.snapshot();
    assert.equal(s.sessionCount, 2);
    const counts = s.listeners.map((l) => [l.name, l.stats.accepted, l.stats.active, l.stats.proxied]);
    assert.deepEqual(counts, [
      ['plain', 1, 1, 1],
      ['mtls', 1, 1, 1],
    ]);
    assert.deepEqual(
      s.groups[0].upstreams.map((u) => [u.active, u.total]),
      [[2, 2]],
    );

    assert.deepEqual(await Promise.all([finishRequest(plain), finishRequest(tls)]), ['up-a', 'up-a']);
    await until(() => t.proxy.snapshot().sessionCount === 0, 'both sessions ended');
    const after = t.proxy.snapshot();
    for (const l of after.listeners) {
      assert.equal(l.stats.active, 0);
      assert.ok(l.stats.bytesFromClients > 0 && l.stats.bytesToClients > 0, `${l.name} counted bytes`);
    }
    assert.deepEqual(
      after.groups[0].upstreams.map((u) => [u.active, u.total]),
      [[0, 2]],
    );
  });

  it('apply() puts a new runtime in force for new sessions; a session already running keeps its own', async () => {
    const held = await holdPlain('127.0.0.92');
    await until(() => live('plain')[0]?.phase === 'relaying', 'held session relaying');
    next = await buildTestRuntime(await config(upB, 'up-b'));
    next.start();
    t.proxy.apply(next.runtime);
    assert.equal(t.proxy.runtime, next.runtime);
    assert.deepEqual(
      t.proxy.snapshot().groups.map((g) => g.upstreams.map((u) => u.id)),
      [['up-b']],
    );
    assert.equal(live('plain')[0].upstream, 'up-a', 'the held session still shows its upstream');
    assert.equal(await tcpGet(port('plain')), 'up-b');
    assert.equal(await tlsGet({ port: port('mtls'), ca: pki.ca.cert, client: pki.groupA }), 'up-b');
    assert.equal(await finishRequest(held), 'up-a');
  });

  it('shows a listener of the runtime that is not bound, with its kind’s fields and no counters', async () => {
    await t.proxy.removeListener('plain');
    const plain = t.proxy.snapshot().listeners.find((l) => l.name === 'plain');
    assert.deepEqual(plain, {
      name: 'plain',
      kind: 'tcp',
      bind: '127.0.0.1:0',
      group: 'g',
      address: null,
      port: null,
      listening: false,
      stats: NO_COUNTS,
    });
  });
});
