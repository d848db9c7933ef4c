import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { ErrorCodes } from '../../src/lib/errors.js';
import type { ConcurrencyLimiter } from '../../src/lib/ratelimit/concurrency-limiter.js';
import type { UpstreamGroup } from '../../src/lib/upstreams/upstream-group.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTls, EchoClient, readAll, tlsGet, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import {
  type BlackholeUpstream,
  refusedPort,
  startBlackholeUpstream,
  startEchoUpstream,
  startNamedHttpUpstream,
  type TestUpstream,
} from '../helpers/upstreams.js';

/** A mutual-TLS listener that sends every client to `group`. */
async function tlsListener(name: string, group: string): Promise<Record<string, unknown>> {
  return { name, bind: '127.0.0.1:0', tls: await testTlsBlock(), routes: [{ org: '*', group }] };
}

describe('upstream failures (connect attempts 3, at most 5 sessions per client)', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let t: TestProxy;
  let live: TestUpstream;
  let never: TestUpstream;
  let a: TestUpstream;
  let b: TestUpstream;
  let r: TestUpstream;
  let afterTimeout: TestUpstream;
  let s: TestUpstream;
  let blackhole: BlackholeUpstream;
  const clients: TLSSocket[] = [];

  before(async () => {
    pki = await getTestPki();
    [live, never, a, b, r, afterTimeout, s, blackhole] = await Promise.all([
      startNamedHttpUpstream('live'),
      startNamedHttpUpstream('never'),
      startEchoUpstream('A'),
      startEchoUpstream('B'),
      startEchoUpstream('R'),
      startNamedHttpUpstream('after-timeout'),
      startEchoUpstream('S'),
      startBlackholeUpstream(),
    ]);
    const dead = await refusedPort();
    t = await startTestProxy({
      listeners: [
        await tlsListener('retry', 'retry'),
        await tlsListener('down', 'down'),
        await tlsListener('kill', 'kill'),
        await tlsListener('reset', 'reset'),
        await tlsListener('slow-connect', 'slow-connect'),
        await tlsListener('blackhole', 'blackhole'),
        await tlsListener('spread', 'spread'),
      ],
      groups: {
        retry: {
          balancer: 'round-robin',
          upstreams: [
            { address: `127.0.0.1:${dead}`, id: 'dead' },
            { address: live.address, id: 'live' },
          ],
        },
        down: {
          upstreams: [
            { address: never.address, id: 'never-1', state: 'down' },
            { address: never.address, id: 'never-2', state: 'down' },
          ],
        },
        kill: {
          balancer: 'least-connections',
          upstreams: [
            { address: a.address, id: 'A' },
            { address: b.address, id: 'B' },
          ],
        },
        reset: { upstreams: [{ address: r.address, id: 'R' }] },
        'slow-connect': {
          balancer: 'round-robin',
          upstreams: [
            { address: blackhole.address, id: 'blackhole' },
            { address: afterTimeout.address, id: 'after-timeout' },
          ],
        },
        blackhole: { upstreams: [{ address: blackhole.address, id: 'blackhole' }] },
        spread: {
          balancer: 'least-connections',
          upstreams: [
            { address: `127.0.0.1:${dead}`, id: 'dead' },
            { address: s.address, id: 'S' },
          ],
        },
      },
      connect: { attempts: 3 },
      concurrency: { perClient: 5 },
      timeouts: { connect: '200ms' },
    });
  });

  after(async () => {
    for (const c of clients) c.destroy();
    await t.stop();
    await Promise.all([live, never, a, b, r, afterTimeout, s].map((u) => u.close()));
    await blackhole.close();
  });

  const group = (name: string): UpstreamGroup => t.proxy.runtime.groups.get(name)!;
  const get = (listener: string) => tlsGet({ port: t.port(listener), ca: pki.ca.cert, client: pki.groupA });
  const open = async (listener: string) => {
    const socket = await connectTls({ port: t.port(listener), ca: pki.ca.cert, client: pki.groupA });
    clients.push(socket);
    return new EchoClient(socket);
  };

  it('retries past a refused upstream: every request reaches the live one', async () => {
    const from = t.records.length;
    for (let i = 0; i < 10; i++) assert.equal(await get('retry'), 'live', `request ${i}`);
    await until(() => t.records.length === from + 10, 'ten records');
    const records = t.records.slice(from);
    for (const rec of records) {
      assert.equal(rec.termination, 'OK');
      assert.equal(rec.upstream, 'live');
    }
    const dead = group('retry').get('dead')!;
    assert.ok(dead.failures > 0, 'the refused upstream must have been tried and counted');
    assert.equal(group('retry').get('live')!.failures, 0);
    await until(() => dead.active === 0 && dead.connecting === 0, 'the dead upstream released');
  });

  it('refuses with ERR_NO_HEALTHY_UPSTREAM when every upstream is down, without connecting', async () => {
    const from = t.records.length;
    const before = t.proxy.stats('down').rejected(ErrorCodes.ERR_NO_HEALTHY_UPSTREAM);
    assert.equal(await get('down'), '');
    const rec = await t.record((x) => x.listener === 'down', from);
    assert.equal(rec.termination, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM);
    assert.equal(rec.upstream, '');
    assert.equal(rec.group, 'down');
    assert.equal(t.proxy.stats('down').rejected(ErrorCodes.ERR_NO_HEALTHY_UPSTREAM), before + 1);
    assert.equal(never.accepted, 0);
  });

  it('gives up on an upstream that does not answer the connect and takes the next', async () => {
    const from = t.records.length;
    // Round-robin: the first pick is the black hole, the retry goes to the live upstream.
    assert.equal(await get('slow-connect'), 'after-timeout');
    const rec = await t.record((x) => x.listener === 'slow-connect', from);
    assert.equal(rec.termination, 'OK');
    assert.equal(rec.upstream, 'after-timeout');
    assert.equal(group('slow-connect').get('blackhole')!.failures, 1);
  });

  it('ends with ERR_UPSTREAM_CONNECT_TIMEOUT when no connect ever completes', async () => {
    const from = t.records.length;
    const stats = t.proxy.stats('blackhole');
    assert.equal(await get('blackhole'), '');
    const rec = await t.record((x) => x.listener === 'blackhole', from);
    assert.equal(rec.termination, ErrorCodes.ERR_UPSTREAM_CONNECT_TIMEOUT);
    assert.equal(rec.upstream, '');
    assert.equal(stats.rejected(ErrorCodes.ERR_UPSTREAM_CONNECT_TIMEOUT), 1);
    // Every one of the three attempts was made and counted.
    assert.equal(group('blackhole').get('blackhole')!.failures, 3);
  });

  it('an upstream that goes away mid-stream ends only its own sessions', async () => {
    const kill = group('kill');
    const from = t.records.length;
    const sessions: { client: EchoClient; on: 'A' | 'B' }[] = [];
    for (let i = 0; i < 4; i++) {
      const [aBefore, bBefore] = [a.accepted, b.accepted];
      const client = await open('kill');
      // The echo proves the session reached an upstream; the accept counters say which.
      await client.roundTrip(`hello ${i}\n`);
      assert.equal(a.accepted + b.accepted, aBefore + bBefore + 1);
      sessions.push({ client, on: a.accepted > aBefore ? 'A' : 'B' });
    }
    const onA = sessions.filter((s) => s.on === 'A').map((s) => s.client);
    const onB = sessions.filter((s) => s.on === 'B').map((s) => s.client);
    assert.equal(onA.length, 2, 'least-connections must spread 4 sessions 2 and 2');
    assert.equal(kill.get('A')!.active, 2);
    assert.equal(kill.get('B')!.active, 2);
    for (const [i, s] of sessions.entries()) await s.client.roundTrip(`more data ${i}\n`);

    // destroy() on an idle socket closes it with a FIN, not a reset: to the proxy that is the
    // upstream ending its stream, which it passes on to the client as a clean end.
    for (const s of a.sockets) s.destroy();
    await a.close();
    await Promise.all(onA.map((c) => c.closed));
    for (const c of onA) {
      assert.equal(c.ended, true, 'a session on A must see the end of its stream');
      assert.equal(c.errorCode, undefined);
    }
    const recordsOf = (id: string) => t.records.slice(from).filter((x) => x.upstream === id);
    await until(() => recordsOf('A').length === 2, 'both sessions on A recorded');
    for (const rec of recordsOf('A')) assert.equal(rec.termination, 'OK');

    // B's sessions never noticed.
    for (const c of onB) {
      assert.equal(c.socket.destroyed, false);
      await c.roundTrip('still here\n');
    }
    assert.equal(recordsOf('B').length, 0);

    // A new session still gets through: A refuses now, so after failed attempts on A it ends up on B.
    // Least-connections prefers the idle A; the retry must skip it and reach B.
    const bBefore = b.accepted;
    const aFailures = kill.get('A')!.failures;
    const fresh = await open('kill');
    await fresh.roundTrip('new session\n');
    assert.equal(b.accepted, bBefore + 1);
    assert.ok(kill.get('A')!.failures > aFailures, 'the session must have been retried past A');
    for (const c of [...onB, fresh]) c.socket.end();
    await Promise.all([...onB, fresh].map((c) => c.closed));
    await until(() => recordsOf('B').length === 3, 'the sessions on B recorded');
    for (const rec of recordsOf('B')) assert.equal(rec.termination, 'OK');
  });

  it('an upstream that resets mid-stream ends the session with ERR_UPSTREAM_RESET', async () => {
    const from = t.records.length;
    const client = await open('reset');
    await client.roundTrip('before the reset\n');
    assert.equal(r.sockets.size, 1);
    for (const s of r.sockets) s.resetAndDestroy();
    await client.closed;
    const rec = await t.record((x) => x.listener === 'reset', from);
    assert.equal(rec.termination, ErrorCodes.ERR_UPSTREAM_RESET);
    assert.equal(rec.upstream, 'R');
    assert.equal(t.proxy.stats('reset').rejected(ErrorCodes.ERR_UPSTREAM_RESET), 1);
    assert.equal(client.received, 'before the reset\n');
  });

  // Least-connections prefers the refused upstream while this session's failed leases are fewer than
  // the live upstream's sessions; the retry must still skip the upstream that just failed.
  it('retries go to another upstream even when the balancer prefers the dead one', async () => {
    const open4: EchoClient[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const client = await open('spread');
        open4.push(client);
        await client.roundTrip(`session ${i}\n`);
      }
      assert.equal(s.accepted, 4);
    } finally {
      for (const c of open4) c.socket.end();
      await Promise.all(open4.map((c) => c.closed));
    }
  });

  it('leaves every counter at rest, and the per-client cap admits new sessions again', async () => {
    await until(() => t.proxy.sessionCount === 0, 'all sessions ended');
    for (const g of t.proxy.runtime.groups.values()) {
      for (const u of g.upstreams) {
        assert.equal(u.active, 0, `${g.name}/${u.id} active`);
        assert.equal(u.connecting, 0, `${g.name}/${u.id} connecting`);
      }
    }
    const limiter = t.proxy.runtime.concurrency as ConcurrencyLimiter;
    assert.equal(limiter.size, 0, 'no client may still hold a concurrency slot');

    // The cap is 5: five sessions at once are all served, and a sixth is refused.
    const five = await Promise.all([0, 1, 2, 3, 4].map(() => open('reset')));
    await Promise.all(five.map((c, i) => c.roundTrip(`slot ${i}\n`)));
    const from = t.records.length;
    assert.equal(await get('reset'), '');
    const refused = await t.record((x) => x.listener === 'reset', from);
    assert.equal(refused.termination, ErrorCodes.ERR_CONCURRENCY_LIMIT);
    for (const c of five) c.socket.end();
    await Promise.all(five.map((c) => c.closed));
    await until(() => limiter.size === 0, 'slots released');
  });
});

