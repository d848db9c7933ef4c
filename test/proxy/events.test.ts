import assert from 'node:assert/strict';
import {
  subscribe as subscribeProcessChannel,
  unsubscribe as unsubscribeProcessChannel,
} from 'node:diagnostics_channel';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes } from '../../src/lib/errors.js';
import type {
  ConnectionRefusedEvent,
  HandshakeEvent,
  ListenerBoundEvent,
  ProxyEvents,
  SessionAdmittedEvent,
  SessionEndedEvent,
  UpstreamPickedEvent,
} from '../../src/proxy/events.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTcp, connectTls, httpGet, readAll, tcpGet, tlsGet, until } from '../helpers/clients.js';
import {
  type BuiltTestProxy,
  buildTestProxy,
  recordEvents,
  type SeenEvent,
  testTlsBlock,
} from '../helpers/proxy-harness.js';
import { refusedPort, startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

/** The messages of one channel seen so far, optionally only those that match. */
function messages<T>(
  seen: SeenEvent[],
  channel: keyof ProxyEvents,
  match: (m: T) => boolean = () => true,
): T[] {
  return seen
    .filter((e) => e.channel === channel)
    .map((e) => e.message as T)
    .filter(match);
}

/** Waits until a message of `channel` matches, and returns the first that does. */
async function awaitEvent<T>(
  seen: SeenEvent[],
  channel: keyof ProxyEvents,
  match: (m: T) => boolean,
): Promise<T> {
  await until(() => messages(seen, channel, match).length > 0, `a ${channel} event`);
  return messages(seen, channel, match)[0];
}

describe('proxy events over real sockets', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let up: TestUpstream;
  let deadAddress: string;
  let t: BuiltTestProxy;
  let seen: SeenEvent[];

  before(async () => {
    pki = await getTestPki();
    up = await startNamedHttpUpstream('up-1');
    deadAddress = `127.0.0.1:${await refusedPort()}`;
    t = await buildTestProxy({
      listeners: [
        { name: 'full', bind: '127.0.0.1:0', group: 'g', maxConnections: 1 },
        { name: 'rated', bind: '127.0.0.1:0', group: 'g', handshakeRate: { perSource: 1, window: '1h' } },
        {
          name: 'mtls',
          bind: '127.0.0.1:0',
          tls: await testTlsBlock(),
          routes: [{ org: 'groupA', group: 'g' }],
          maxPendingHandshakes: 1,
        },
        { name: 'dead', bind: '127.0.0.1:0', group: 'gone' },
      ],
      groups: {
        g: { upstreams: [{ address: up.address, id: 'up-1' }] },
        gone: { upstreams: [{ address: deadAddress, id: 'dead-1' }] },
      },
      connect: { attempts: 2 },
    });
    // Subscribed before the listeners are bound, so their bound events are seen too.
    seen = recordEvents(t.proxy.events);
    await t.start();
  });

  after(async () => {
    await t.stop();
    await up.close();
  });

  const port = (name: string) => t.proxy.listener(name).address().port;
  const refusals = (reason: string) =>
    messages<ConnectionRefusedEvent>(seen, 'connectionRefused', (e) => e.reason === reason);

  it('publishes listenerBound for every listener with its kind and bound address', () => {
    const bound = messages<ListenerBoundEvent>(seen, 'listenerBound');
    assert.deepEqual(bound, [
      { listener: 'full', kind: 'tcp', address: '127.0.0.1', port: port('full') },
      { listener: 'rated', kind: 'tcp', address: '127.0.0.1', port: port('rated') },
      { listener: 'mtls', kind: 'tls', address: '127.0.0.1', port: port('mtls') },
      { listener: 'dead', kind: 'tcp', address: '127.0.0.1', port: port('dead') },
    ]);
  });

  it('publishes a refusal by the connection cap, with listener, reason and client address', async () => {
    const held = await connectTcp(port('full'));
    await awaitEvent<SessionAdmittedEvent>(seen, 'sessionAdmitted', (e) => e.listener === 'full');
    assert.equal(await tcpGet(port('full')), '');
    const refusal = await awaitEvent<ConnectionRefusedEvent>(
      seen,
      'connectionRefused',
      (e) => e.listener === 'full',
    );
    assert.deepEqual(refusal, {
      listener: 'full',
      reason: ErrorCodes.ERR_LISTENER_FULL,
      clientAddress: '127.0.0.1',
    });
    assert.equal(await httpGet(held), 'up-1');
  });

  it('publishes a refusal by the per-source rate', async () => {
    assert.equal(await tcpGet(port('rated')), 'up-1');
    assert.equal(await tcpGet(port('rated')), '');
    const refusal = await awaitEvent<ConnectionRefusedEvent>(
      seen,
      'connectionRefused',
      (e) => e.listener === 'rated',
    );
    assert.deepEqual(refusal, {
      listener: 'rated',
      reason: ErrorCodes.ERR_HANDSHAKE_RATE,
      clientAddress: '127.0.0.1',
    });
  });

  it('publishes a refusal by the handshake backlog, and a failed handshake', async () => {
    // A connection that never speaks holds the one handshake slot.
    const silent = netConnect({ host: '127.0.0.1', port: port('mtls') });
    await until(() => t.proxy.stats('mtls').handshaking === 1, 'one handshake in progress');
    assert.equal((await readAll(await connectTcp(port('mtls')))).text, '');
    const backlog = await awaitEvent<ConnectionRefusedEvent>(
      seen,
      'connectionRefused',
      (e) => e.reason === ErrorCodes.ERR_HANDSHAKE_BACKLOG,
    );
    assert.deepEqual(backlog, {
      listener: 'mtls',
      reason: ErrorCodes.ERR_HANDSHAKE_BACKLOG,
      clientAddress: '127.0.0.1',
    });
    const reply = readAll(silent);
    silent.write('GET / HTTP/1.1\r\n\r\n');
    await reply;
    const failed = await awaitEvent<ConnectionRefusedEvent>(
      seen,
      'connectionRefused',
      (e) => e.reason === ErrorCodes.ERR_TLS_HANDSHAKE,
    );
    assert.deepEqual(failed, {
      listener: 'mtls',
      reason: ErrorCodes.ERR_TLS_HANDSHAKE,
      clientAddress: '127.0.0.1',
    });
  });

  for (const [what, client, reason] of [
    ['no client certificate', undefined, ErrorCodes.ERR_NO_CLIENT_CERT],
    ['an expired certificate', 'expired', ErrorCodes.ERR_CERT_EXPIRED],
    ['an untrusted certificate', 'untrusted', ErrorCodes.ERR_CERT_UNTRUSTED],
  ] as const) {
    it(`publishes a refusal of ${what} during the handshake`, async () => {
      const before = refusals(reason).length;
      assert.equal(
        await tlsGet({
          port: port('mtls'),
          ca: pki.ca.cert,
          client: client === undefined ? undefined : pki[client],
        }),
        '',
      );
      await until(() => refusals(reason).length === before + 1, `${reason} published`);
      assert.deepEqual(refusals(reason)[before], { listener: 'mtls', reason, clientAddress: '127.0.0.1' });
    });
  }

  it('publishes handshake, admitted, picked and ended, in that order, for one mTLS session', async () => {
    const from = seen.length;
    const socket = await connectTls({ port: port('mtls'), ca: pki.ca.cert, client: pki.groupA });
    const clientPort = socket.localPort;
    assert.equal(await httpGet(socket), 'up-1');
    const ended = await awaitEvent<SessionEndedEvent>(
      seen,
      'sessionEnded',
      (e) => e.clientPort === clientPort,
    );
    // This session's events: an earlier session's end may still arrive meanwhile.
    const mine = seen.slice(from).filter((e) => {
      const m = e.message as { listener: string; clientPort?: number };
      return (
        e.channel !== 'connectionRefused' &&
        m.listener === 'mtls' &&
        (m.clientPort ?? clientPort) === clientPort
      );
    });
    assert.deepEqual(
      mine.map((e) => e.channel),
      ['handshake', 'sessionAdmitted', 'upstreamPicked', 'sessionEnded'],
    );
    const handshake = mine[0].message as HandshakeEvent;
    assert.equal(handshake.listener, 'mtls');
    assert.equal(typeof handshake.ms, 'number');
    assert.deepEqual(mine[1].message, {
      listener: 'mtls',
      clientId: 'client-a',
      clientAddress: '127.0.0.1',
      clientPort,
      group: 'g',
      rateChecked: false,
      concurrencyChecked: false,
    });
    assert.deepEqual(mine[2].message, { listener: 'mtls', group: 'g', upstream: 'up-1', attempt: 1 });
    const { durationMs, handshakeMs, connectMs, bytesFromClient, bytesToClient, tlsCipher, ...rest } = ended;
    for (const n of [durationMs, handshakeMs, connectMs]) assert.equal(typeof n, 'number');
    assert.ok(bytesFromClient > 0 && bytesToClient > 0, 'bytes counted both ways');
    assert.notEqual(tlsCipher, '');
    assert.deepEqual(rest, {
      listener: 'mtls',
      clientAddress: '127.0.0.1',
      clientPort,
      clientId: 'client-a',
      org: 'groupA',
      group: 'g',
      upstream: 'up-1',
      upstreamAddress: up.address,
      connectAttempts: 1,
      tlsVersion: 'TLSv1.3',
      serverName: 'localhost',
      alpn: '',
      termination: 'OK',
    });
  });

  it('publishes a refusal inside a session as its ended record, with no admission', async () => {
    const socket = await connectTls({ port: port('mtls'), ca: pki.ca.cert, client: pki.intruder });
    const clientPort = socket.localPort;
    assert.equal(await httpGet(socket), '');
    const ended = await awaitEvent<SessionEndedEvent>(
      seen,
      'sessionEnded',
      (e) => e.clientPort === clientPort,
    );
    assert.equal(ended.termination, ErrorCodes.ERR_UNAUTHORIZED_ORG);
    assert.deepEqual(
      [ended.clientId, ended.org, ended.group, ended.upstream],
      ['mallory', 'intruder', '', ''],
    );
    assert.equal(ended.connectAttempts, 0);
    assert.deepEqual(
      messages<SessionAdmittedEvent>(seen, 'sessionAdmitted', (e) => e.clientPort === clientPort),
      [],
    );
  });

  it('publishes one pick per connect attempt and the last failure as the termination', async () => {
    const socket = await connectTcp(port('dead'));
    const clientPort = socket.localPort;
    assert.equal(await httpGet(socket), '');
    const ended = await awaitEvent<SessionEndedEvent>(
      seen,
      'sessionEnded',
      (e) => e.clientPort === clientPort,
    );
    assert.equal(ended.termination, ErrorCodes.ERR_UPSTREAM_CONNECT);
    assert.equal(ended.connectAttempts, 2);
    assert.equal(ended.group, 'gone');
    assert.deepEqual(
      messages<UpstreamPickedEvent>(seen, 'upstreamPicked', (e) => e.listener === 'dead'),
      [
        { listener: 'dead', group: 'gone', upstream: 'dead-1', attempt: 1 },
        { listener: 'dead', group: 'gone', upstream: 'dead-1', attempt: 2 },
      ],
    );
  });

  it('logs a subscriber that throws and goes on serving and delivering', async () => {
    const boom = () => {
      throw new Error('subscriber bug');
    };
    await until(() => t.proxy.stats('full').active === 0, 'the earlier session on "full" ended');
    t.proxy.events.upstreamPicked.subscribe(boom);
    const before = messages(seen, 'upstreamPicked').length;
    try {
      assert.equal(await tcpGet(port('full')), 'up-1');
    } finally {
      t.proxy.events.upstreamPicked.unsubscribe(boom);
    }
    assert.equal(messages(seen, 'upstreamPicked').length, before + 1, 'the next subscriber still heard it');
    const line = t.logger.lines.find((l) => l.message === 'event subscriber failed');
    assert.equal(line?.fields.channel, 'switchyard:upstream:picked');
    assert.match(String(line?.fields.err), /subscriber bug/);
  });

  it('publishes listenerClosed when a listener is removed', async () => {
    const closedPort = port('rated');
    await t.proxy.removeListener('rated');
    assert.deepEqual(messages(seen, 'listenerClosed'), [
      { listener: 'rated', address: '127.0.0.1', port: closedPort },
    ]);
  });
});

