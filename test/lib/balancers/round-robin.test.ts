import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoundRobinBalancer } from '../../../src/lib/balancers/round-robin.js';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import { UpstreamGroup } from '../../../src/lib/upstreams/upstream-group.js';

function group(count: number): UpstreamGroup {
  return new UpstreamGroup('g', {
    balancer: new RoundRobinBalancer(),
    upstreams: Array.from({ length: count }, (_, i) => ({ address: `10.0.0.${i + 1}:80`, weight: i + 1 })),
  });
}

const at = (i: number) => `10.0.0.${i + 1}:80`;

function order(g: UpstreamGroup, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const u = g.pick();
    out.push(u.id);
    g.release(u);
  }
  return out;
}

describe('round-robin', () => {
  it('hands out upstreams in configured order, ignoring weights and loads', () => {
    const g = group(3);
    g.pick();
    g.pick();
    assert.deepEqual(order(g, 4), [at(2), at(0), at(1), at(2)]);
  });

  const unavailable: [string, (g: UpstreamGroup) => void][] = [
    ['down', (g) => g.setState(at(1), 'down')],
    ['draining', (g) => g.setState(at(1), 'draining')],
    ['unhealthy', (g) => g.setHealthy(at(1), false)],
    [
      'full',
      (g) => {
        g.setMaxConnections(at(1), 1);
        g.get(at(1))!.active = 1;
      },
    ],
  ];
  for (const [why, make] of unavailable) {
    it(`skips an upstream that is ${why}`, () => {
      const g = group(3);
      make(g);
      assert.deepEqual(order(g, 4), [at(0), at(2), at(0), at(2)]);
    });
  }

  it('yields ERR_NO_HEALTHY_UPSTREAM when nothing is available', () => {
    const g = group(2);
    g.setState(at(0), 'down');
    g.setState(at(1), 'maintenance');
    assert.throws(
      () => g.pick(),
      (e) => hasCode(e, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM),
    );
  });

  it('carries on after the last upstream picked when upstreams are added and removed', () => {
    const g = group(3);
    assert.deepEqual(order(g, 2), [at(0), at(1)]);
    g.remove(at(0));
    assert.deepEqual(order(g, 1), [at(2)]);
    g.add({ address: '10.0.0.9:80' });
    assert.deepEqual(order(g, 4), ['10.0.0.9:80', at(1), at(2), '10.0.0.9:80']);
    g.remove(at(1));
    g.remove('10.0.0.9:80');
    assert.deepEqual(order(g, 2), [at(2), at(2)]);
  });
});