describe('upstream failures (connect attempts 2)', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let t: TestProxy;

  before(async () => {
    pki = await getTestPki();
    const [dead1, dead2] = await Promise.all([refusedPort(), refusedPort()]);
    t = await startTestProxy({
      listeners: [await tlsListener('edge', 'dead')],
      groups: {
        dead: {
          balancer: 'round-robin',
          upstreams: [
            { address: `127.0.0.1:${dead1}`, id: 'dead-1' },
            { address: `127.0.0.1:${dead2}`, id: 'dead-2' },
          ],
        },
      },
      connect: { attempts: 2 },
      concurrency: { perClient: 1 },
    });
  });

  after(async () => {
    await t.stop();
  });

  it('refuses with ERR_UPSTREAM_CONNECT once both attempts failed, counted, nothing sent', async () => {
    const dead = t.proxy.runtime.groups.get('dead')!;
    for (let i = 1; i <= 3; i++) {
      const from = t.records.length;
      const socket = await connectTls({ port: t.port(), ca: pki.ca.cert, client: pki.groupA });
      const reply = readAll(socket);
      socket.write('GET / HTTP/1.1\r\n\r\n');
      const got = await reply;
      assert.equal(got.text, '', 'the client must receive nothing');
      const rec = await t.record((x) => x.listener === 'edge', from);
      assert.equal(rec.termination, ErrorCodes.ERR_UPSTREAM_CONNECT);
      assert.equal(rec.upstream, '');
      assert.equal(t.proxy.stats('edge').rejected(ErrorCodes.ERR_UPSTREAM_CONNECT), i);
      // Exactly `attempts` connects per session, and round-robin spread them over both upstreams.
      assert.equal(dead.get('dead-1')!.failures + dead.get('dead-2')!.failures, 2 * i);
    }
    assert.equal(dead.get('dead-1')!.failures, 3);
    assert.equal(dead.get('dead-2')!.failures, 3);
    for (const u of dead.upstreams) {
      assert.equal(u.active, 0);
      assert.equal(u.connecting, 0);
    }
    // With a cap of one session per client, three refusals in a row prove each one gave its slot back.
    assert.equal((t.proxy.runtime.concurrency as ConcurrencyLimiter).size, 0);
  });
});
