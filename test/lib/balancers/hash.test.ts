import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hashString } from '../../../src/lib/balancers/hash.js';

/** MurmurHash3 x86_32 over bytes, straight from the reference, to check the code-unit version against. */
function murmurBytes(bytes: Uint8Array, seed: number): number {
  let h = seed | 0;
  const blocks = bytes.length >> 2;
  for (let b = 0; b < blocks; b++) {
    const o = b * 4;
    let k = bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks * 4;
  const rest = bytes.length & 3;
  if (rest > 0) {
    let k = 0;
    for (let j = rest - 1; j >= 0; j--) k = (k << 8) | bytes[tail + j];
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

describe('hashString', () => {
  // Published MurmurHash3 x86_32 vectors; strings chosen so their UTF-16LE bytes are the test bytes.
  const vectors: [string, string, number, number][] = [
    ['empty', '', 0, 0],
    ['empty, seed 1', '', 1, 0x514e28b7],
    ['empty, seed 0xffffffff', '', 0xffffffff, 0x81f16f39],
    ['four zero bytes', '\u0000\u0000', 0, 0x2362f9de],
    ['"aaaa"', '\u6161\u6161', 0x9747b28c, 0x5a97808a],
  ];
  for (const [what, text, seed, want] of vectors) {
    it(`matches the reference vector: ${what}`, () => assert.equal(hashString(text, seed) >>> 0, want));
  }

  it('property: equals MurmurHash3 over the UTF-16LE bytes, for any string and seed', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.integer(), (text, seed) => {
        assert.equal(
          hashString(text, seed) >>> 0,
          murmurBytes(new Uint8Array(Buffer.from(text, 'utf16le')), seed),
        );
      }),
    );
  });

  it('gives signed 32-bit integers, different per seed', () => {
    const a = hashString('10.0.0.1:443', 1);
    const b = hashString('10.0.0.1:443', 2);
    assert.ok(Number.isInteger(a) && a >= -(2 ** 31) && a < 2 ** 31);
    assert.equal(a | 0, a);
    assert.notEqual(a, b);
  });

  it('spreads similar keys evenly over 64 buckets (within 10% of the mean)', () => {
    const counts = new Array(64).fill(0);
    const n = 64_000;
    for (let i = 0; i < n; i++) counts[(hashString(`192.168.${i >> 8}.${i & 255}`, 7) >>> 0) % 64]++;
    for (const c of counts) assert.ok(Math.abs(c - n / 64) <= 0.1 * (n / 64), `bucket has ${c}`);
  });
});
