import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { ErrorCodes } from '../../src/lib/errors.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTcp, connectTls, readAll, tlsGet, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import { startNamedHttpUpstream, startSilentUpstream, type TestUpstream } from '../helpers/upstreams.js';

/** One mTLS listener routing groupA and groupB, plus whatever the test adds. */
async function edgeConfig(
  ups: TestUpstream[],
  extra: Record<string, unknown>,
  listener: Record<string, unknown> = {},
) {
  return {
    listeners: [
      {
        name: 'edge',
        bind: '127.0.0.1:0',
        tls: await testTlsBlock(),
        routes: [{ org: '*', group: '{org}' }],
        ...listener,
      },
    ],
    groups: {
      groupA: { balancer: 'least-connections', upstreams: ups.map((u) => ({ address: u.address })) },
      groupB: { balancer: 'least-connections', upstreams: ups.map((u) => ({ address: u.address })) },
    },
    ...extra,
  };
}

describe('admission: rate, concurrency, listener caps and least-connections', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let named: TestUpstream[];
  let silent: TestUpstream[];
  let t: TestProxy | undefined;
  const held: Socket[] = [];

  before(async () => {
    pki = await getTestPki();
    named = await Promise.all([startNamedHttpUpstream('n-1'), startNamedHttpUpstream('n-2')]);
    silent = await Promise.all(['s-1', 's-2', 's-3', 's-4'].map((n) => startSilentUpstream(n)));
  });

  afterEach(async () => {
    for (const s of held.splice(0)) s.destroy();
    await t?.stop();
    t = undefined;
  });

  after(async () => {
    await Promise.all([...named, ...silent].map((u) => u.close()));
  });

  const get = (client: keyof TestPki) => tlsGet({ port: t!.port(), ca: pki.ca.cert, client: pki[client] });
  const hold = async (client: keyof TestPki) => {
    const s = await connectTls({ port: t!.port(), ca: pki.ca.cert, client: pki[client] });
    held.push(s);
    return s;
  };

  it('routes with the one-line seed convention { org: "*", group: "{org}" }', async () => {
    t = await startTestProxy(await edgeConfig(named, {}));
    assert.match(await get('groupA'), /^n-/);
    assert.match(await get('groupB'), /^n-/);
    assert.equal(await get('intruder'), '');
    await t.record((r) => r.termination === ErrorCodes.ERR_UNAUTHORIZED_ORG && r.clientId === 'mallory');
  });

  it('rate-limits per client id with the fixed window; other clients are unaffected', async () => {
    t = await startTestProxy(
      await edgeConfig(named, { rateLimit: { algorithm: 'fixed-window', limit: 3, window: '1h' } }),
    );
    for (let i = 0; i < 3; i++) assert.match(await get('groupA'), /^n-/);
    assert.equal(await get('groupA'), '');
    const r = await t.record((x) => x.termination === ErrorCodes.ERR_RATE_LIMITED);
    assert.equal(r.clientId, 'client-a');
    assert.equal(t.proxy.stats('edge').rejected(ErrorCodes.ERR_RATE_LIMITED), 1);
    assert.match(await get('groupB'), /^n-/);
  });

  for (const algorithm of ['token-bucket', 'sliding-window', 'gcra']) {
    it(`accepts the ${algorithm} algorithm from config and enforces it`, async () => {
      const rateLimit = {
        algorithm,
        limit: 2,
        window: '1h',
        ...(algorithm === 'sliding-window' ? {} : { burst: 2 }),
      };
      t = await startTestProxy(await edgeConfig(named, { rateLimit }));
      assert.match(await get('groupA'), /^n-/);
      assert.match(await get('groupA'), /^n-/);
      assert.equal(await get('groupA'), '');
      await t.record((x) => x.termination === ErrorCodes.ERR_RATE_LIMITED);
    });
  }

  it('caps concurrent sessions per client and frees the slot when one ends', async () => {
    t = await startTestProxy(await edgeConfig(silent, { concurrency: { perClient: 2 } }));
    const first = await hold('groupA');
    await hold('groupA');
    await until(() => t!.proxy.stats('edge').proxied === 2, 'two sessions relaying');
    assert.equal(await get('groupA'), '');
    await t.record((r) => r.termination === ErrorCodes.ERR_CONCURRENCY_LIMIT);
    await hold('groupB');
    await until(() => t!.proxy.stats('edge').proxied === 3, 'another client is not affected');
    const from = t.records.length;
    first.destroy();
    await t.record(
      (r) => r.clientId === 'client-a' && r.termination !== ErrorCodes.ERR_CONCURRENCY_LIMIT,
      from,
    );
    await hold('groupA');
    await until(() => t!.proxy.stats('edge').proxied >= 4, 'a third groupA session admitted after one ended');
  });

  it('refuses connections past the listener cap before any TLS work', async () => {
    t = await startTestProxy(await edgeConfig(silent, {}, { maxConnections: 2 }));
    await hold('groupA');
    await hold('groupB');
    const extra = await connectTcp(t.port());
    const reply = await readAll(extra);
    assert.equal(reply.text, '');
    await until(
      () => t!.proxy.stats('edge').rejected(ErrorCodes.ERR_LISTENER_FULL) === 1,
      'listener-full counted',
    );
  });

  it('guards the handshake rate per source address', async () => {
    t = await startTestProxy(await edgeConfig(named, {}, { handshakeRate: { perSource: 3, window: '1h' } }));
    for (let i = 0; i < 3; i++) assert.match(await get('groupA'), /^n-/);
    assert.equal(await get('groupA'), '');
    assert.equal(t.proxy.stats('edge').rejected(ErrorCodes.ERR_HANDSHAKE_RATE), 1);
    const line = t.logger.lines.find((l) => l.fields.reason === ErrorCodes.ERR_HANDSHAKE_RATE);
    assert.equal(line?.level, 'warn');
  });

  it('spreads held connections evenly with least-connections', async () => {
    t = await startTestProxy(await edgeConfig(silent, {}));
    for (let i = 0; i < 12; i++) await hold('groupA');
    const group = t.proxy.runtime.groups.get('groupA')!;
    await until(() => group.upstreams.reduce((n, u) => n + u.active, 0) === 12, '12 sessions on groupA');
    assert.deepEqual(
      group.upstreams.map((u) => u.active),
      [3, 3, 3, 3],
    );
    for (const s of held.splice(0)) s.destroy();
    await until(() => group.upstreams.every((u) => u.active === 0), 'all released');
    assert.deepEqual(
      group.upstreams.map((u) => u.connecting),
      [0, 0, 0, 0],
    );
  });
});
