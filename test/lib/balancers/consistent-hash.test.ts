import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConsistentHashBalancer } from '../../../src/lib/balancers/consistent-hash.js';
import { createBalancer } from '../../../src/lib/balancers/registry.js';
import { ErrorCodes, hasCode } from '../../../src/lib/errors.js';
import type { Upstream } from '../../../src/lib/upstreams/upstream.js';
import { UpstreamGroup } from '../../../src/lib/upstreams/upstream-group.js';

function group(count: number, boundedLoad = 0, weights?: readonly number[]): UpstreamGroup {
  return new UpstreamGroup('g', {
    balancer: new ConsistentHashBalancer({ boundedLoad }),
    upstreams: Array.from({ length: count }, (_, i) => ({
      address: `10.0.${i >> 8}.${i & 255}:80`,
      weight: weights?.[i] ?? 1,
    })),
  });
}

const KEYS = Array.from({ length: 10_000 }, (_, i) => `198.51.${(i >> 8) & 255}.${i & 255}:${1024 + i}`);

/** Where each key goes, picking and releasing at once so loads stay zero. */
function route(g: UpstreamGroup, keys: readonly string[] = KEYS): string[] {
  return keys.map((k) => {
    const u = g.pick(k);
    g.release(u);
    return u.id;
  });
}

function moved(before: readonly string[], after: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) n++;
  return n / before.length;
}

