import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, hasCode } from '../../src/lib/errors.js';
import { tcpGet } from '../helpers/clients.js';
import { startTestProxy, type TestProxy } from '../helpers/proxy-harness.js';
import { startNamedHttpUpstream, type TestUpstream } from '../helpers/upstreams.js';

describe('the proxy names what went wrong with a stable code (issue 12)', { timeout: 60_000 }, () => {
  let up: TestUpstream;
  let t: TestProxy;

  before(async () => {
    up = await startNamedHttpUpstream('web-1');
    t = await startTestProxy({
      listeners: [
        { name: 'edge', bind: '127.0.0.1:0', group: 'web' },
        { name: 'orphan', bind: '127.0.0.1:0', group: 'gone' },
      ],
      groups: {
        web: { balancer: 'round-robin', upstreams: [{ address: up.address }] },
        gone: { balancer: 'round-robin', upstreams: [{ address: up.address }] },
      },
    });
  });

  after(async () => {
    await t.stop();
    await up.close();
  });

  it('throws ERR_UNKNOWN_LISTENER for a listener it does not have', () => {
    assert.throws(
      () => t.proxy.listener('nope'),
      (err: unknown) => hasCode(err, ErrorCodes.ERR_UNKNOWN_LISTENER),
    );
  });

  it('throws ERR_DUPLICATE_LISTENER when a listener of that name is already served', () => {
    const edge = t.proxy.listener('edge');
    assert.throws(
      () => t.proxy.adoptListener(edge),
      (err: unknown) => hasCode(err, ErrorCodes.ERR_DUPLICATE_LISTENER),
    );
  });

  it('refuses a route to a group that is gone as ERR_UNKNOWN_GROUP, not ERR_NO_HEALTHY_UPSTREAM', async () => {
    // What a reload does for a moment: the group is removed before the listener's route is rewired.
    t.proxy.runtime.groups.delete('gone');
    const from = t.records.length;
    await tcpGet(t.port('orphan')).catch(() => undefined);
    const r = await t.record((x) => x.listener === 'orphan', from);
    assert.equal(r.termination, ErrorCodes.ERR_UNKNOWN_GROUP);
    assert.equal(t.proxy.stats('orphan').rejected(ErrorCodes.ERR_UNKNOWN_GROUP), 1);
  });

  it('admits when the rate-limit store fails and logs it with ERR_STORE_UNAVAILABLE', async () => {
    // A store that cannot answer, as a networked one would when its server is down.
    t.proxy.runtime.rateLimit = { take: () => Promise.reject(new Error('store unreachable')) };
    try {
      assert.equal(await tcpGet(t.port('edge')), 'web-1', 'the session is still admitted');
    } finally {
      t.proxy.runtime.rateLimit = undefined;
    }
    const line = t.logger.lines.find((l) => l.message === 'rate limit store failed; admitting');
    assert.ok(line !== undefined, 'the failure is logged');
    assert.equal(line.fields.code, ErrorCodes.ERR_STORE_UNAVAILABLE);
    assert.match(String(line.fields.err), /store unreachable/);
  });
});
