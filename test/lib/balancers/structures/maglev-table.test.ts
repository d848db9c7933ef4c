import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaglevTable, maglevSize, nextPrime } from '../../../../src/lib/balancers/structures/maglev-table.js';

const entries = (n: number, weight = (_i: number) => 1) =>
  Array.from({ length: n }, (_, i) => ({ index: i, id: `backend-${i}`, weight: weight(i) }));

describe('MaglevTable', () => {
  it('sizes tables as primes of at least 65537 and 20 slots per upstream, stepping by doubling', () => {
    assert.equal(nextPrime(65537), 65537);
    assert.equal(nextPrime(24), 29);
    assert.equal(maglevSize(1), 65537);
    assert.equal(maglevSize(3000), 65537);
    assert.equal(maglevSize(3300), nextPrime(131074));
    assert.ok(maglevSize(100_000) >= 2_000_000);
  });

  it('fills every slot and gives each entry its share to within a slot', () => {
    const t = new MaglevTable(65537);
    t.fill(entries(7));
    const counts = new Array(7).fill(0);
    for (const s of t.slots) counts[s]++;
    for (const c of counts) assert.ok(Math.abs(c - 65537 / 7) <= 1, `count ${c}`);
  });

  it('gives slots in proportion to weight, and at least one to a tiny weight', () => {
    const t = new MaglevTable(65537);
    t.fill(entries(3, (i) => [1, 3, 1e-9][i]));
    const counts = [0, 0, 0];
    for (const s of t.slots) counts[s]++;
    assert.ok(Math.abs(counts[1] / counts[0] - 3) < 0.01, `${counts}`);
    assert.ok(counts[2] >= 1);
  });

  it('keeps nearly every slot of the others when one entry leaves', () => {
    const t = new MaglevTable(65537);
    t.fill(entries(10));
    const before = Int32Array.from(t.slots);
    t.fill(entries(10).filter((e) => e.index !== 4));
    let kept = 0;
    let others = 0;
    for (let s = 0; s < before.length; s++) {
      if (before[s] === 4) continue;
      others++;
      if (t.slots[s] === before[s]) kept++;
    }
    assert.ok(kept / others > 0.97, `kept ${kept / others}`);
  });

  it('is all -1 without entries', () => {
    const t = new MaglevTable(7);
    t.fill([]);
    assert.deepEqual([...t.slots], new Array(7).fill(-1));
  });
});
