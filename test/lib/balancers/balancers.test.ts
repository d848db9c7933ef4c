// Contracts every registered balancer keeps, checked through UpstreamGroup as the proxy uses them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { balancerNames, createBalancer } from '../../../src/lib/balancers/registry.js';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import type { Upstream, UpstreamState } from '../../../src/lib/upstreams/upstream.js';
import { UpstreamGroup } from '../../../src/lib/upstreams/upstream-group.js';
import { seededRandom } from '../../helpers/random.js';

const NAMES = [
  'least-connections',
  'round-robin',
  'weighted-round-robin',
  'random',
  'power-of-two',
  'consistent-hash',
] as const;

const make = (name: string) => createBalancer(name, { boundedLoad: 1.25, random: seededRandom(11) });
const at = (i: number) => `10.0.0.${i + 1}:80`;

function group(name: string, weights: readonly number[] = [1, 2, 3]): UpstreamGroup {
  return new UpstreamGroup('g', {
    balancer: make(name),
    upstreams: weights.map((weight, i) => ({ address: at(i), weight })),
  });
}

const noHealthy = (e: unknown) => hasCode(e, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM);

describe('every balancer', () => {
  it('is registered under its exact name', () => {
    for (const name of NAMES) {
      assert.ok(balancerNames().includes(name), name);
      assert.equal(createBalancer(name).name, name);
    }
  });

  for (const name of NAMES) {
    describe(name, () => {
      const ids = (g: UpstreamGroup) => g.upstreams.map((u) => u.id);
      const refusals: [string, (g: UpstreamGroup) => void][] = [
        [
          'all down',
          (g) => {
            for (const id of ids(g)) g.setState(id, 'down');
          },
        ],
        [
          'all unhealthy',
          (g) => {
            for (const id of ids(g)) g.setHealthy(id, false);
          },
        ],
        [
          'all full',
          (g) => {
            for (const id of ids(g)) g.setMaxConnections(id, 1);
            for (let i = 0; i < 3; i++) g.pick(`key-${i}`);
          },
        ],
        [
          'all removed',
          (g) => {
            for (const id of ids(g)) g.remove(id);
          },
        ],
      ];
      for (const [why, setup] of refusals) {
        it(`yields ERR_NO_HEALTHY_UPSTREAM through the group when ${why}`, () => {
          const g = group(name);
          setup(g);
          assert.throws(() => g.pick('some-key'), noHealthy);
          assert.throws(() => g.pick(), noHealthy);
        });
      }

      it('refuses with an empty group and works once an upstream is added', () => {
        const g = new UpstreamGroup('g', { balancer: make(name) });
        assert.throws(() => g.pick(), noHealthy);
        g.add({ address: at(0) });
        assert.equal(g.pick('k').id, at(0));
      });

      it('keeps counters when swapped in and out with connections live', () => {
        const g = group(name);
        const live: Upstream[] = [];
        for (let i = 0; i < 12; i++) live.push(g.pick(`key-${i}`));
        const counts = g.upstreams.map((u) => u.active);
        for (const other of NAMES) {
          g.setBalancer(make(other));
          live.push(g.pick('after-swap'));
          g.setBalancer(make(name));
        }
        assert.equal(
          g.upstreams.reduce((a, u) => a + u.active, 0),
          counts.reduce((a, b) => a + b, 0) + NAMES.length,
        );
        for (const u of live) g.release(u);
        assert.deepEqual(
          g.upstreams.map((u) => u.active),
          [0, 0, 0],
        );
        assert.ok(g.pick('k'));
      });

      it('picks only live members after upstreams are added and removed', () => {
        const g = group(name);
        const held = g.pick('k1');
        g.add({ address: '10.0.0.9:80', weight: 2 });
        g.remove(g.upstreams[0].id);
        g.release(held);
        const seen = new Set<string>();
        for (let i = 0; i < 60; i++) {
          const u = g.pick(`key-${i}`);
          assert.ok(g.upstreams.includes(u), `${u.id} is not in the group`);
          seen.add(u.id);
          g.release(u);
        }
        if (name !== 'consistent-hash') assert.equal(seen.size, 3);
      });

      it('property: picks only available upstreams, refuses only when none is, counts stay true', () => {
        const op = fc.oneof(
          { weight: 8, arbitrary: fc.record({ kind: fc.constant('pick' as const), key: fc.nat(50) }) },
          { weight: 5, arbitrary: fc.record({ kind: fc.constant('release' as const), at: fc.nat() }) },
          {
            weight: 1,
            arbitrary: fc.record({
              kind: fc.constant('state' as const),
              u: fc.nat(),
              state: fc.constantFrom<UpstreamState>('up', 'up', 'down', 'draining', 'maintenance'),
            }),
          },
          {
            weight: 1,
            arbitrary: fc.record({ kind: fc.constant('healthy' as const), u: fc.nat(), ok: fc.boolean() }),
          },
          {
            weight: 1,
            arbitrary: fc.record({
              kind: fc.constant('weight' as const),
              u: fc.nat(),
              w: fc.integer({ min: 1, max: 12 }),
            }),
          },
          {
            weight: 1,
            arbitrary: fc.record({ kind: fc.constant('max' as const), u: fc.nat(), max: fc.nat(3) }),
          },
          {
            weight: 1,
            arbitrary: fc.record({ kind: fc.constant('add' as const), w: fc.integer({ min: 1, max: 4 }) }),
          },
          { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), u: fc.nat() }) },
        );
        fc.assert(
          fc.property(
            fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 10 }),
            fc.array(op, { maxLength: 120 }),
            (weights, ops) => {
              const g = group(name, weights);
              const live: Upstream[] = [];
              let added = 0;
              const pickId = (u: number) => g.upstreams[u % g.upstreams.length].id;
              for (const o of ops) {
                if (o.kind === 'pick') {
                  const available = g.upstreams.filter((u) => u.available());
                  if (available.length === 0) {
                    assert.throws(() => g.pick(`key-${o.key}`), noHealthy);
                    continue;
                  }
                  const u = g.pick(`key-${o.key}`);
                  assert.ok(available.includes(u), `${u.id} was not available`);
                  live.push(u);
                } else if (o.kind === 'release') {
                  if (live.length > 0) g.release(live.splice(o.at % live.length, 1)[0]);
                } else if (o.kind === 'add') {
                  g.add({ address: `10.0.1.${++added}:80`, weight: o.w });
                } else if (g.upstreams.length === 0) {
                } else if (o.kind === 'state') g.setState(pickId(o.u), o.state);
                else if (o.kind === 'healthy') g.setHealthy(pickId(o.u), o.ok);
                else if (o.kind === 'weight') g.setWeight(pickId(o.u), o.w);
                else if (o.kind === 'max') g.setMaxConnections(pickId(o.u), o.max);
                else g.remove(pickId(o.u));
              }
              const counted = new Map<Upstream, number>();
              for (const u of live) counted.set(u, (counted.get(u) ?? 0) + 1);
              for (const [u, n] of counted) assert.equal(u.active, n);
            },
          ),
          { numRuns: name === 'consistent-hash' ? 60 : 200 },
        );
      });
    });
  }
});
