import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { ErrorCodes } from '../../../src/lib/errors.js';
import { createHealthProbe } from '../../../src/lib/health/probe-registry.js';
import { UdpProbe } from '../../../src/lib/health/udp-probe.js';

async function bound(
  family: 'udp4' | 'udp6',
  host: string,
  answer?: (msg: Buffer) => string,
): Promise<Socket> {
  const s = createSocket(family);
  if (answer !== undefined) s.on('message', (msg, from) => s.send(answer(msg), from.port, from.address));
  await new Promise<void>((resolve) => s.bind(0, host, resolve));
  return s;
}

describe('UdpProbe', () => {
  const sockets: Socket[] = [];
  after(() => {
    for (const s of sockets) s.close();
  });

  it('passes on a reply that contains expect, over IPv4 and IPv6', async () => {
    const v4 = await bound('udp4', '127.0.0.1', (m) => (m.toString() === 'PING' ? 'PONG ok' : 'what'));
    const v6 = await bound('udp6', '::1', (m) => (m.toString() === 'PING' ? 'PONG ok' : 'what'));
    sockets.push(v4, v6);
    const probe = createHealthProbe({ type: 'udp', send: 'PING', expect: 'PONG' });
    assert.equal(probe.type, 'udp');
    await probe.check({ host: '127.0.0.1', port: v4.address().port }, AbortSignal.timeout(2000));
    await probe.check({ host: '::1', port: v6.address().port }, AbortSignal.timeout(2000));
  });

  it('fails on a reply without expect', async () => {
    const s = await bound('udp4', '127.0.0.1', () => 'nope');
    sockets.push(s);
    const probe = new UdpProbe({ send: 'PING', expect: /^PONG$/ });
    await assert.rejects(
      probe.check({ host: '127.0.0.1', port: s.address().port }, AbortSignal.timeout(2000)),
      {
        code: ErrorCodes.ERR_PROBE_UNEXPECTED_RESPONSE,
      },
    );
  });

  it('fails at once on ICMP port unreachable, and by the timeout when nothing answers', async () => {
    const gone = await bound('udp4', '127.0.0.1');
    const port = gone.address().port;
    await new Promise<void>((resolve) => gone.close(() => resolve()));
    const probe = new UdpProbe({ send: 'PING', expect: 'PONG' });
    await assert.rejects(probe.check({ host: '127.0.0.1', port }, AbortSignal.timeout(5000)), {
      code: ErrorCodes.ERR_PROBE_CONNECT,
    });
    const silent = await bound('udp4', '127.0.0.1');
    sockets.push(silent);
    await assert.rejects(
      probe.check({ host: '127.0.0.1', port: silent.address().port }, AbortSignal.timeout(100)),
      { name: 'TimeoutError' },
    );
  });

  it('refuses an empty send or expect', () => {
    assert.throws(() => new UdpProbe({ send: '', expect: 'x' }), { code: ErrorCodes.ERR_INVALID_ARGUMENT });
    assert.throws(() => new UdpProbe({ send: 'x', expect: '' }), { code: ErrorCodes.ERR_INVALID_ARGUMENT });
  });
});
