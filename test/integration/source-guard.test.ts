import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ErrorCodes } from '../../src/lib/errors.js';
import { tcpGet, until } from '../helpers/clients.js';
import { startTestProxy, type TestProxy, testTlsBlock } from '../helpers/proxy-harness.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

describe('the per-source guard', { timeout: 60_000 }, () => {
  let upstream: TestUpstream;
  let t: TestProxy | undefined;

  before(async () => {
    upstream = await startNamedHttpUpstream('u-1');
  });
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });
  after(async () => {
    await upstream.close();
  });

  const groups = () => ({ g: { upstreams: [{ address: upstream.address }] } });

  it('is off on a plain TCP listener and on by default on a TLS listener', async () => {
    t = await startTestProxy({
      listeners: [
        { name: 'plain', bind: '127.0.0.1:0', group: 'g' },
        { name: 'mtls', bind: '127.0.0.1:0', tls: await testTlsBlock(), routes: [{ org: '*', group: 'g' }] },
      ],
      groups: groups(),
    });
    const guards = t.proxy.runtime.listeners.map((l) => [l.name, l.sourceGuard !== undefined]);
    assert.deepEqual(guards, [
      ['plain', false],
      ['mtls', true],
    ]);
  });

  it('logs which guard refused and which key to change', async () => {
    t = await startTestProxy({
      listeners: [
        { name: 'ingress', bind: '127.0.0.1:0', group: 'g', handshakeRate: { perSource: 2, window: '1h' } },
      ],
      groups: groups(),
    });
    for (let i = 0; i < 2; i++) assert.match(await tcpGet(t.port()), /u-1/);
    assert.equal(await tcpGet(t.port()), '');
    await until(
      () => t!.proxy.stats('ingress').rejected(ErrorCodes.ERR_HANDSHAKE_RATE) === 1,
      'refusal counted',
    );
    const line = t.logger.lines.find((l) => l.fields.reason === ErrorCodes.ERR_HANDSHAKE_RATE);
    assert.equal(line?.message, 'connection refused');
    assert.equal(line?.level, 'warn');
    assert.equal(line?.fields.listener, 'ingress');
    assert.equal(
      line?.fields.hint,
      'per-source handshake rate exceeded; raise handshakeRate.perSource of listener "ingress", or set it to 0 to turn this guard off',
    );
  });
});
