import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, hasCode, SwitchyardError } from '../../../src/lib/errors.js';
import { parseHostPort } from '../../../src/lib/upstreams/address.js';
import { UpstreamGroup } from '../../../src/lib/upstreams/upstream-group.js';

describe('parseHostPort', () => {
  const good: [string, string, number, number][] = [
    ['127.0.0.1:9001', '127.0.0.1', 9001, 4],
    ['[::1]:9012', '::1', 9012, 6],
    ['localhost:80', 'localhost', 80, 0],
  ];
  for (const [text, host, port, family] of good) {
    it(`parses ${text}`, () => assert.deepEqual(parseHostPort(text), { host, port, family }));
  }
  for (const bad of ['127.0.0.1', '::1:80', '[::1]80', 'host:0', 'host:70000', 'host:x', ':80', '[nope]:1']) {
    it(`rejects ${bad}`, () => {
      assert.throws(
        () => parseHostPort(bad),
        (e) => hasCode(e, ErrorCodes.ERR_INVALID_ADDRESS),
      );
    });
  }
});

describe('UpstreamGroup', () => {
  const make = () =>
    new UpstreamGroup('g', {
      balancer: 'round-robin',
      upstreams: [{ address: '127.0.0.1:1' }, { address: '127.0.0.1:2' }, { address: '[::1]:3', weight: 2 }],
    });

  it('keeps configured order and ids', () => {
    const g = make();
    assert.deepEqual(
      g.upstreams.map((u) => u.id),
      ['127.0.0.1:1', '127.0.0.1:2', '[::1]:3'],
    );
    assert.equal(g.get('[::1]:3')?.weight, 2);
  });

  it('counts pick, connect, failure and release', () => {
    const g = make();
    const u = g.pick();
    assert.equal(u.active, 1);
    assert.equal(u.connecting, 1);
    g.connected(u);
    assert.equal(u.connecting, 0);
    g.release(u, 10, 20);
    assert.deepEqual([u.active, u.total, u.bytesIn, u.bytesOut], [0, 1, 10, 20]);
    const v = g.pick();
    g.failed(v);
    assert.deepEqual([v.active, v.connecting, v.failures], [0, 0, 1]);
  });

  it('never lets active go negative', () => {
    const g = make();
    const u = g.upstreams[0];
    g.release(u);
    assert.equal(u.active, 0);
  });

  it('keeps counters across balancer swaps and state changes', () => {
    const g = make();
    const picked = [g.pick(), g.pick(), g.pick()];
    g.setBalancer('round-robin');
    g.setState('127.0.0.1:1', 'draining');
    g.setWeight('127.0.0.1:2', 5);
    assert.deepEqual(
      g.upstreams.map((u) => [u.active, u.total]),
      [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
    );
    for (const u of picked) g.release(u);
    assert.deepEqual(
      g.upstreams.map((u) => u.active),
      [0, 0, 0],
    );
  });

  it('lets connections on a removed upstream finish and counts them', () => {
    const g = make();
    const u = g.pick();
    const removed = g.remove(u.id);
    assert.equal(removed, u);
    assert.equal(g.get(u.id), undefined);
    assert.equal(g.retiredActive, 1);
    g.release(u, 1, 1);
    assert.equal(u.active, 0);
    assert.equal(g.retiredActive, 0);
    assert.equal(u.bytesIn, 1);
    for (let i = 0; i < 4; i++) assert.notEqual(g.pick().id, u.id);
  });

  it('skips upstreams that are not up or are full, and fails with a typed error when none is left', () => {
    const g = make();
    g.setState('127.0.0.1:1', 'maintenance');
    g.setMaxConnections('127.0.0.1:2', 1);
    g.setHealthy('[::1]:3', false);
    const only = g.pick();
    assert.equal(only.id, '127.0.0.1:2');
    assert.throws(
      () => g.pick(),
      (e) => e instanceof SwitchyardError && e.code === ErrorCodes.ERR_NO_HEALTHY_UPSTREAM,
    );
  });

  it('rejects duplicates, unknown ids, bad weights and states', () => {
    const g = make();
    assert.throws(
      () => g.add({ address: '127.0.0.1:1' }),
      (e) => hasCode(e, ErrorCodes.ERR_DUPLICATE_UPSTREAM),
    );
    assert.throws(
      () => g.setWeight('nope', 1),
      (e) => hasCode(e, ErrorCodes.ERR_UNKNOWN_UPSTREAM),
    );
    assert.throws(
      () => g.setWeight('127.0.0.1:1', 0),
      (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
    );
    assert.throws(
      () => g.setState('127.0.0.1:1', 'sleeping' as never),
      (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
    );
    assert.throws(
      () => g.setBalancer('magic'),
      (e) => hasCode(e, ErrorCodes.ERR_UNKNOWN_BALANCER),
    );
  });

  for (const balancer of [
    'least-connections',
    'round-robin',
    'weighted-round-robin',
    'random',
    'power-of-two',
    'consistent-hash',
  ]) {
    it(`pickExcept never returns an avoided upstream and restores it afterwards (${balancer})`, () => {
      const g = new UpstreamGroup('g', {
        balancer,
        upstreams: [{ address: '127.0.0.1:1' }, { address: '127.0.0.1:2' }, { address: '127.0.0.1:3' }],
      });
      const avoid = [g.upstreams[0], g.upstreams[1]];
      for (let i = 0; i < 20; i++) {
        const u = g.pickExcept(undefined, avoid);
        assert.equal(u.id, '127.0.0.1:3');
        g.connected(u);
      }
      assert.ok(g.upstreams.every((u) => !u.excluded));
      assert.throws(
        () => g.pickExcept(undefined, g.upstreams),
        (e) => hasCode(e, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM),
      );
      assert.ok(
        g.upstreams.every((u) => u.available()),
        'the avoided upstreams are available again',
      );
      const picked = new Set<string>();
      for (let i = 0; i < 60; i++) picked.add(g.pick().id);
      assert.ok(picked.has('127.0.0.1:1') || picked.has('127.0.0.1:2'), 'and the balancer picks them again');
    });
  }
});
