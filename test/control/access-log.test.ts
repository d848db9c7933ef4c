import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { tcpGet, tlsGet } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import { refusedPort, startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

describe('access log', { timeout: 30_000 }, () => {
  let pki: TestPki;
  let up: TestUpstream;
  let t: TestProxy;

  before(async () => {
    pki = await getTestPki();
    up = await startNamedHttpUpstream('logged');
    t = await startTestProxy({
      listeners: [
        {
          name: 'edge',
          bind: '127.0.0.1:0',
          tls: await testTlsBlock(),
          routes: [{ org: '*', group: '{org}' }],
        },
      ],
      groups: { groupA: { upstreams: [{ address: up.address, id: 'up-1' }] } },
    });
  });

  after(async () => {
    await t.stop();
    await up.close();
  });

  it('writes one line per session with every field', async () => {
    assert.equal(await tlsGet({ port: t.port(), ca: pki.ca.cert, client: pki.groupA }), 'logged');
    const record = await t.record((r) => r.clientId === 'client-a');
    const lines = t.logger.lines.filter((l) => l.message === 'session');
    assert.equal(lines.length, 1);
    const { level, fields } = lines[0];
    assert.equal(level, 'info');
    assert.deepEqual(Object.keys(fields).sort(), [
      'alpn',
      'bytesFromClient',
      'bytesToClient',
      'clientAddress',
      'clientId',
      'clientPort',
      'connectMs',
      'durationMs',
      'group',
      'handshakeMs',
      'listener',
      'org',
      'retries',
      'serverName',
      'termination',
      'tlsCipher',
      'tlsVersion',
      'upstream',
      'upstreamAddress',
    ]);
    assert.equal(fields.listener, 'edge');
    assert.equal(fields.clientAddress, '127.0.0.1');
    assert.equal(fields.clientPort, record.clientPort);
    assert.ok((fields.clientPort as number) > 0);
    assert.equal(fields.clientId, 'client-a');
    assert.equal(fields.org, 'groupA');
    assert.equal(fields.group, 'groupA');
    assert.equal(fields.upstream, 'up-1');
    // the id names the upstream, the address says where it is
    assert.equal(fields.upstreamAddress, up.address);
    assert.equal(fields.tlsVersion, 'TLSv1.3');
    assert.match(String(fields.tlsCipher), /^TLS_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+$/);
    assert.equal(fields.serverName, 'localhost');
    assert.ok(typeof fields.handshakeMs === 'number' && fields.handshakeMs > 0);
    assert.ok(typeof fields.connectMs === 'number' && fields.connectMs > 0);
    assert.equal(fields.retries, 0);
    const request = 'GET / HTTP/1.1\r\nHost: switchyard\r\nConnection: close\r\n\r\n';
    assert.equal(fields.bytesFromClient, request.length);
    assert.ok((fields.bytesToClient as number) > 'logged\n'.length);
    assert.equal(fields.bytesToClient, record.bytesToClient);
    assert.ok(typeof fields.durationMs === 'number' && fields.durationMs >= 0);
    assert.equal(fields.termination, 'OK');
  });

  it('logs a refused session at warn with its reason and no upstream', async () => {
    assert.equal(await tlsGet({ port: t.port(), ca: pki.ca.cert, client: pki.intruder }), '');
    await t.record((r) => r.clientId === 'mallory');
    const line = t.logger.lines.find((l) => l.message === 'session' && l.fields.clientId === 'mallory');
    assert.equal(line?.level, 'warn');
    assert.equal(line?.fields.termination, 'ERR_UNAUTHORIZED_ORG');
    assert.equal(line?.fields.org, 'intruder');
    assert.equal(line?.fields.group, '');
    assert.equal(line?.fields.upstream, '');
  });
});

describe('access log on a plain TCP listener with a retry', { timeout: 30_000 }, () => {
  let up: TestUpstream;
  let t: TestProxy;
  let deadAddress: string;

  before(async () => {
    up = await startNamedHttpUpstream('second');
    deadAddress = `127.0.0.1:${await refusedPort()}`;
    t = await startTestProxy({
      listeners: [{ name: 'plain', bind: '127.0.0.1:0', group: 'g' }],
      groups: {
        g: {
          balancer: 'round-robin',
          upstreams: [{ address: deadAddress }, { address: up.address, id: 'alive' }],
        },
      },
      connect: { attempts: 3 },
    });
  });

  after(async () => {
    await t.stop();
    await up.close();
  });

  it('counts the failed attempt as a retry, names the upstream that served, and leaves the TLS fields empty', async () => {
    assert.equal(await tcpGet(t.port('plain')), 'second');
    await t.record((r) => r.termination === 'OK');
    const line = t.logger.lines.find((l) => l.message === 'session');
    assert.equal(line?.fields.retries, 1);
    assert.equal(line?.fields.upstream, 'alive');
    assert.equal(line?.fields.upstreamAddress, up.address);
    assert.equal(line?.fields.tlsVersion, '');
    assert.equal(line?.fields.tlsCipher, '');
    assert.equal(line?.fields.serverName, '');
    assert.equal(line?.fields.handshakeMs, 0);
  });
});
