import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FenwickTree } from '../../../../src/lib/balancers/structures/fenwick-tree.js';

describe('FenwickTree', () => {
  it('property: find(r) lands in the slice of the weight that holds r, never on a zero weight', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.nat(39), fc.nat(9)), { maxLength: 200 }),
        (n, sets) => {
          const t = new FenwickTree();
          t.clear(n);
          const w = new Array(n).fill(0);
          for (const [i, weight] of sets) {
            t.set(i % n, weight);
            w[i % n] = weight;
          }
          const total = w.reduce((a, b) => a + b, 0);
          assert.equal(t.total, total);
          if (total === 0) {
            assert.equal(t.find(0), -1);
            return;
          }
          let start = 0;
          for (let i = 0; i < n; i++) {
            if (w[i] > 0) {
              assert.equal(t.find(start), i);
              assert.equal(t.find(start + w[i] - 0.5), i);
            }
            start += w[i];
          }
          assert.ok(w[t.find(total)] > 0, 'r at the very end still finds a weight');
        },
      ),
    );
  });

  it('stays exact through many fractional updates (rebuilds itself)', () => {
    const t = new FenwickTree();
    t.clear(5);
    for (let k = 0; k < 1000; k++) t.set(k % 5, (k % 7) * 0.1);
    t.set(0, 0);
    t.set(1, 0);
    t.set(2, 0);
    t.set(3, 0);
    t.set(4, 0.3);
    assert.equal(t.find(0), 4);
    assert.equal(t.find(0.29), 4);
    t.set(4, 0);
    assert.equal(t.find(0), -1);
  });
});
