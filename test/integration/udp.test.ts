import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';
import { ErrorCodes } from '../../src/lib/errors.js';
import type { SessionRecord } from '../../src/proxy/events.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-harness.js';
import { closedUdpPort, UdpClient, type UdpUpstream, udpUpstream } from '../helpers/udp.js';

/** Polls `check` until it returns true, failing after `ms`. */
async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function listenerStats(t: TestProxy, name: string) {
  const l = t.proxy.snapshot().listeners.find((x) => x.name === name);
  assert.ok(l !== undefined, `listener ${name} in the snapshot`);
  return l;
}

describe('UDP listeners', { timeout: 60_000 }, () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  async function start(config: Record<string, unknown>): Promise<TestProxy> {
    const t = await startTestProxy(config);
    cleanup.push(() => t.stop());
    return t;
  }
  async function upstream(name: string, host?: string): Promise<UdpUpstream> {
    const u = await udpUpstream(name, host);
    cleanup.push(() => u.close());
    return u;
  }
  async function client(family: 'udp4' | 'udp6' = 'udp4', host?: string): Promise<UdpClient> {
    const c = await new UdpClient(family).bind(host);
    cleanup.push(() => c.close());
    return c;
  }

  it('echoes through the balancer to several clients at once, each getting its own replies', async () => {
    const u = await upstream('echo');
    const t = await start({
      listeners: [{ name: 'dns', bind: '127.0.0.1:0', protocol: 'udp', group: 'g' }],
      groups: { g: { upstreams: [{ address: u.address }] } },
    });
    const clients = await Promise.all([1, 2, 3, 4, 5].map(() => client()));
    const answers = await Promise.all(clients.map((c, i) => c.ask(`q${i}`, t.port('dns'))));
    for (const [i, a] of answers.entries()) assert.equal(a, `echo:q${i}`);
    for (const [i, c] of clients.entries())
      assert.ok(
        c.replies.every((r) => r === `echo:q${i}`),
        c.replies.join(),
      );
    const snap = listenerStats(t, 'dns');
    assert.equal(snap.kind, 'udp');
    assert.equal(snap.stats.active, 5);
    assert.equal(snap.maxFlows, 10000);
  });

  it('binds a host name (localhost) and replies to each client at its address', async () => {
    const u = await upstream('named');
    const t = await start({
      listeners: [{ name: 'named', bind: 'localhost:0', protocol: 'udp', group: 'g' }],
      groups: { g: { upstreams: [{ address: u.address }] } },
    });
    const c = await client();
    assert.equal(await c.ask('hello', t.port('named')), 'named:hello');
  });

  it('answers a DNS-like request with its id, the record carrying bytes both ways', async () => {
    const u = await upstream('ns');
    const t = await start({
      listeners: [
        { name: 'dns', bind: '127.0.0.1:0', protocol: 'udp', group: 'g', flowIdleTimeout: '200ms' },
      ],
      groups: { g: { upstreams: [{ address: u.address }] } },
    });
    const c = await client();
    const reply = await c.ask('id=4711 A example.com', t.port('dns'));
    assert.equal(reply, 'ns:id=4711 A example.com');
    const record: SessionRecord = await t.record((r) => r.listener === 'dns' && r.clientPort === c.port);
    assert.equal(record.termination, ErrorCodes.ERR_IDLE_TIMEOUT);
    assert.ok(record.bytesFromClient >= 'id=4711 A example.com'.length);
    assert.ok(record.bytesToClient >= 'ns:id=4711 A example.com'.length);
    assert.ok((record.packetsFromClient ?? 0) >= 1 && (record.packetsToClient ?? 0) >= 1);
    assert.equal(record.upstreamAddress, u.address);
    await until(() => listenerStats(t, 'dns').stats.active === 0, 'the flow table to empty');
    const line = t.logger.lines.find((l) => l.fields.listener === 'dns' && l.fields.clientPort === c.port);
    assert.ok(line !== undefined, 'an access log line for the flow');
  });

  it('spreads flows over two upstreams with least-connections', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const t = await start({
      listeners: [{ name: 'lc', bind: '127.0.0.1:0', protocol: 'udp', group: 'g' }],
      groups: {
        g: { balancer: 'least-connections', upstreams: [{ address: a.address }, { address: b.address }] },
      },
    });
    const clients = await Promise.all([1, 2, 3, 4].map(() => client()));
    for (const c of clients) await c.ask('hi', t.port('lc'));
    const served = clients.map((c) => c.replies[0].split(':')[0]);
    assert.equal(served.filter((s) => s === 'a').length, 2, served.join());
    assert.equal(served.filter((s) => s === 'b').length, 2, served.join());
  });

  it('keeps a client on one upstream across flows with consistent-hash on the source', async () => {
    const ups = await Promise.all(['x', 'y', 'z'].map((n) => upstream(n)));
    const t = await start({
      listeners: [{ name: 'ch', bind: '127.0.0.1:0', protocol: 'udp', group: 'g', flowIdleTimeout: '100ms' }],
      groups: {
        g: {
          balancer: 'consistent-hash',
          hashKey: 'source-ip',
          upstreams: ups.map((u) => ({ address: u.address })),
        },
      },
    });
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      // A new client socket each time: a new port, so a new flow from the same address.
      const c = await client();
      seen.add((await c.ask(`n${i}`, t.port('ch'))).split(':')[0]);
    }
    assert.equal(seen.size, 1, [...seen].join());
    const flows = ups.reduce((n, u) => n + u.peers.size, 0);
    assert.equal(flows, 4, 'one upstream socket per flow');
  });

  it('drops and counts a third client beyond maxFlows: 2', async () => {
    const u = await upstream('m');
    const t = await start({
      listeners: [{ name: 'small', bind: '127.0.0.1:0', protocol: 'udp', group: 'g', maxFlows: 2 }],
      groups: { g: { upstreams: [{ address: u.address }] } },
    });
    const [c1, c2, c3] = await Promise.all([client(), client(), client()]);
    await c1.ask('one', t.port('small'));
    await c2.ask('two', t.port('small'));
    for (let i = 0; i < 5; i++) c3.send('three', t.port('small'));
    await until(
      () => (listenerStats(t, 'small').stats.rejections[ErrorCodes.ERR_FLOW_TABLE_FULL] ?? 0) >= 5,
      'five counted drops',
    );
    assert.deepEqual(c3.replies, []);
    assert.equal(listenerStats(t, 'small').stats.active, 2);
    assert.ok(
      t.logger.lines.some(
        (l) => l.message === 'datagram dropped' && l.fields.reason === 'ERR_FLOW_TABLE_FULL',
      ),
    );
  });

  it('ends a flow whose upstream port is closed, and the next datagram goes to another upstream', async () => {
    const dead = await closedUdpPort();
    const live = await upstream('live');
    const t = await start({
      listeners: [{ name: 'fo', bind: '127.0.0.1:0', protocol: 'udp', group: 'g' }],
      groups: { g: { balancer: 'round-robin', upstreams: [{ address: dead }, { address: live.address }] } },
    });
    const c = await client();
    c.send('first', t.port('fo'));
    const ended = await t.record((r) => r.listener === 'fo' && r.clientPort === c.port);
    assert.equal(ended.termination, ErrorCodes.ERR_UPSTREAM_CONNECT);
    assert.equal(ended.upstreamAddress, dead);
    assert.equal(await c.ask('again', t.port('fo')), 'live:again');
  });

  it('serves IPv6 clients on [::1]', async () => {
    const u = await upstream('six', '::1');
    const t = await start({
      listeners: [{ name: 'v6', bind: '[::1]:0', protocol: 'udp', group: 'g' }],
      groups: { g: { upstreams: [{ address: u.address }] } },
    });
    const c = await client('udp6', '::1');
    assert.equal(await c.ask('hello', t.port('v6'), '::1'), 'six:hello');
  });

  it('drops the datagrams of a denied source before any flow exists', async () => {
    const u = await upstream('d');
    const t = await start({
      listeners: [
        { name: 'closed', bind: '127.0.0.1:0', protocol: 'udp', group: 'g', deny: ['127.0.0.0/8'] },
      ],
      groups: { g: { upstreams: [{ address: u.address }] } },
    });
    const c = await client();
    for (let i = 0; i < 3; i++) c.send('knock', t.port('closed'));
    await until(
      () => (listenerStats(t, 'closed').stats.rejections[ErrorCodes.ERR_ADDRESS_DENIED] ?? 0) >= 3,
      'three denied datagrams',
    );
    assert.equal(listenerStats(t, 'closed').stats.accepted, 0);
    assert.equal(u.peers.size, 0);
  });

  it('ends every flow with ERR_SHUTDOWN when the proxy stops', async () => {
    const u = await upstream('s');
    const t = await startTestProxy({
      listeners: [{ name: 'bye', bind: '127.0.0.1:0', protocol: 'udp', group: 'g' }],
      groups: { g: { upstreams: [{ address: u.address }] } },
    });
    const c = await client();
    await c.ask('x', t.port('bye'));
    await t.stop();
    const record = await t.record((r) => r.listener === 'bye');
    assert.equal(record.termination, ErrorCodes.ERR_SHUTDOWN);
    assert.equal(t.proxy.snapshot().listeners[0].listening, false);
  });

  it('limits new flows per source address with handshakeRate.perSource', async () => {
    const u = await upstream('r');
    const t = await start({
      listeners: [
        {
          name: 'rated',
          bind: '127.0.0.1:0',
          protocol: 'udp',
          group: 'g',
          handshakeRate: { perSource: 1, window: '1h' },
        },
      ],
      groups: { g: { upstreams: [{ address: u.address }] } },
    });
    const first = await client();
    assert.equal(await first.ask('a', t.port('rated')), 'r:a');
    // Same address, another port: another flow, over the rate.
    const second = await client();
    second.send('b', t.port('rated'));
    await until(
      () => (listenerStats(t, 'rated').stats.rejections[ErrorCodes.ERR_HANDSHAKE_RATE] ?? 0) >= 1,
      'a counted rate drop',
    );
    assert.deepEqual(second.replies, []);
    // The first client's flow exists, so its datagrams are not new flows and pass.
    assert.equal(await first.ask('c', t.port('rated')), 'r:c');
  });

  it('a reload turns a TCP listener into a UDP one on the same port', async () => {
    const u = await upstream('re');
    const config = {
      listeners: [{ name: 'flip', bind: '127.0.0.1:0', group: 'g' }],
      groups: { g: { upstreams: [{ address: u.address }] } },
    };
    const t = await start(config);
    const port = t.port('flip');
    const next = parseConfigText(
      stringify({
        ...config,
        listeners: [{ name: 'flip', bind: `127.0.0.1:${port}`, protocol: 'udp', group: 'g' }],
      }),
      join(tmpdir(), 'switchyard-udp.yaml'),
    );
    const result = await t.manager.reload(next);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(listenerStats(t, 'flip').kind, 'udp');
    const c = await client();
    assert.equal(await c.ask('after', t.port('flip')), 're:after');
  });

  it('moves flows off an upstream a UDP health check marks down, with shutdownSessionsOnDown', async () => {
    const health = { ok: true };
    const a = await udpUpstream('a', '127.0.0.1', health);
    cleanup.push(() => a.close());
    const b = await upstream('b');
    const t = await start({
      listeners: [{ name: 'hc', bind: '127.0.0.1:0', protocol: 'udp', group: 'g' }],
      groups: {
        g: {
          balancer: 'round-robin',
          shutdownSessionsOnDown: true,
          healthCheck: {
            type: 'udp',
            send: 'PING',
            expect: 'PONG',
            interval: '50ms',
            timeout: '500ms',
            fall: 1,
            rise: 1,
          },
          upstreams: [{ address: a.address }, { address: b.address, healthCheck: { enabled: false } }],
        },
      },
    });
    const c = await client();
    assert.equal(await c.ask('one', t.port('hc')), 'a:one');
    health.ok = false;
    const ended = await t.record((r) => r.listener === 'hc' && r.clientPort === c.port);
    assert.equal(ended.termination, ErrorCodes.ERR_UPSTREAM_DOWN);
    assert.equal(await c.ask('two', t.port('hc')), 'b:two');
  });
});