describe('consistent-hash', () => {
  it('sends the same key to the same upstream, across instances', () => {
    const a = route(group(7));
    assert.deepEqual(route(group(7)), a);
    assert.deepEqual(route(group(7)), a);
  });

  for (const n of [3, 5, 10, 25]) {
    it(`moves at most 1/N + 5% of keys when one of ${n} upstreams goes away, and only its keys`, () => {
      const g = group(n);
      const before = route(g);
      const gone = g.upstreams[Math.floor(n / 2)].id;
      g.setState(gone, 'down');
      const afterDown = route(g);
      assert.ok(moved(before, afterDown) <= 1 / n + 0.05, `moved ${moved(before, afterDown)}`);
      // Keys that were elsewhere mostly stay: the rest of the movement is the gone upstream's keys.
      const strays = before.filter((id, i) => id !== gone && afterDown[i] !== id).length / before.length;
      assert.ok(strays <= 0.05, `keys of other upstreams moved: ${strays}`);
      g.setState(gone, 'up');
      assert.deepEqual(route(g), before, 'coming back restores the old mapping');
      g.remove(gone);
      const afterRemove = route(g);
      assert.ok(moved(before, afterRemove) <= 1 / n + 0.05, `moved ${moved(before, afterRemove)}`);
    });
  }

  for (const n of [2, 5, 10, 20]) {
    it(`spreads 10 000 keys over ${n} upstreams within 15% of 1/N each`, () => {
      const ids = route(group(n));
      const counts = new Map<string, number>();
      for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
      assert.equal(counts.size, n);
      for (const [id, c] of counts) {
        const share = c / ids.length;
        assert.ok(Math.abs(share - 1 / n) <= 0.15 / n, `${id} has ${share}`);
      }
    });
  }

  it('shares keys in proportion to weight within 15%', () => {
    const weights = [1, 2, 3, 4];
    const g = group(4, 0, weights);
    const ids = route(g);
    for (const [i, u] of g.upstreams.entries()) {
      const share = ids.filter((id) => id === u.id).length / ids.length;
      const want = weights[i] / 10;
      assert.ok(Math.abs(share - want) <= 0.15 * want, `${u.id} has ${share}, want ${want}`);
    }
  });

  for (const c of [1, 1.25, 2]) {
    it(`with boundedLoad ${c}, no upstream holds more than ceil(c x average) connections`, () => {
      const n = 6;
      const g = group(n, c);
      // Few distinct keys, so without the bound a few upstreams would take everything.
      const hot = ['alice', 'bob', 'carol'];
      for (let i = 1; i <= 600; i++) {
        g.pick(hot[i % hot.length]);
        const limit = Math.ceil((c * i) / n);
        for (const u of g.upstreams)
          assert.ok(u.active <= limit, `${u.id} has ${u.active} > ${limit} after ${i}`);
      }
    });
  }

  it('without bounded load, a key sticks to its upstream however loaded', () => {
    const g = group(4);
    const first = g.pick('alice');
    for (let i = 0; i < 50; i++) assert.equal(g.pick('alice'), first);
  });

  const unavailable: [
    string,
    (g: UpstreamGroup, home: Upstream) => void,
    (g: UpstreamGroup, home: Upstream) => void,
  ][] = [
    ['in maintenance', (g, h) => g.setState(h.id, 'maintenance'), (g, h) => g.setState(h.id, 'up')],
    ['unhealthy', (g, h) => g.setHealthy(h.id, false), (g, h) => g.setHealthy(h.id, true)],
    [
      'full',
      (g, h) => {
        g.setMaxConnections(h.id, 1);
        g.pick('alice');
      },
      (g, h) => g.release(h),
    ],
  ];
  for (const [why, make, undo] of unavailable) {
    it(`skips a key's upstream while it is ${why}, and returns to it after`, () => {
      const g = group(4);
      const home = g.pick('alice');
      g.release(home);
      make(g, home);
      for (let i = 0; i < 5; i++) {
        const u = g.pick('alice');
        assert.notEqual(u, home);
        g.release(u);
      }
      undo(g, home);
      assert.equal(g.pick('alice'), home);
    });
  }

  it('yields ERR_NO_HEALTHY_UPSTREAM when nothing is available, and recovers', () => {
    const g = group(3, 1.25);
    for (const u of g.upstreams) g.setMaxConnections(u.id, 1);
    const held: Upstream[] = [];
    for (let i = 0; i < 3; i++) held.push(g.pick(`k${i}`));
    assert.throws(
      () => g.pick('k'),
      (e) => hasCode(e, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM),
    );
    g.release(held[1]);
    assert.equal(g.pick('anything'), held[1]);
  });

  it('keeps serving keyless picks after the table shrinks', () => {
    const g = group(3300); // past 65537 / 20 upstreams: a table of twice the size
    for (let i = 0; i < 100_000; i++) g.release(g.pick()); // walks past the smaller size
    const b = g.balancer;
    b.reset(g.upstreams.slice(0, 3));
    for (let i = 0; i < 10; i++) assert.ok(g.upstreams.slice(0, 3).includes(b.pick()!));
  });

  it('spreads keyless picks over all upstreams', () => {
    const g = group(5);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(g.pick().id);
    assert.equal(seen.size, 5);
  });

  it('property: picks only available upstreams and refuses only when none is', () => {
    const scenario = fc.record({
      n: fc.integer({ min: 1, max: 6 }),
      c: fc.constantFrom(0, 1, 1.25, 3),
      ops: fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('pick' as const), key: fc.string({ maxLength: 6 }) }),
          fc.record({ kind: fc.constant('release' as const), at: fc.nat() }),
          fc.record({ kind: fc.constant('down' as const), u: fc.nat(5), down: fc.boolean() }),
          fc.record({ kind: fc.constant('max' as const), u: fc.nat(5), max: fc.nat(3) }),
        ),
        { maxLength: 100 },
      ),
    });
    fc.assert(
      fc.property(scenario, ({ n, c, ops }) => {
        const g = group(n, c);
        const live: Upstream[] = [];
        for (const o of ops) {
          if (o.kind === 'pick') {
            const available = g.upstreams.filter((u) => u.available());
            if (available.length === 0) {
              assert.throws(
                () => g.pick(o.key),
                (e) => hasCode(e, ErrorCodes.ERR_NO_HEALTHY_UPSTREAM),
              );
            } else {
              const u = g.pick(o.key);
              assert.ok(available.includes(u));
              live.push(u);
            }
          } else if (o.kind === 'release') {
            if (live.length > 0) g.release(live.splice(o.at % live.length, 1)[0]);
          } else if (o.kind === 'down') g.setState(g.upstreams[o.u % n].id, o.down ? 'down' : 'up');
          else g.setMaxConnections(g.upstreams[o.u % n].id, o.max);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('rejects a bounded load between 0 and 1, or not a number', () => {
    for (const bad of [0.5, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => createBalancer('consistent-hash', { boundedLoad: bad }),
        (e) => hasCode(e, ErrorCodes.ERR_INVALID_ARGUMENT),
      );
    }
  });
});
