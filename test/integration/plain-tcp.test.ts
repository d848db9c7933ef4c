import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes } from '../../src/lib/errors.js';
import { tcpGet } from '../helpers/clients.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-harness.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

describe('plain TCP listeners (seed 002)', { timeout: 60_000 }, () => {
  let ups: TestUpstream[];
  let t: TestProxy;

  before(async () => {
    ups = await Promise.all(['web-1', 'web-2', 'web-3'].map((n) => startNamedHttpUpstream(n)));
    const upstreams = ups.map((u) => ({ address: u.address }));
    t = await startTestProxy({
      listeners: [
        { name: 'rr', bind: '127.0.0.1:0', group: 'web' },
        { name: 'sticky', bind: '127.0.0.1:0', group: 'sticky' },
        { name: 'limited', bind: '127.0.0.1:0', group: 'web' },
      ],
      groups: {
        web: { balancer: 'round-robin', upstreams },
        sticky: { balancer: 'consistent-hash', hashKey: 'source-ip', upstreams },
      },
      rateLimit: { algorithm: 'fixed-window', limit: 40, window: '1h' },
    });
  });

  after(async () => {
    await t.stop();
    await Promise.all(ups.map((u) => u.close()));
  });

  it('balances round-robin in configured order', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await tcpGet(t.port('rr')));
    assert.deepEqual(seen, ['web-1', 'web-2', 'web-3', 'web-1', 'web-2', 'web-3']);
  });

  it('keeps each source address on one upstream with consistent-hash on source-ip', async () => {
    const bySource = new Map<string, Set<string>>();
    for (let s = 2; s <= 9; s++) {
      const source = `127.0.0.${s}`;
      const names = new Set<string>();
      for (let i = 0; i < 3; i++) names.add(await tcpGet(t.port('sticky'), '127.0.0.1', source));
      bySource.set(source, names);
    }
    for (const [source, names] of bySource)
      assert.equal(names.size, 1, `${source} moved between ${[...names]}`);
    const used = new Set([...bySource.values()].map((n) => [...n][0]));
    assert.ok(used.size >= 2, 'different sources should spread over upstreams');
  });

  it('records sessions with the source address and no client id', async () => {
    const from = t.records.length;
    await tcpGet(t.port('rr'), '127.0.0.1', '127.0.0.77');
    const r = await t.record((x) => x.clientAddress === '127.0.0.77', from);
    assert.equal(r.clientId, '');
    assert.equal(r.group, 'web');
    assert.equal(r.termination, 'OK');
  });

  it('rate-limits by source address, each address on its own budget', async () => {
    // Each source has a budget of 40 per hour across the proxy; spend one address's budget.
    const port = t.port('limited');
    for (let i = 0; i < 40; i++) assert.match(await tcpGet(port, '127.0.0.1', '127.0.0.50'), /^web-/);
    const before = t.proxy.stats('limited').rejected(ErrorCodes.ERR_RATE_LIMITED);
    assert.equal(await tcpGet(port, '127.0.0.1', '127.0.0.50'), '');
    await t.record((r) => r.termination === ErrorCodes.ERR_RATE_LIMITED && r.clientAddress === '127.0.0.50');
    assert.equal(t.proxy.stats('limited').rejected(ErrorCodes.ERR_RATE_LIMITED), before + 1);
    assert.match(await tcpGet(port, '127.0.0.1', '127.0.0.51'), /^web-/);
  });
});
