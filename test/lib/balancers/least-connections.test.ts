import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LeastConnectionsBalancer } from '../../../src/lib/balancers/least-connections.js';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import type { Upstream, UpstreamState } from '../../../src/lib/upstreams/upstream.js';
import { UpstreamGroup } from '../../../src/lib/upstreams/upstream-group.js';

function group(weights: readonly number[]): UpstreamGroup {
  return new UpstreamGroup('g', {
    balancer: new LeastConnectionsBalancer(),
    upstreams: weights.map((weight, i) => ({ address: `10.0.0.${i + 1}:80`, weight })),
  });
}

const ids = (us: readonly Upstream[]) => us.map((u) => u.id);
const at = (i: number) => `10.0.0.${i + 1}:80`;

/** More distinct weights than the per-weight buckets take (16), so the balancer uses its heap. */
const HEAP_WEIGHTS = Array.from({ length: 17 }, (_, i) => i + 1);

/** Weight sets that exercise each index the balancer may choose. */
const SHAPES: [string, number[]][] = [
  ['equal weights (count buckets)', [1, 1, 1, 1]],
  ['a few distinct weights (buckets per weight)', [1, 1, 2, 2]],
  ['sixteen distinct weights (buckets per weight)', HEAP_WEIGHTS.slice(0, 16)],
  ['many distinct weights (heap)', HEAP_WEIGHTS],
];

