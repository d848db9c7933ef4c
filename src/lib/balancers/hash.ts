/**
 * 32-bit MurmurHash3 (x86_32) of a string's UTF-16 code units, taken two at a time as one 32-bit
 * block: the same bits as MurmurHash3 over the string's UTF-16LE bytes, without encoding it first.
 * Different seeds give independent hashes of the same text. Returned as a signed 32-bit integer
 * (`>>> 0` gives the unsigned value) because V8 keeps that a small integer across a call, where an
 * unsigned value above 2^31 would be boxed: one allocation per pick.
 */
export function hashString(text: string, seed = 0): number {
  let h = seed | 0;
  const n = text.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < n) {
    let k = text.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}
