import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RoundRobinBalancer } from '../../../src/lib/balancers/round-robin.js';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import { UpstreamGroup } from '../../../src/lib/upstreams/upstream-group.js';

/** `count` upstreams, all of weight `weight` unless `weights` gives each its own. */
function group(count: number, weights: readonly number[] = []): UpstreamGroup {
  return new UpstreamGroup('g', {
    balancer: new RoundRobinBalancer(),
    upstreams: Array.from({ length: count }, (_, i) => ({
      address: `10.0.0.${i + 1}:80`,
      weight: weights[i] ?? 1,
    })),
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
  it('hands out equally weighted upstreams in configured order, ignoring loads', () => {
    const g = group(3);
    g.pick();
    g.pick();
    assert.deepEqual(order(g, 4), [at(2), at(0), at(1), at(2)]);
  });

  it('splits 12 picks exactly 2:1 between weights 2 and 1, spread out (a b a, a b a, ...)', () => {
    const seen = order(group(2, [2, 1]), 12);
    assert.deepEqual(seen, Array.from({ length: 4 }, () => [at(0), at(1), at(0)]).flat());
  });

  it('follows a weight changed at runtime, and is the plain rotation again once weights are equal', () => {
    const g = group(3);
    assert.deepEqual(order(g, 3), [at(0), at(1), at(2)]);
    g.setWeight(at(2), 2);
    const weighted = order(g, 12);
    assert.deepEqual(
      [0, 1, 2].map((i) => weighted.filter((u) => u === at(i)).length),
      [3, 3, 6],
    );
    g.setWeight(at(1), 2);
    g.setWeight(at(0), 2);
    // The plain rotation resumes after the upstream picked last.
    const next = [at(0), at(1), at(2)].indexOf(weighted[weighted.length - 1]) + 1;
    assert.deepEqual(order(g, 3), [at(next % 3), at((next + 1) % 3), at((next + 2) % 3)]);
  });

  it('keeps weights across adds and removes', () => {
    const g = group(2, [1, 1]);
    g.add({ address: '10.0.0.9:80', weight: 2 });
    const seen = order(g, 8);
    assert.deepEqual(
      [at(0), at(1), '10.0.0.9:80'].map((id) => seen.filter((u) => u === id).length),
      [2, 2, 4],
    );
    g.remove('10.0.0.9:80');
    assert.deepEqual(order(g, 4).sort(), [at(0), at(0), at(1), at(1)]);
  });

  it('skips a draining upstream under unequal weights and takes it back when it is up', () => {
    const g = group(3, [2, 1, 1]);
    g.setState(at(0), 'draining');
    const seen = order(g, 6);
    assert.ok(!seen.includes(at(0)));
    assert.deepEqual(seen.sort(), [at(1), at(1), at(1), at(2), at(2), at(2)]);
    g.setState(at(0), 'up');
    const back = order(g, 8);
    assert.equal(back.filter((u) => u === at(0)).length, 4);
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
