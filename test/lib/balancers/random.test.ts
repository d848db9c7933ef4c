import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RandomBalancer } from '../../../src/lib/balancers/random.js';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import { UpstreamGroup } from '../../../src/lib/upstreams/upstream-group.js';
import { seededRandom } from '../../helpers/random.js';

function group(weights: readonly number[], random: () => number): UpstreamGroup {
  return new UpstreamGroup('g', {
    balancer: new RandomBalancer(random),
    upstreams: weights.map((weight, i) => ({ address: `10.0.0.${i + 1}:80`, weight })),
  });
}

const at = (i: number) => `10.0.0.${i + 1}:80`;

function shares(g: UpstreamGroup, picks: number): number[] {
  const counts = g.upstreams.map(() => 0);
  for (let i = 0; i < picks; i++) {
    const u = g.pick();
    counts[u.index]++;
    g.release(u);
  }
  return counts.map((c) => c / picks);
}

describe('random', () => {
  it('picks in proportion to weight (seeded, 20 000 picks, within 5%)', () => {
    const weights = [1, 2, 3, 4];
    const got = shares(group(weights, seededRandom(1)), 20_000);
    weights.forEach((w, i) => {
      assert.ok(Math.abs(got[i] - w / 10) <= 0.05 * (w / 10), `upstream ${i}: ${got[i]}`);
    });
  });

  it('is reproducible with the same seed', () => {
    const a = shares(group([1, 1, 1], seededRandom(7)), 100);
    const b = shares(group([1, 1, 1], seededRandom(7)), 100);
    assert.deepEqual(a, b);
  });

  it('maps the ends of [0, 1) to the first and last upstream', () => {
    let next = 0;
    const g = group([1, 1, 1], () => next);
    assert.equal(g.pick().id, at(0));
    next = 0.9999999999999999;
    assert.equal(g.pick().id, at(2));
  });

  it('skips unavailable upstreams and takes full ones back when released', () => {
    const g = group([1, 1, 1], seededRandom(3));
    g.setState(at(0), 'down');
    g.setMaxConnections(at(1), 1);
    const held = [];
    for (let i = 0; i < 50; i++) held.push(g.pick());
    assert.equal(g.get(at(0))?.active, 0);
    assert.equal(g.get(at(1))?.active, 1);
    const one = held.find((u) => u.id === at(1));
    assert.ok(one !== undefined);
    g.release(one);
    g.setState(at(2), 'maintenance');
    assert.equal(g.pick().id, at(1));
    assert.throws(
      () => g.pick(),
      (e) => hasCode(e, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM),
    );
  });

  it('property: only available upstreams, whatever the weights and states', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ weight: fc.integer({ min: 1, max: 9 }), up: fc.boolean(), max: fc.nat(2) }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer(),
        (specs, seed) => {
          const g = group(
            specs.map((s) => s.weight),
            seededRandom(seed),
          );
          specs.forEach((s, i) => {
            if (!s.up) g.setHealthy(at(i), false);
            g.setMaxConnections(at(i), s.max);
          });
          for (let n = 0; n < 20; n++) {
            const available = g.upstreams.filter((u) => u.available());
            if (available.length === 0) {
              assert.throws(() => g.pick());
              break;
            }
            assert.ok(available.includes(g.pick()));
          }
        },
      ),
    );
  });
});
