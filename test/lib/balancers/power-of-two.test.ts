import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PowerOfTwoBalancer } from '../../../src/lib/balancers/power-of-two.js';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import { UpstreamGroup } from '../../../src/lib/upstreams/upstream-group.js';
import { seededRandom } from '../../helpers/random.js';

function group(weights: readonly number[], random: () => number): UpstreamGroup {
  return new UpstreamGroup('g', {
    balancer: new PowerOfTwoBalancer(random),
    upstreams: weights.map((weight, i) => ({ address: `10.0.0.${i + 1}:80`, weight })),
  });
}

const at = (i: number) => `10.0.0.${i + 1}:80`;

function load(g: UpstreamGroup, actives: readonly number[]): void {
  g.upstreams.forEach((u, i) => {
    u.active = actives[i];
  });
  g.setBalancer(g.balancer); // reset reads the counters
}

describe('power-of-two', () => {
  it('with two upstreams always takes the less loaded one (both are always drawn)', () => {
    const g = group([1, 1], seededRandom(1));
    load(g, [5, 2]);
    for (let i = 0; i < 20; i++) {
      const u = g.pick();
      assert.equal(u.id, at(1));
      g.release(u);
    }
  });

  it('never takes the most loaded of three, and takes the least loaded about 2/3 of the time', () => {
    const g = group([1, 1, 1], seededRandom(2));
    load(g, [0, 5, 10]);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const u = g.pick();
      counts[u.index]++;
      g.release(u);
    }
    assert.equal(counts[2], 0);
    assert.ok(Math.abs(counts[0] / 3000 - 2 / 3) < 0.05, `least loaded share ${counts[0] / 3000}`);
  });

  it('compares load by weight: 3 connections on weight 3 beat 2 on weight 1', () => {
    const g = group([3, 1], seededRandom(3));
    load(g, [3, 2]);
    assert.equal(g.pick().id, at(0));
  });

  it('draws two different upstreams even when the generator repeats itself', () => {
    const g = group([1, 1], () => 0);
    load(g, [1, 0]);
    assert.equal(g.pick().id, at(1));
  });

  it('keeps loads even over many picks (seeded)', () => {
    const g = group(new Array(10).fill(1), seededRandom(4));
    for (let i = 0; i < 1000; i++) g.pick();
    const actives = g.upstreams.map((u) => u.active);
    assert.ok(Math.max(...actives) - Math.min(...actives) <= 6, `spread ${actives}`);
  });

  it('skips unavailable upstreams and takes full ones back when released', () => {
    const g = group([1, 1, 1], seededRandom(5));
    g.setHealthy(at(0), false);
    g.setMaxConnections(at(1), 1);
    const first = [g.pick(), g.pick(), g.pick()];
    assert.ok(first.every((u) => u.id !== at(0)));
    assert.equal(g.get(at(1))?.active, 1);
    g.setState(at(2), 'draining');
    assert.throws(
      () => g.pick(),
      (e) => hasCode(e, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM),
    );
    g.release(first.find((u) => u.id === at(1))!);
    assert.equal(g.pick().id, at(1));
  });
});
