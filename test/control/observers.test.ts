import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { directAdminActions } from '../../src/control/admin-actions.js';
import { combineObservers } from '../../src/control/observers.js';
import { ErrorCodes, hasCode } from '../../src/lib/errors.js';
import { UpstreamGroup } from '../../src/lib/upstreams/upstream-group.js';
import type { SessionRecord } from '../../src/proxy/stats.js';

const record: SessionRecord = {
  listener: 'l',
  clientAddress: '127.0.0.1',
  clientPort: 1,
  clientId: '',
  org: '',
  group: '',
  upstream: '',
  upstreamAddress: '',
  bytesFromClient: 0,
  bytesToClient: 0,
  durationMs: 1,
  handshakeMs: 0,
  connectMs: 0,
  connectAttempts: 0,
  tlsVersion: '',
  tlsCipher: '',
  serverName: '',
  termination: 'OK',
};

describe('combineObservers', () => {
  it('tells every observer in order and skips those without the hook', () => {
    const seen: string[] = [];
    const o = combineObservers({ sessionEnded: (r) => seen.push(`a:${r.listener}`) }, {}, undefined, {
      sessionEnded: (r) => seen.push(`b:${r.listener}`),
    });
    o.sessionEnded?.(record);
    assert.deepEqual(seen, ['a:l', 'b:l']);
  });

  it('keeps calling the rest when one throws, then rethrows the first error', () => {
    const seen: string[] = [];
    const o = combineObservers(
      {
        sessionEnded() {
          throw new Error('first');
        },
      },
      { sessionEnded: () => seen.push('second') },
    );
    assert.throws(() => o.sessionEnded?.(record), /first/);
    assert.deepEqual(seen, ['second']);
  });

  it('passes handshake times to every observer that has the hook', () => {
    const seen: string[] = [];
    const o = combineObservers(
      { handshakeDone: (l, ms) => seen.push(`a:${l}:${ms}`) },
      { sessionEnded: () => seen.push('wrong hook') },
      { handshakeDone: (l, ms) => seen.push(`b:${l}:${ms}`) },
    );
    o.handshakeDone?.('edge', 3);
    assert.deepEqual(seen, ['a:edge:3', 'b:edge:3']);
  });

  it('returns an observer without hooks when nobody listens', () => {
    assert.equal(combineObservers().sessionEnded, undefined);
    assert.equal(combineObservers().handshakeDone, undefined);
  });
});

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
