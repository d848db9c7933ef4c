import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hashString, KeyIndex } from '../../../src/lib/ratelimit/key-index.js';

type Op = { kind: 'insert' | 'remove' | 'find'; key: number };

// few distinct keys over many operations, so keys are inserted, removed and re-inserted often and
// probe runs wrap around the end of the small starting table
const opArb = fc.record({
  kind: fc.constantFrom<Op['kind']>('insert', 'remove', 'find'),
  key: fc.integer({ min: 0, max: 60 }),
});

/** Runs ops against an index and a Map side by side and checks every key after each op. */
function checkAgainstMap(ops: Op[]): void {
  let capacity = 4;
  const index = new KeyIndex(capacity);
  const model = new Map<string, number>();
  const freeSlots: number[] = [];
  let nextSlot = 0;
  for (const op of ops) {
    const key = `k${op.key}`;
    if (op.kind === 'insert' && !model.has(key)) {
      let slot = freeSlots.pop();
      if (slot === undefined) {
        if (nextSlot === capacity) {
          capacity *= 2;
          index.growSlots(capacity);
        }
        slot = nextSlot++;
      }
      index.insert(key, slot);
      model.set(key, slot);
    } else if (op.kind === 'remove' && model.has(key)) {
      const slot = model.get(key)!;
      index.remove(slot);
      model.delete(key);
      freeSlots.push(slot);
    }
    assert.equal(index.size, model.size);
    for (let k = 0; k <= 60; k++) {
      const probe = `k${k}`;
      const slot = model.get(probe);
      assert.equal(index.find(probe), slot ?? -1, `after ${op.kind} ${key}: ${probe}`);
      if (slot !== undefined) assert.equal(index.keyAt(slot), probe);
    }
  }
}

describe('KeyIndex', () => {
  it('agrees with a Map over any sequence of inserts and removes', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => checkAgainstMap(ops)),
      { numRuns: 200 },
    );
  });

  it('finds a key by its content, not by the string instance', () => {
    const index = new KeyIndex(8);
    index.insert(['client', '42'].join('-'), 3);
    assert.equal(index.find('client-42'), 3);
    assert.equal(index.find('client-4'), -1);
    assert.equal(index.find(''), -1);
  });

  it('keeps every key through growth from a tiny table to a hundred thousand keys', () => {
    const n = 100_000;
    const index = new KeyIndex(1);
    let capacity = 1;
    for (let i = 0; i < n; i++) {
      if (i === capacity) {
        capacity *= 2;
        index.growSlots(capacity);
      }
      index.insert(`client-${i}`, i);
    }
    assert.equal(index.size, n);
    for (let i = 0; i < n; i++) assert.equal(index.find(`client-${i}`), i);
    // remove every other key: backward shifting must keep the rest reachable
    for (let i = 0; i < n; i += 2) index.remove(i);
    assert.equal(index.size, n / 2);
    for (let i = 0; i < n; i++) assert.equal(index.find(`client-${i}`), i % 2 === 0 ? -1 : i);
  });

  it('hashes depend on the seed, so keys cannot be aimed at one chain from outside', () => {
    assert.notEqual(hashString('client-1', 1), hashString('client-1', 2));
    assert.equal(hashString('client-1', 7), hashString('client-1', 7));
    assert.notEqual(hashString('ab', 7), hashString('ba', 7));
  });
});
