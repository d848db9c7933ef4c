import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';
import { ErrorCodes } from '../../src/lib/errors.js';
import { proxyHeaderV1 } from '../../src/proxy/proxy-header.js';
import { getTestPki, type TestPki } from '../helpers/certs.js';
import { connectTcp, connectTls, lineReader, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import { startEchoUpstream, type TestUpstream } from '../helpers/upstreams.js';

// listeners[].allow / deny: which client addresses a listener lets in, judged at accept before any
// TLS work and before the per-source guard (behind a load balancer: the address its header names).

/** True when the echo upstream answered through the balancer; false when the balancer closed first. */
async function echoes(socket: Socket): Promise<boolean> {
  socket.on('error', () => {});
  const reply = new Promise<boolean>((resolve) => {
    socket.once('data', () => resolve(true));
    socket.once('close', () => resolve(false));
    socket.once('end', () => resolve(false));
  });
  socket.write('ping\n');
  const answered = await reply;
  socket.destroy();
  return answered;
}

describe('address rules (allow / deny)', { timeout: 60_000 }, () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let t: TestProxy;
  let config: Record<string, unknown>;
  const rejected = (listener: string) => t.proxy.stats(listener).rejected(ErrorCodes.ERR_ADDRESS_DENIED);

  before(async () => {
    pki = await getTestPki();
    upstream = await startEchoUpstream();
    config = {
      listeners: [
        { name: 'allow-one', bind: '127.0.0.1:0', group: 'echo', allow: ['127.0.0.2/32'] },
        {
          name: 'carve-out',
          bind: '127.0.0.1:0',
          group: 'echo',
          allow: ['127.0.0.0/8'],
          deny: ['127.0.0.3'],
        },
        { name: 'dual', bind: '[::]:0', group: 'echo', deny: ['127.0.0.0/8'] },
        {
          name: 'tls',
          bind: '127.0.0.1:0',
          tls: await testTlsBlock(),
          routes: [{ org: 'groupA', group: 'echo' }],
          deny: ['127.0.0.4'],
        },
        {
          name: 'behind-lb',
          bind: '127.0.0.1:0',
          group: 'echo',
          acceptProxyProtocol: 'v1',
          trustedProxies: ['127.0.0.1'],
          deny: ['203.0.113.0/24'],
        },
      ],
      groups: { echo: { upstreams: [{ address: upstream.address }] } },
    };
    t = await startTestProxy(config);
  });

  after(async () => {
    await t.stop();
    await upstream.close();
  });

  it('allow lets in only its ranges; everything else is refused and counted', async () => {
    assert.equal(await echoes(await connectTcp(t.port('allow-one'), '127.0.0.1', '127.0.0.2')), true);
    assert.equal(await echoes(await connectTcp(t.port('allow-one'), '127.0.0.1', '127.0.0.1')), false);
    await until(() => rejected('allow-one') === 1, 'denied');
  });

  it('deny wins over allow, so a range can be carved out', async () => {
    assert.equal(await echoes(await connectTcp(t.port('carve-out'), '127.0.0.1', '127.0.0.5')), true);
    assert.equal(await echoes(await connectTcp(t.port('carve-out'), '127.0.0.1', '127.0.0.3')), false);
    await until(() => rejected('carve-out') === 1, 'denied');
  });

  it('an IPv4 range matches IPv4 clients of a dual-stack listener (IPv4-mapped), and IPv6 clients pass', async () => {
    assert.equal(await echoes(await connectTcp(t.port('dual'), '127.0.0.1')), false);
    await until(() => rejected('dual') === 1, 'mapped address denied');
    assert.equal(await echoes(await connectTcp(t.port('dual'), '::1')), true);
    const line = t.logger.lines.find((l) => l.fields.reason === ErrorCodes.ERR_ADDRESS_DENIED);
    assert.ok(line !== undefined && String(line.fields.hint).includes('deny'));
  });

  it('on a TLS listener the refusal comes before any TLS work: no handshake is started', async () => {
    const handshakesBefore = t.proxy.stats('tls').rejected(ErrorCodes.ERR_TLS_HANDSHAKE);
    const denied = await connectTcp(t.port('tls'), '127.0.0.1', '127.0.0.4');
    denied.write(Buffer.from('160301', 'hex'));
    assert.equal(await echoes(denied), false);
    await until(() => rejected('tls') === 1, 'denied before the handshake');
    assert.equal(t.proxy.stats('tls').rejected(ErrorCodes.ERR_TLS_HANDSHAKE), handshakesBefore);
    // from 127.0.0.1 it is allowed (only 127.0.0.4 is denied)
    const ok = await connectTls({ port: t.port('tls'), ca: pki.ca.cert, client: pki.groupA });
    assert.equal(await echoes(ok), true);
  });

  it('behind a load balancer the rules judge the client its PROXY header names', async () => {
    const denied = await connectTcp(t.port('behind-lb'));
    denied.write(
      proxyHeaderV1({
        sourceAddress: '203.0.113.9',
        sourcePort: 1,
        destinationAddress: '10.0.0.1',
        destinationPort: 2,
      }),
    );
    assert.equal(await echoes(denied), false);
    await until(() => rejected('behind-lb') === 1, 'carried address denied');
    const allowed = await connectTcp(t.port('behind-lb'));
    const lines = lineReader(allowed);
    allowed.write(
      proxyHeaderV1({
        sourceAddress: '198.51.100.9',
        sourcePort: 1,
        destinationAddress: '10.0.0.1',
        destinationPort: 2,
      }),
    );
    allowed.write('hello\n');
    assert.equal(await lines.line(), 'hello');
    allowed.destroy();
  });

  it('a reload changes the rules for connections accepted afterwards', async () => {
    const listeners = (config.listeners as Record<string, unknown>[]).map((l) =>
      l.name === 'allow-one' ? { ...l, allow: ['127.0.0.1'] } : l,
    );
    const next = parseConfigText(
      stringify({ ...config, listeners }),
      join(tmpdir(), 'switchyard-rules.yaml'),
    );
    const result = await t.manager.reload(next);
    assert.ok(result.ok && result.changes.includes('listener allow-one updated'), JSON.stringify(result));
    assert.equal(await echoes(await connectTcp(t.port('allow-one'), '127.0.0.1', '127.0.0.1')), true);
    assert.equal(await echoes(await connectTcp(t.port('allow-one'), '127.0.0.1', '127.0.0.2')), false);
  });
});
