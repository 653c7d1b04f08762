/**
 * Two 32-bit hashes of a JS string in ONE pass over its UTF-16 code units (no Buffer, no UTF-8
 * encoding per key), for the double hashing of the Bloom filters. Each step takes two code
 * units as one 32-bit block and mixes it into two independent lanes with MurmurHash3's x86_32
 * block and finalisation steps (Austin Appleby, MurmurHash3, 2011, public domain algorithm;
 * constants of lane 2 from MurmurHash3 x86_128's third and fourth lanes). Not cryptographic.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

/** MurmurHash3 fmix32: full avalanche of a 32-bit state. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hashes `key` into `out[0]` (h1) and `out[1]` (h2), both unsigned 32-bit.
 * Cost: one pass over `key.length` UTF-16 code units, no allocation.
 * @param out a 2-element Uint32Array the caller reuses
 */
export function hashPair(key: string, out: Uint32Array): void {
  let h1 = 0x9747b28c;
  let h2 = 0x5bd1e995;
  const n = key.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const block = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16);
    let k1 = Math.imul(block, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, C2);
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    let k2 = Math.imul(block, C3);
    k2 = (k2 << 17) | (k2 >>> 15);
    h2 ^= Math.imul(k2, C4);
    h2 = (h2 << 15) | (h2 >>> 17);
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;
  }
  if (i < n) {
    const block = key.charCodeAt(i);
    let k1 = Math.imul(block, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, C2);
    let k2 = Math.imul(block, C3);
    k2 = (k2 << 17) | (k2 >>> 15);
    h2 ^= Math.imul(k2, C4);
  }
  out[0] = fmix32(h1 ^ n);
  out[1] = fmix32(h2 ^ n);
}
