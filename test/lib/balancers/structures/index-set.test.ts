import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IndexSet } from '../../../../src/lib/balancers/structures/index-set.js';

describe('IndexSet', () => {
  it('property: holds exactly what a Set would, densely', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(19)), { maxLength: 200 }), (ops) => {
        const s = new IndexSet();
        s.clear(20);
        const model = new Set<number>();
        for (const [add, i] of ops) {
          if (add && !model.has(i)) {
            s.add(i);
            model.add(i);
          } else if (!add && model.has(i)) {
            s.remove(i);
            model.delete(i);
          }
          assert.equal(s.size, model.size);
          const members = new Set<number>();
          for (let k = 0; k < s.size; k++) members.add(s.at(k));
          assert.deepEqual(members, model);
          for (let j = 0; j < 20; j++) assert.equal(s.has(j), model.has(j));
        }
      }),
    );
  });
});