describe('least-connections', () => {
  it('is the default balancer of a group', () => {
    assert.equal(new UpstreamGroup('g').balancer.name, 'least-connections');
  });

  for (const [shape, weights] of SHAPES) {
    it(`rotates between equal loads: ${shape}`, () => {
      const g = group(weights);
      const order: string[] = [];
      for (let i = 0; i < 2 * weights.length; i++) {
        const u = g.pick();
        order.push(u.id);
        g.release(u);
      }
      const once = weights.map((_, i) => at(i));
      assert.deepEqual(order, [...once, ...once]);
    });

    it(`gives exact weighted shares over a cycle: ${shape}`, () => {
      const g = group(weights);
      const total = weights.reduce((a, b) => a + b, 0);
      for (let i = 0; i < 3 * total; i++) g.pick();
      assert.deepEqual(
        g.upstreams.map((u) => u.active),
        weights.map((w) => 3 * w),
      );
    });

    it(`picks the least loaded after releases: ${shape}`, () => {
      const g = group(weights);
      const live = [];
      for (let i = 0; i < 40; i++) live.push(g.pick());
      const last = g.upstreams[weights.length - 1];
      for (const u of live.filter((x) => x === last)) g.release(u);
      assert.equal(g.pick(), last);
    });
  }

  it('counts connections still being set up', () => {
    const g = group([1, 1]);
    const a = g.pick(); // connecting, not yet connected
    assert.equal(a.connecting, 1);
    assert.notEqual(g.pick(), a);
  });

  const unavailable: [string, (g: UpstreamGroup) => void][] = [
    ['down', (g) => g.setState(at(0), 'down')],
    ['draining', (g) => g.setState(at(0), 'draining')],
    ['maintenance', (g) => g.setState(at(0), 'maintenance')],
    ['unhealthy', (g) => g.setHealthy(at(0), false)],
  ];
  for (const [why, make] of unavailable) {
    it(`never picks an upstream that is ${why}, and takes it back when it is up again`, () => {
      const g = group([1, 1, 1]);
      make(g);
      for (let i = 0; i < 30; i++) assert.notEqual(g.pick().id, at(0));
      g.setState(at(0), 'up');
      g.setHealthy(at(0), true);
      // It has no connections while the others have ten each.
      for (let i = 0; i < 10; i++) assert.equal(g.pick().id, at(0));
    });
  }

  it('takes an upstream out at maxConnections and puts it back when released below', () => {
    const g = group([1, 1]);
    g.setMaxConnections(at(0), 1);
    const a = g.pick();
    assert.equal(a.id, at(0));
    for (let i = 0; i < 5; i++) assert.equal(g.pick().id, at(1));
    g.release(a);
    assert.equal(g.pick().id, at(0));
    g.setMaxConnections(at(1), 5);
    assert.throws(
      () => g.pick(),
      (e) => hasCode(e, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM),
    );
    g.setMaxConnections(at(0), 0);
    assert.equal(g.pick().id, at(0));
  });

  it('rebuilds its index when weights change, keeping counts', () => {
    const n = HEAP_WEIGHTS.length + 1;
    const g = group(new Array(n).fill(1));
    for (let i = 0; i < n; i++) g.pick();
    g.setWeight(at(2), 2); // two distinct weights: buckets per weight
    assert.equal(g.pick().id, at(2));
    for (let i = 0; i < n; i++) g.setWeight(at(i), i + 1); // all distinct: heap
    const expected = new Array(n).fill(1);
    expected[2] = 2;
    assert.deepEqual(
      g.upstreams.map((u) => u.active),
      expected,
    );
    assert.equal(g.pick().id, at(n - 1));
    for (let i = 0; i < n; i++) g.setWeight(at(i), 1); // equal again: buckets
    assert.equal(g.pick().id, at(0));
  });

  it('uses the heap for many weights and still removes and restores upstreams', () => {
    const g = group(HEAP_WEIGHTS);
    const last = HEAP_WEIGHTS.length - 1;
    g.setState(at(last), 'down');
    g.setMaxConnections(at(last - 1), 2);
    const live = [];
    for (let i = 0; i < 45; i++) live.push(g.pick());
    assert.equal(g.get(at(last))?.active, 0);
    assert.equal(g.get(at(last - 1))?.active, 2);
    g.release(live[live.findIndex((u) => u.id === at(last - 1))]);
    g.setState(at(last), 'up');
    const picked = new Set(ids([g.pick(), g.pick()]));
    assert.ok(picked.has(at(last)));
  });

  it('property: never picks above the lowest weighted load, whatever happens in between', () => {
    // 24 upstreams drawing from 40 weights usually have more than 16 distinct ones: the heap
    const weightSets = [[1], [1, 2, 3], Array.from({ length: 40 }, (_, i) => i + 1)];
    const op = (n: number, weights: number[]) =>
      fc.oneof(
        { weight: 10, arbitrary: fc.constant({ kind: 'pick' as const }) },
        { weight: 6, arbitrary: fc.record({ kind: fc.constant('release' as const), at: fc.nat() }) },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('state' as const),
            u: fc.nat(n - 1),
            state: fc.constantFrom<UpstreamState>('up', 'up', 'down', 'draining', 'maintenance'),
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
            weight: fc.constantFrom(...weights),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({ kind: fc.constant('max' as const), u: fc.nat(n - 1), max: fc.nat(4) }),
        },
      );
    const scenario = fc
      .record({ n: fc.integer({ min: 1, max: 24 }), weights: fc.constantFrom(...weightSets) })
      .chain(({ n, weights }) =>
        fc.record({
          initial: fc.array(fc.constantFrom(...weights), { minLength: n, maxLength: n }),
          ops: fc.array(op(n, weights), { maxLength: 150 }),
        }),
      );
    fc.assert(
      fc.property(scenario, ({ initial, ops }) => {
        const g = group(initial);
        const live: Upstream[] = [];
        for (const o of ops) {
          const id = o.kind === 'pick' || o.kind === 'release' ? '' : at(o.u);
          if (o.kind === 'release') {
            if (live.length > 0) g.release(live.splice(o.at % live.length, 1)[0]);
          } else if (o.kind === 'state') g.setState(id, o.state);
          else if (o.kind === 'healthy') g.setHealthy(id, o.healthy);
          else if (o.kind === 'weight') g.setWeight(id, o.weight);
          else if (o.kind === 'max') g.setMaxConnections(id, o.max);
          else {
            const available = g.upstreams.filter((u) => u.available());
            if (available.length === 0) {
              assert.throws(
                () => g.pick(),
                (e) => hasCode(e, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM),
              );
              continue;
            }
            const before = new Map(available.map((u) => [u, u.active]));
            const u = g.pick();
            const mine = before.get(u);
            assert.ok(mine !== undefined, `picked unavailable ${u.id}`);
            for (const [v, active] of before) {
              assert.ok(mine * v.weight <= active * u.weight, `${u.id} (${mine}/${u.weight}) over ${v.id}`);
            }
            live.push(u);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps its index when upstreams are added and removed with connections live', () => {
    const g = group([1, 1]);
    const a = g.pick();
    const b = g.pick();
    g.add({ address: '10.0.0.9:80' });
    assert.equal(g.pick().id, '10.0.0.9:80');
    g.remove(a.id);
    g.release(a);
    g.release(b);
    assert.equal(g.pick().id, b.id);
    assert.deepEqual(ids(g.upstreams), [b.id, '10.0.0.9:80']);
  });
});
