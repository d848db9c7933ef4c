import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LoadBuckets } from '../../../../src/lib/balancers/structures/load-buckets.js';

describe('LoadBuckets', () => {
  it('gives the lowest count first, oldest first among equals', () => {
    const b = new LoadBuckets();
    b.clear(4);
    assert.equal(b.first(), -1);
    b.set(2, 3);
    b.set(0, 1);
    b.set(1, 1);
    assert.equal(b.first(), 0);
    b.set(0, 2);
    assert.equal(b.first(), 1);
    b.remove(1);
    assert.equal(b.first(), 0);
    b.set(3, 100); // grows the per-count lists
    b.remove(0);
    b.remove(2);
    assert.equal(b.first(), 3);
    assert.equal(b.size, 1);
  });

  it('property: agrees with a model of (count, last filed) ordering', () => {
    const op = fc.oneof(
      { weight: 2, arbitrary: fc.tuple(fc.constant('set' as const), fc.nat(15), fc.nat(40)) },
      { weight: 2, arbitrary: fc.tuple(fc.constant('move' as const), fc.nat(15), fc.nat(40)) },
      { weight: 1, arbitrary: fc.tuple(fc.constant('remove' as const), fc.nat(15), fc.constant(0)) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const b = new LoadBuckets();
        b.clear(16);
        const model = new Map<number, { count: number; seq: number }>();
        let seq = 0;
        for (const [kind, i, count] of ops) {
          if (kind === 'set') {
            b.set(i, count);
            model.set(i, { count, seq: seq++ });
          } else if (kind === 'move') {
            assert.equal(b.move(i, count), model.has(i));
            if (model.has(i)) model.set(i, { count, seq: seq++ });
          } else {
            b.remove(i);
            model.delete(i);
          }
          let want = -1;
          for (const [j, m] of model) {
            const w = want < 0 ? undefined : model.get(want);
            if (w === undefined || m.count < w.count || (m.count === w.count && m.seq < w.seq)) want = j;
          }
          assert.equal(b.first(), want);
          assert.equal(b.size, model.size);
          for (let j = 0; j < 16; j++) assert.equal(b.countOf(j), model.get(j)?.count ?? -1);
        }
      }),
    );
  });
});
