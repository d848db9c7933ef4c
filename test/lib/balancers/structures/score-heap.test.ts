import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ScoreHeap } from '../../../../src/lib/balancers/structures/score-heap.js';

describe('ScoreHeap', () => {
  it('property: two heaps over shared arrays each give their highest score, lowest index on ties', () => {
    const n = 10;
    const op = fc.tuple(
      fc.constantFrom('insert', 'remove', 'lower', 'shift'),
      fc.nat(n - 1),
      fc.integer({ min: -20, max: 20 }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const pos = new Int32Array(n).fill(-1);
        const score = new Float64Array(n);
        const heaps = [new ScoreHeap(n, pos, score), new ScoreHeap(n, pos, score)];
        const home = new Int32Array(n).fill(-1);
        for (const [kind, i, value] of ops) {
          const side = i % 2;
          const h = heaps[side];
          if (kind === 'insert' && home[i] < 0) {
            score[i] = value;
            h.insert(i);
            home[i] = side;
          } else if (kind === 'remove' && home[i] >= 0) {
            heaps[home[i]].remove(i);
            home[i] = -1;
          } else if (kind === 'lower' && home[i] >= 0) {
            score[i] -= Math.abs(value);
            heaps[home[i]].lowered(i);
          } else if (kind === 'shift') h.shift(value); // the shared scores move; the model reads them

          for (const s of [0, 1]) {
            let want = -1;
            for (let j = 0; j < n; j++) if (home[j] === s && (want < 0 || score[j] > score[want])) want = j;
            assert.equal(heaps[s].top(), want);
            assert.equal(heaps[s].size, home.filter((x) => x === s).length);
          }
        }
      }),
    );
  });

  it('shift moves every member by the same amount and nobody else', () => {
    const pos = new Int32Array(3).fill(-1);
    const score = new Float64Array([1, 2, 3]);
    const h = new ScoreHeap(3, pos, score);
    h.insert(0);
    h.insert(2);
    h.shift(10);
    assert.deepEqual([...score], [11, 2, 13]);
    assert.equal(h.top(), 2);
  });
});
