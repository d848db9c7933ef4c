import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes } from '../../src/lib/errors.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTls, readAll, tlsGet, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

describe('mTLS listener: identity, authorization and every refusal reason', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let ups: TestUpstream[];
  let t: TestProxy;

  before(async () => {
    pki = await getTestPki();
    ups = await Promise.all([
      startNamedHttpUpstream('groupA-1'),
      startNamedHttpUpstream('groupA-2'),
      startNamedHttpUpstream('groupB-1'),
      startNamedHttpUpstream('groupB-2', '::1'),
    ]);
    t = await startTestProxy({
      listeners: [
        {
          name: 'edge',
          bind: '127.0.0.1:0',
          tls: { ...(await testTlsBlock()), orgRule: 'any' },
          routes: [
            { org: 'groupA', group: 'groupA' },
            { org: 'groupB', group: 'groupB' },
          ],
        },
      ],
      groups: {
        groupA: {
          balancer: 'least-connections',
          upstreams: [{ address: ups[0].address }, { address: ups[1].address }],
        },
        groupB: {
          balancer: 'round-robin',
          upstreams: [{ address: ups[2].address, weight: 2 }, { address: ups[3].address }],
        },
      },
      timeouts: { handshake: '300ms' },
    });
  });

  after(async () => {
    await t.stop();
    await Promise.all(ups.map((u) => u.close()));
  });

  const get = (client: keyof TestPki | undefined, extra: Record<string, unknown> = {}) =>
    tlsGet({
      port: t.port(),
      ca: pki.ca.cert,
      client: client === undefined ? undefined : pki[client],
      ...extra,
    });

  it('routes each org to its own group only', async () => {
    const a = new Set<string>();
    const b = new Set<string>();
    for (let i = 0; i < 6; i++) {
      a.add(await get('groupA'));
      b.add(await get('groupB'));
    }
    assert.deepEqual([...a].sort(), ['groupA-1', 'groupA-2']);
    assert.deepEqual([...b].sort(), ['groupB-1', 'groupB-2']);
  });

  it('writes one record per session with id, org, group and upstream', async () => {
    const before = t.records.length;
    const name = await get('groupA');
    const r = await t.record((x) => x.clientId === 'client-a', before);
    assert.equal(r.upstream, ups.find((u) => u.name === name)?.address);
    assert.equal(r.clientId, 'client-a');
    assert.equal(r.org, 'groupA');
    assert.equal(r.group, 'groupA');
    assert.equal(r.termination, 'OK');
    assert.ok(r.bytesToClient > 0 && r.bytesFromClient > 0);
  });

  it('matches several O values by the documented rule: the first org that has a route', async () => {
    // multiOrg is O=groupB then O=groupA: with orgRule "any" the first routable one, groupB, decides.
    assert.match(await get('multiOrg'), /^groupB-/);
  });

  it('accepts RSA client certificates', async () => {
    assert.match(await get('rsaClient'), /^groupA-/);
  });

  // Valid certificates the routing refuses: the handshake completes, the session closes with close_notify.
  const refusals: [string, keyof TestPki | undefined, string][] = [
    ['an org no rule allows', 'intruder', ErrorCodes.ERR_UNAUTHORIZED_ORG],
    ['a certificate without O', 'noOrg', ErrorCodes.ERR_CERT_MISSING_ORG],
    ['a certificate without CN', 'noCn', ErrorCodes.ERR_CERT_MISSING_CN],
  ];
  for (const [what, client, code] of refusals) {
    it(`refuses ${what} with ${code}, counted, logged once, nothing sent`, async () => {
      const stats = t.proxy.stats('edge');
      const countBefore = stats.rejected(code as never);
      const recordsBefore = t.records.length;
      const answer = await get(client);
      assert.equal(answer, '', 'the client must receive nothing');
      const record = await t.record((r) => r.termination === code, recordsBefore);
      assert.equal(record.upstream, '');
      assert.equal(stats.rejected(code as never), countBefore + 1);
      const lines = t.logger.lines.filter((l) => l.fields.termination === code);
      assert.equal(lines.length, 1, 'exactly one log line for the refusal');
    });
  }

  // Certificates that fail verification: refused during the handshake (with a TLS alert, see
  // tls-alerts.test.ts), before a session exists.
  const handshakeRefusals: [string, keyof TestPki | undefined, string][] = [
    ['an expired certificate', 'expired', ErrorCodes.ERR_CERT_EXPIRED],
    ['a certificate from another CA', 'untrusted', ErrorCodes.ERR_CERT_UNTRUSTED],
    ['no client certificate', undefined, ErrorCodes.ERR_NO_CLIENT_CERT],
  ];
  for (const [what, client, code] of handshakeRefusals) {
    it(`refuses ${what} in the handshake with ${code}, counted, logged once, no session`, async () => {
      const stats = t.proxy.stats('edge');
      const countBefore = stats.rejected(code as never);
      const recordsBefore = t.records.length;
      assert.equal(await get(client), '', 'the client must receive nothing');
      assert.equal(stats.rejected(code as never), countBefore + 1);
      assert.equal(t.records.length, recordsBefore);
      const lines = t.logger.lines.filter(
        (l) => l.message === 'connection refused' && l.fields.reason === code,
      );
      assert.equal(lines.length, 1, 'exactly one log line for the refusal');
    });
  }

  it('refuses a client that only speaks TLS 1.1', async () => {
    const before = t.proxy.stats('edge').rejected(ErrorCodes.ERR_TLS_HANDSHAKE);
    await assert.rejects(
      connectTls({
        port: t.port(),
        ca: pki.ca.cert,
        client: pki.groupA,
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1' as never,
      }),
    );
    await until(
      () => t.proxy.stats('edge').rejected(ErrorCodes.ERR_TLS_HANDSHAKE) === before + 1,
      'handshake refusal counted',
    );
  });

  it('refuses plain-text garbage as a failed handshake and keeps serving', async () => {
    const before = t.proxy.stats('edge').rejected(ErrorCodes.ERR_TLS_HANDSHAKE);
    const socket = netConnect({ host: '127.0.0.1', port: t.port() });
    const reply = readAll(socket);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const r = await reply;
    assert.doesNotMatch(r.text, /group|upstream|Error/i);
    await until(
      () => t.proxy.stats('edge').rejected(ErrorCodes.ERR_TLS_HANDSHAKE) === before + 1,
      'handshake refusal counted',
    );
    assert.match(await get('groupA'), /^groupA-/);
  });

  it('closes a connection that never finishes its handshake', async () => {
    const before = t.proxy.stats('edge').rejected(ErrorCodes.ERR_HANDSHAKE_TIMEOUT);
    const socket = netConnect({ host: '127.0.0.1', port: t.port() });
    const r = await readAll(socket);
    assert.equal(r.text, '');
    await until(
      () => t.proxy.stats('edge').rejected(ErrorCodes.ERR_HANDSHAKE_TIMEOUT) === before + 1,
      'timeout counted',
    );
  });

  it('serves an RSA server certificate as well as ECDSA', async () => {
    const rsa = await startTestProxy({
      listeners: [
        {
          name: 'rsa',
          bind: '127.0.0.1:0',
          tls: await testTlsBlock('rsaServer'),
          routes: [{ org: '*', group: '{org}' }],
        },
      ],
      groups: { groupA: { upstreams: [{ address: ups[0].address }] } },
    });
    try {
      const s = await connectTls({ port: rsa.port(), ca: pki.ca.cert, client: pki.groupA });
      assert.equal(s.getPeerX509Certificate()?.publicKey.asymmetricKeyType, 'rsa');
      s.destroy();
      assert.equal(await tlsGet({ port: rsa.port(), ca: pki.ca.cert, client: pki.rsaClient }), 'groupA-1');
    } finally {
      await rsa.stop();
    }
  });

  it('offers TLS 1.3 and accepts TLS 1.2', async () => {
    const s13 = await connectTls({ port: t.port(), ca: pki.ca.cert, client: pki.groupA });
    assert.equal(s13.getProtocol(), 'TLSv1.3');
    s13.destroy();
    const s12 = await connectTls({
      port: t.port(),
      ca: pki.ca.cert,
      client: pki.groupA,
      maxVersion: 'TLSv1.2',
    });
    assert.equal(s12.getProtocol(), 'TLSv1.2');
    s12.destroy();
  });
});
