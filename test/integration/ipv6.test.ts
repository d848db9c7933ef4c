import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { tcpGet, tlsGet, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

describe('IPv6 listeners and upstreams', { timeout: 30_000 }, () => {
  let pki: TestPki;
  let v6: TestUpstream;
  let v4: TestUpstream;
  let t: TestProxy;

  before(async () => {
    pki = await getTestPki();
    [v6, v4] = await Promise.all([startNamedHttpUpstream('v6', '::1'), startNamedHttpUpstream('v4')]);
    t = await startTestProxy({
      listeners: [
        { name: 'tls-v6', bind: '[::1]:0', tls: await testTlsBlock(), routes: [{ org: '*', group: 'v6' }] },
        { name: 'dual', bind: '[::]:0', group: 'v4' },
      ],
      groups: {
        v6: { upstreams: [{ address: v6.address }] },
        v4: { upstreams: [{ address: v4.address }] },
      },
    });
  });

  after(async () => {
    await t.stop();
    await Promise.all([v6.close(), v4.close()]);
  });

  it('serves mutual TLS on [::1] and relays to an upstream on ::1', async () => {
    assert.equal(t.proxy.listener('tls-v6').address().address, '::1');
    assert.equal(v6.address, `[::1]:${v6.port}`);
    const from = t.records.length;
    assert.equal(
      await tlsGet({ host: '::1', port: t.port('tls-v6'), ca: pki.ca.cert, client: pki.groupA }),
      'v6',
    );
    const rec = await t.record((r) => r.listener === 'tls-v6', from);
    assert.equal(rec.termination, 'OK');
    assert.equal(rec.clientAddress, '::1');
    assert.equal(rec.upstream, v6.address);
  });

  it('a dual-stack [::] listener takes clients over both IPv4 and IPv6', async () => {
    assert.equal(t.proxy.listener('dual').address().address, '::');
    const port = t.port('dual');
    const from = t.records.length;
    assert.equal(await tcpGet(port, '127.0.0.1'), 'v4');
    assert.equal(await tcpGet(port, '::1'), 'v4');
    const dual = () => t.records.slice(from).filter((r) => r.listener === 'dual');
    await until(() => dual().length === 2, 'both sessions recorded');
    const seen = dual();
    // The IPv4 client shows up as an IPv4-mapped address on the dual-stack socket.
    assert.deepEqual(seen.map((r) => r.clientAddress).sort(), ['::1', '::ffff:127.0.0.1']);
    for (const r of seen) assert.equal(r.termination, 'OK');
  });
});
