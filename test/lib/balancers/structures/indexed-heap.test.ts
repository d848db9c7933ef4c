import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IndexedHeap } from '../../../../src/lib/balancers/structures/indexed-heap.js';

interface Entry {
  active: number;
  weight: number;
  stamp: number;
  present: boolean;
}

describe('IndexedHeap', () => {
  it('orders by active / weight without dividing, then by least recently acquired', () => {
    const h = new IndexedHeap();
    h.clear(3);
    h.insert(0, 2, 3); // 0.667
    h.insert(1, 1, 1); // 1
    h.insert(2, 2, 3); // 0.667, later index
    assert.equal(h.first(), 0);
    h.acquire(0, 2); // same load, now most recent
    assert.equal(h.first(), 2);
    h.release(1, 0);
    assert.equal(h.first(), 1);
    h.remove(1);
    h.remove(2);
    assert.equal(h.first(), 0);
    h.remove(0);
    assert.equal(h.first(), -1);
  });

  it('property: agrees with a brute-force model under insert, remove, acquire and release', () => {
    const n = 12;
    const op = fc.tuple(
      fc.constantFrom('insert', 'remove', 'acquire', 'release'),
      fc.nat(n - 1),
      fc.nat(30),
      fc.integer({ min: 1, max: 5 }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const h = new IndexedHeap();
        h.clear(n);
        const model: Entry[] = Array.from({ length: n }, (_, i) => ({
          active: 0,
          weight: 1,
          stamp: i,
          present: false,
        }));
        let clock = n;
        for (const [kind, i, active, weight] of ops) {
          const m = model[i];
          if (kind === 'insert' && !m.present) {
            h.insert(i, active, weight);
            Object.assign(m, { active, weight, present: true });
          } else if (kind === 'remove') {
            h.remove(i);
            m.present = false;
          } else if (kind === 'acquire' && m.present) {
            h.acquire(i, active);
            m.active = active;
            m.stamp = clock++;
          } else if (kind === 'release' && m.present) {
            h.release(i, active);
            m.active = active;
          }
          let want = -1;
          for (let j = 0; j < n; j++) {
            const e = model[j];
            if (!e.present) continue;
            if (want < 0) {
              want = j;
              continue;
            }
            const w = model[want];
            const x = e.active * w.weight;
            const y = w.active * e.weight;
            if (x < y || (x === y && e.stamp < w.stamp)) want = j;
          }
          assert.equal(h.first(), want);
          assert.equal(h.size, model.filter((e) => e.present).length);
        }
      }),
    );
  });
});
