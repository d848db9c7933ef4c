import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { WeightedRoundRobinBalancer } from '../../../src/lib/balancers/weighted-round-robin.js';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import type { Upstream, UpstreamState } from '../../../src/lib/upstreams/upstream.js';
import { UpstreamGroup } from '../../../src/lib/upstreams/upstream-group.js';

function group(weights: readonly number[]): UpstreamGroup {
  return new UpstreamGroup('g', {
    balancer: new WeightedRoundRobinBalancer(),
    upstreams: weights.map((weight, i) => ({ address: `10.0.0.${i + 1}:80`, weight })),
  });
}

const at = (i: number) => `10.0.0.${i + 1}:80`;

/** nginx's smooth weighted round-robin, written the plain O(n) way, as the reference. */
class NginxModel {
  current = new Map<Upstream, number>();

  pick(upstreams: readonly Upstream[]): Upstream | undefined {
    let best: Upstream | undefined;
    let total = 0;
    for (const u of upstreams) {
      if (!u.available()) continue;
      const c = (this.current.get(u) ?? 0) + u.weight;
      this.current.set(u, c);
      total += u.weight;
      if (best === undefined || c > (this.current.get(best) ?? 0)) best = u;
    }
    if (best !== undefined) this.current.set(best, (this.current.get(best) ?? 0) - total);
    return best;
  }
}

function picks(g: UpstreamGroup, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(g.pick().index);
  return out;
}

describe('weighted-round-robin', () => {
  it('spreads the heaviest upstream out as nginx does (5, 1, 1 -> a a b a c a a)', () => {
    assert.deepEqual(picks(group([5, 1, 1]), 14), [0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0]);
  });

  const cycles: number[][] = [[1], [1, 1, 1], [3, 1], [5, 1, 1], [2, 3, 4], [10, 1, 7, 2]];
  for (const weights of cycles) {
    it(`gives each upstream exactly its weight over a cycle: ${weights.join(', ')}`, () => {
      const g = group(weights);
      const total = weights.reduce((a, b) => a + b, 0);
      const seen = picks(g, 2 * total);
      for (const half of [seen.slice(0, total), seen.slice(total)]) {
        assert.deepEqual(
          weights.map((_, i) => half.filter((p) => p === i).length),
          weights,
        );
      }
    });
  }

  it('property: exact shares per cycle and no bursts in any window of k picks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 1, max: 200 }),
        (weights, kSeed) => {
          const total = weights.reduce((a, b) => a + b, 0);
          const seq = picks(group(weights), 3 * total);
          for (let c = 0; c < 3; c++) {
            const cycle = seq.slice(c * total, (c + 1) * total);
            for (let i = 0; i < weights.length; i++) {
              assert.equal(cycle.filter((p) => p === i).length, weights[i]);
            }
          }
          const k = 1 + (kSeed % (2 * total));
          for (let start = 0; start + k <= seq.length; start++) {
            const counts = new Array(weights.length).fill(0);
            for (let j = start; j < start + k; j++) counts[seq[j]]++;
            for (let i = 0; i < weights.length; i++) {
              const bound = Math.ceil((weights[i] / total) * k) + 1;
              assert.ok(counts[i] <= bound, `upstream ${i} got ${counts[i]} of ${k} picks, bound ${bound}`);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('property: picks exactly what nginx would, through state, health, cap and weight changes', () => {
    const op = (n: number) =>
      fc.oneof(
        { weight: 10, arbitrary: fc.constant({ kind: 'pick' as const }) },
        { weight: 5, arbitrary: fc.record({ kind: fc.constant('release' as const), at: fc.nat() }) },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('state' as const),
            u: fc.nat(n - 1),
            state: fc.constantFrom<UpstreamState>('up', 'up', 'down', 'maintenance'),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('healthy' as const),
            u: fc.nat(n - 1),
            healthy: fc.boolean(),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('weight' as const),
            u: fc.nat(n - 1),
            weight: fc.integer({ min: 1, max: 6 }),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({ kind: fc.constant('max' as const), u: fc.nat(n - 1), max: fc.nat(3) }),
        },
      );
    const scenario = fc.integer({ min: 1, max: 8 }).chain((n) =>
      fc.record({
        weights: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: n, maxLength: n }),
        ops: fc.array(op(n), { maxLength: 150 }),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ weights, ops }) => {
        const g = group(weights);
        const model = new NginxModel();
        const live: Upstream[] = [];
        for (const o of ops) {
          if (o.kind === 'pick') {
            const expected = model.pick(g.upstreams);
            if (expected === undefined) {
              assert.throws(
                () => g.pick(),
                (e) => hasCode(e, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM),
              );
            } else {
              const u = g.pick();
              assert.equal(u.id, expected.id);
              live.push(u);
            }
          } else if (o.kind === 'release') {
            if (live.length > 0) g.release(live.splice(o.at % live.length, 1)[0]);
          } else if (o.kind === 'state') g.setState(at(o.u), o.state);
          else if (o.kind === 'healthy') g.setHealthy(at(o.u), o.healthy);
          else if (o.kind === 'weight') g.setWeight(at(o.u), o.weight);
          else g.setMaxConnections(at(o.u), o.max);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('skips unavailable upstreams and keeps the others in proportion', () => {
    const g = group([3, 2, 1]);
    g.setState(at(0), 'draining');
    const seen = picks(g, 9);
    assert.deepEqual(
      [0, 1, 2].map((i) => seen.filter((p) => p === i).length),
      [0, 6, 3],
    );
    g.setHealthy(at(1), false);
    g.setMaxConnections(at(2), 3);
    assert.throws(
      () => g.pick(),
      (e) => hasCode(e, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM),
    );
  });

  it('starts afresh after upstreams are added or removed', () => {
    const g = group([2, 1]);
    g.pick();
    g.add({ address: '10.0.0.9:80', weight: 3 });
    assert.deepEqual(picks(g, 6), [2, 0, 1, 2, 0, 2]);
    g.remove(at(0));
    assert.deepEqual(picks(g, 4), [1, 0, 1, 1]);
  });
});
