/**
 * Bit probes shared by the Bloom filters: the k positions of a key by Kirsch–Mitzenmacher
 * double hashing, g_i(x) = h1(x) + i·h2(x) mod m for i = 0..k-1 (Adam Kirsch and Michael
 * Mitzenmacher, "Less Hashing, Same Performance: Building a Better Bloom Filter", ESA 2006),
 * computed incrementally (one add and one compare per position, no multiplication or modulo
 * after the first). Bits live in 32-bit words of an Int32Array at word index `base`.
 */

/** 2^-32. */
const TWO_POW_MINUS_32 = 2.3283064365386963e-10;

/**
 * First position, h1 mapped onto [0, m) by multiply-shift (Lemire, "Fast Random Integer
 * Generation in an Interval", 2019) instead of a modulo: ⌊h1 · m / 2^32⌋ in float64 (exact
 * enough: the result is always < m), so the probe loop stays in int32 arithmetic.
 * @param h1 unsigned 32-bit hash
 * @param m bits in the filter, ≤ 2^30
 */
export function probeStart(h1: number, m: number): number {
  return Math.floor(h1 * m * TWO_POW_MINUS_32) | 0;
}

/**
 * Second hash as a step in [1, m): a zero step would put all k positions on one bit.
 * @param h2 unsigned 32-bit hash
 * @param m bits in the filter, ≤ 2^30
 */
export function probeStep(h2: number, m: number): number {
  return (Math.floor(h2 * (m - 1) * TWO_POW_MINUS_32) + 1) | 0;
}

/**
 * Sets the k bits of a key. @returns true when all k were already set (the key tested positive).
 * @param words bit words; `base` is the index of the filter's first word
 * @param x first position from {@link probeStart}; `step` from {@link probeStep}
 */
export function testAndSetBits(words: Int32Array, base: number, x: number, step: number, m: number, k: number): boolean {
  // Branch-free: about half the bits of a new key are clear, so a branch would mispredict often.
  let all = 1;
  for (let i = 0; i < k; i++) {
    const w = base + (x >>> 5);
    const v = words[w]!;
    all &= v >>> (x & 31);
    words[w] = v | (1 << (x & 31));
    x += step;
    if (x >= m) x -= m;
  }
  return (all & 1) === 1;
}

/** @returns true when all k bits of the key are set (positive); stops at the first clear bit. */
export function testBits(words: Int32Array, base: number, x: number, step: number, m: number, k: number): boolean {
  for (let i = 0; i < k; i++) {
    if ((words[base + (x >>> 5)]! & (1 << (x & 31))) === 0) return false;
    x += step;
    if (x >= m) x -= m;
  }
  return true;
}

/** Set bits among `count` words from `base` (for the fill ratio). */
export function popcount(words: Int32Array, base: number, count: number): number {
  let total = 0;
  for (let i = base; i < base + count; i++) {
    let v = words[i]!;
    v = v - ((v >>> 1) & 0x55555555);
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    total += Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
  }
  return total;
}