describe('admission events', { timeout: 30_000 }, () => {
  let up: TestUpstream;
  let t: BuiltTestProxy;
  let seen: SeenEvent[];

  before(async () => {
    up = await startNamedHttpUpstream('up-1');
    t = await buildTestProxy({
      listeners: [{ name: 'plain', bind: '127.0.0.1:0', group: 'g' }],
      groups: { g: { upstreams: [{ address: up.address, id: 'up-1' }] } },
      rateLimit: { algorithm: 'fixed-window', limit: 2, window: '1h' },
      concurrency: { perClient: 1 },
    });
    seen = recordEvents(t.proxy.events);
    await t.start();
  });

  after(async () => {
    await t.stop();
    await up.close();
  });

  const ended = (clientPort: number) =>
    awaitEvent<SessionEndedEvent>(seen, 'sessionEnded', (e) => e.clientPort === clientPort);

  it('says which gates a session passed, and refuses by concurrency, then by rate, inside the session', async () => {
    const port = t.proxy.listener('plain').address().port;
    const held = await connectTcp(port, '127.0.0.1', '127.0.0.81');
    const admitted = await awaitEvent<SessionAdmittedEvent>(seen, 'sessionAdmitted', () => true);
    assert.deepEqual(admitted, {
      listener: 'plain',
      clientId: '',
      clientAddress: '127.0.0.81',
      clientPort: held.localPort,
      group: 'g',
      rateChecked: true,
      concurrencyChecked: true,
    });
    for (const reason of [ErrorCodes.ERR_CONCURRENCY_LIMIT, ErrorCodes.ERR_RATE_LIMITED]) {
      const refused: Socket = await connectTcp(port, '127.0.0.1', '127.0.0.81');
      const clientPort = refused.localPort!;
      assert.equal(await httpGet(refused), '');
      const record = await ended(clientPort);
      assert.equal(record.termination, reason);
      assert.equal(record.clientAddress, '127.0.0.81');
    }
    assert.equal(messages(seen, 'sessionAdmitted').length, 1, 'refused sessions are not admitted');
    assert.equal(messages(seen, 'upstreamPicked').length, 1);
    assert.equal(await httpGet(held), 'up-1');
  });
});

