import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes } from '../../src/lib/errors.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTls, tlsGet, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import {
  refusedPort,
  startNamedHttpUpstream,
  startSilentUpstream,
  type TestUpstream,
} from '../helpers/upstreams.js';

/** A bare listening port to point health checks at, closable on its own. */
async function healthPort(port = 0): Promise<Server> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return server;
}
const portOf = (s: Server) => (s.address() as { port: number }).port;
const closeServer = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));

describe('health checking in the server', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let a: TestUpstream;
  let b: TestUpstream;
  let silent: TestUpstream;
  let t: TestProxy;
  let silentHealth: Server;
  let dead: number;

  before(async () => {
    pki = await getTestPki();
    [a, b, silent] = await Promise.all([
      startNamedHttpUpstream('A'),
      startNamedHttpUpstream('B'),
      startSilentUpstream('S'),
    ]);
    silentHealth = await healthPort();
    dead = await refusedPort();
    const tls = await testTlsBlock();
    const listener = (name: string, group: string) => ({
      name,
      bind: '127.0.0.1:0',
      tls,
      routes: [{ org: '*', group }],
    });
    const fastChecks = { type: 'tcp', interval: '50ms', timeout: '500ms', rise: 1, fall: 1, jitter: 0 };
    t = await startTestProxy({
      listeners: [listener('active', 'active'), listener('passive', 'passive'), listener('cut', 'cut')],
      groups: {
        active: {
          balancer: 'round-robin',
          healthCheck: fastChecks,
          upstreams: [
            { address: a.address, id: 'A' },
            { address: b.address, id: 'B' },
          ],
        },
        passive: {
          balancer: 'least-connections',
          passiveHealth: {
            consecutiveFailures: 1,
            baseEjectionTime: '1h',
            maxEjectionTime: '2h',
            maxEjectionPercent: 50,
          },
          upstreams: [
            { address: `127.0.0.1:${dead}`, id: 'dead' },
            { address: b.address, id: 'B' },
          ],
        },
        // S is checked on a separate port, so the test can fail its checks while S keeps its sessions.
        cut: {
          healthCheck: { ...fastChecks, port: portOf(silentHealth) },
          shutdownSessionsOnDown: true,
          upstreams: [{ address: silent.address, id: 'S' }],
        },
      },
    });
  });

  after(async () => {
    await t.stop();
    await Promise.all([a.close(), b.close(), silent.close()]);
    if (silentHealth.listening) await closeServer(silentHealth);
  });

  const get = (listener: string) => tlsGet({ port: t.port(listener), ca: pki.ca.cert, client: pki.groupA });

  it('takes an upstream out when its checks fail and back when they pass', async () => {
    const group = t.proxy.runtime.groups.get('active')!;
    const upB = group.get('B')!;
    await until(() => t.manager.healthStatus('active', 'B')?.active?.lastResult === 'success', 'B checked');
    // Stop B: its checks are refused, it leaves rotation, and every request goes to A.
    await b.close();
    await until(() => !upB.healthy, 'B marked unhealthy');
    for (let i = 0; i < 4; i++) assert.equal(await get('active'), 'A');
    const line = t.logger.lines.find(
      (l) => l.message === 'upstream health changed' && l.fields.upstream === 'B',
    );
    assert.equal(line?.fields.to, 'unhealthy');
    assert.equal(line?.level, 'warn');
    // B comes back on the same port: the next passing check returns it.
    b = await startNamedHttpUpstream('B', '127.0.0.1', b.port);
    await until(() => upB.healthy, 'B healthy again');
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(await get('active'));
    assert.deepEqual([...seen].sort(), ['A', 'B']);
  });

  it('ejects an upstream after consecutive connect failures and sends sessions elsewhere', async () => {
    const group = t.proxy.runtime.groups.get('passive')!;
    assert.equal(await get('passive'), 'B');
    // least-connections with equal loads may try the dead one first; either way it ends ejected.
    for (let i = 0; i < 3; i++) assert.equal(await get('passive'), 'B');
    await until(() => group.get('dead')!.ejected, 'dead ejected');
    const failuresBefore = group.get('dead')!.failures;
    for (let i = 0; i < 4; i++) assert.equal(await get('passive'), 'B');
    assert.equal(group.get('dead')!.failures, failuresBefore, 'an ejected upstream is not tried');
    assert.ok(t.logger.lines.some((l) => l.fields.upstream === 'dead' && l.fields.to === 'ejected'));
  });

  it('closes live sessions of an upstream that goes down when shutdownSessionsOnDown is set', async () => {
    const upS = t.proxy.runtime.groups.get('cut')!.get('S')!;
    await until(() => t.manager.healthStatus('cut', 'S')?.active?.lastResult === 'success', 'S checked');
    const held = await connectTls({ port: t.port('cut'), ca: pki.ca.cert, client: pki.groupA });
    held.on('error', () => {});
    held.write('hello');
    await until(() => upS.active === 1 && silent.accepted > 0, 'session on S');
    // The client is half-open capable: the proxy's close shows up as the end of what it reads.
    const closed = new Promise<void>((resolve) => held.once('end', () => resolve()));
    const from = t.records.length;
    await closeServer(silentHealth);
    await closed;
    held.destroy();
    const rec = await t.record((r) => r.listener === 'cut', from);
    assert.equal(rec.termination, ErrorCodes.ERR_UPSTREAM_DOWN);
  });
});
