import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { directAdminActions } from '../../src/control/admin-actions.js';
import { ErrorCodes, hasCode } from '../../src/lib/errors.js';
import { UpstreamGroup } from '../../src/lib/upstreams/upstream-group.js';

describe('directAdminActions', () => {
  const runtime = {
    groups: new Map([['g', new UpstreamGroup('g', { upstreams: [{ address: '127.0.0.1:1000', id: 'u' }] })]]),
  };
  const actions = directAdminActions({ runtime });

  it('changes the live group and names unknown groups with ERR_UNKNOWN_GROUP', () => {
    actions.setUpstreamState('g', 'u', 'maintenance');
    assert.equal(runtime.groups.get('g')!.get('u')!.state, 'maintenance');
    actions.addUpstream('g', { address: '127.0.0.1:1001', id: 'v' });
    actions.setBalancer('g', 'round-robin');
    assert.equal(runtime.groups.get('g')!.balancer.name, 'round-robin');
    actions.removeUpstream('g', 'v');
    assert.equal(runtime.groups.get('g')!.upstreams.length, 1);
    assert.throws(
      () => actions.setUpstreamWeight('nope', 'u', 2),
      (e) => hasCode(e, ErrorCodes.ERR_UNKNOWN_GROUP),
    );
  });

  it('answers a reload with ok: false when no reload is wired', async () => {
    assert.deepEqual(await actions.reload(), { ok: false, error: 'reload is not available in this process' });
  });
});