describe('publishing only when someone listens', { timeout: 30_000 }, () => {
  let up: TestUpstream;
  let t: BuiltTestProxy;

  before(async () => {
    up = await startNamedHttpUpstream('up-1');
    t = await buildTestProxy({
      listeners: [{ name: 'plain', bind: '127.0.0.1:0', group: 'g' }],
      groups: { g: { upstreams: [{ address: up.address, id: 'up-1' }] } },
    });
    await t.start();
  });

  after(async () => {
    await t.stop();
    await up.close();
  });

  const channels = () => Object.values(t.proxy.events) as ProxyEvents[keyof ProxyEvents][];

  it('has no subscriber on any channel until one subscribes, and none after it leaves', async () => {
    assert.deepEqual(
      channels().map((c) => c.hasSubscribers),
      channels().map(() => false),
    );
    assert.equal(await tcpGet(t.proxy.listener('plain').address().port), 'up-1');
    const fn = () => {};
    t.proxy.events.sessionEnded.subscribe(fn);
    assert.equal(t.proxy.events.sessionEnded.hasSubscribers, true);
    assert.equal(t.proxy.events.sessionEnded.unsubscribe(fn), true);
    assert.equal(t.proxy.events.sessionEnded.hasSubscribers, false);
  });

  it('mirrors each message on the process-wide diagnostics channel of the same name', async () => {
    const mirrored: unknown[] = [];
    const fn = (message: unknown) => mirrored.push(message);
    const admitted = t.proxy.events.sessionAdmitted;
    subscribeProcessChannel(admitted.name, fn);
    try {
      assert.equal(admitted.hasSubscribers, true);
      assert.equal(await tcpGet(t.proxy.listener('plain').address().port, '127.0.0.1', '127.0.0.82'), 'up-1');
      assert.equal(mirrored.length, 1);
      assert.equal((mirrored[0] as SessionAdmittedEvent).clientAddress, '127.0.0.82');
    } finally {
      unsubscribeProcessChannel(admitted.name, fn);
    }
    assert.equal(admitted.hasSubscribers, false);
  });
});
